"""``ref_enc``: the reference (timbre) encoder, linear spectrogram → global speaker vector ``ge``."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class LinearNorm(nn.Module):
    def __init__(self, in_dim: int, out_dim: int) -> None:
        super().__init__()
        self.fc = nn.Linear(in_dim, out_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x)


class Mish(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.mish(x)


class ConvNorm(nn.Module):
    def __init__(self, in_ch: int, out_ch: int, kernel_size: int) -> None:
        super().__init__()
        self.conv = nn.Conv1d(in_ch, out_ch, kernel_size, padding=(kernel_size - 1) // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


class Conv1dGLU(nn.Module):
    """Conv → gated linear unit → residual add."""

    def __init__(self, channels: int, kernel_size: int, dropout: float) -> None:
        super().__init__()
        self.channels = channels
        self.conv1 = ConvNorm(channels, 2 * channels, kernel_size)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a, b = torch.split(self.conv1(x), self.channels, dim=1)
        return x + self.dropout(a * torch.sigmoid(b))


class StyleAttention(nn.Module):
    """Self-attention of the reference encoder: Linear projections, −inf masking, √d_model scale."""

    def __init__(self, n_heads: int, d_model: int, dropout: float) -> None:
        super().__init__()
        self.n_heads = n_heads
        self.d_head = d_model // n_heads
        self.temperature = math.sqrt(d_model)
        self.w_qs = nn.Linear(d_model, d_model)
        self.w_ks = nn.Linear(d_model, d_model)
        self.w_vs = nn.Linear(d_model, d_model)
        self.fc = nn.Linear(d_model, d_model)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, pad: torch.Tensor | None) -> torch.Tensor:
        """``x`` ``[B, T, C]``; ``pad`` ``[B, T]`` True on padded frames."""
        b, t, _ = x.shape
        h, d = self.n_heads, self.d_head
        q = self.w_qs(x).view(b, t, h, d).transpose(1, 2)
        k = self.w_ks(x).view(b, t, h, d).transpose(1, 2)
        v = self.w_vs(x).view(b, t, h, d).transpose(1, 2)
        scores = torch.matmul(q, k.transpose(2, 3)) / self.temperature
        if pad is not None:
            scores = scores.masked_fill(pad[:, None, None, :], float("-inf"))
        p = self.dropout(torch.softmax(scores, dim=-1))
        out = torch.matmul(p, v).transpose(1, 2).reshape(b, t, h * d)
        return self.dropout(self.fc(out)) + x


class MelStyleEncoder(nn.Module):
    def __init__(self, n_in: int = 704, hidden: int = 128, out_dim: int = 512, kernel_size: int = 5,
                 n_heads: int = 2, dropout: float = 0.1) -> None:
        super().__init__()
        self.spectral = nn.Sequential(LinearNorm(n_in, hidden), Mish(), nn.Dropout(dropout),
                                      LinearNorm(hidden, hidden), Mish(), nn.Dropout(dropout))
        self.temporal = nn.Sequential(Conv1dGLU(hidden, kernel_size, dropout), Conv1dGLU(hidden, kernel_size, dropout))
        self.slf_attn = StyleAttention(n_heads, hidden, dropout)
        self.fc = LinearNorm(hidden, out_dim)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """``x`` ``[B, n_in, T]``, ``mask`` ``[B, 1, T]`` (1 = valid) → ``[B, out_dim, 1]``."""
        pad = (mask.squeeze(1) == 0) if mask is not None else None
        x = self.spectral(x.transpose(1, 2))
        x = self.temporal(x.transpose(1, 2)).transpose(1, 2)
        if pad is not None:
            x = x.masked_fill(pad.unsqueeze(-1), 0)
        x = self.fc(self.slf_attn(x, pad))
        if pad is None:
            w = x.mean(dim=1)
        else:
            valid = (~pad).sum(dim=1, keepdim=True)
            w = (x.masked_fill(pad.unsqueeze(-1), 0).float().sum(dim=1) / valid).to(x.dtype)
        return w.unsqueeze(-1)
