"""Transformer pieces of the SoVITS text encoder: relative-position attention, FFN, encoder.

Relative positions follow the VITS/Shaw scheme with a window of 4: only the 9 offsets
−4…+4 carry an embedding (``emb_rel_k``/``emb_rel_v``, shared by all heads), all others are
zero. Instead of padding those 9 rows to 2T−1 offsets and shuffling the score matrix between
relative and absolute layouts, we gather the 9 relative logits straight into a banded
``[T, T]`` matrix — the same sums without the O(T²·d) detour.
"""

from __future__ import annotations

import math
from functools import lru_cache

import torch
import torch.nn.functional as F
from torch import nn

from .layers import ChannelLayerNorm

MASK_VALUE = -1e4  # the official masked score (not −inf)


@lru_cache(maxsize=64)
def _band(length: int, window: int, device: str) -> _Band:
    """Cached per length: every layer of every encoder call with this length shares the indices.

    Built outside inference mode, so indices first made during ``decode`` still serve a training
    pass (autograd keeps gather indices for the backward pass).
    """
    with torch.inference_mode(False):
        return _Band(length, window, torch.device(device))


class _Band:
    """Index tensors mapping a window of relative offsets onto a ``[T, T]`` score matrix."""

    def __init__(self, length: int, window: int, device: torch.device) -> None:
        i = torch.arange(length, device=device)
        rel = i[None, :] - i[:, None] + window  # [T, T] offset index j - i + w
        self.valid = (rel >= 0) & (rel <= 2 * window)
        self.rel_index = rel.clamp(0, 2 * window)
        # for the value side: column j = i + r - w of row i, in a row padded by w on both sides
        r = torch.arange(2 * window + 1, device=device)
        self.abs_index = i[:, None] + r[None, :]  # [T, 2w+1] into [T + 2w]


class RelativeMultiHeadAttention(nn.Module):
    """Multi-head attention with 1×1-conv projections; optional windowed relative positions."""

    def __init__(self, channels: int, out_channels: int, n_heads: int, p_dropout: float = 0.0,
                 window_size: int | None = None) -> None:
        super().__init__()
        assert channels % n_heads == 0
        self.n_heads = n_heads
        self.head_dim = channels // n_heads
        self.window_size = window_size
        self.conv_q = nn.Conv1d(channels, channels, 1)
        self.conv_k = nn.Conv1d(channels, channels, 1)
        self.conv_v = nn.Conv1d(channels, channels, 1)
        self.conv_o = nn.Conv1d(channels, out_channels, 1)
        self.drop = nn.Dropout(p_dropout)
        if window_size is not None:
            std = self.head_dim ** -0.5
            self.emb_rel_k = nn.Parameter(torch.randn(1, 2 * window_size + 1, self.head_dim) * std)
            self.emb_rel_v = nn.Parameter(torch.randn(1, 2 * window_size + 1, self.head_dim) * std)
        if self.conv_q.weight.device.type != "meta":
            for conv in (self.conv_q, self.conv_k, self.conv_v):
                nn.init.xavier_uniform_(conv.weight)

    def forward(self, x: torch.Tensor, c: torch.Tensor, attn_mask: torch.Tensor | None) -> torch.Tensor:
        """``x`` queries ``[B, C, Tq]``, ``c`` keys/values ``[B, C, Tk]``; mask ``[B, 1, Tq, Tk]``."""
        b, _, tq = x.shape
        tk = c.shape[2]
        h, d = self.n_heads, self.head_dim
        q = self.conv_q(x).view(b, h, d, tq).transpose(2, 3) / math.sqrt(d)
        k = self.conv_k(c).view(b, h, d, tk)
        v = self.conv_v(c).view(b, h, d, tk).transpose(2, 3)
        scores = torch.matmul(q, k)
        band = None
        if self.window_size is not None:
            assert tq == tk, "relative attention is self-attention"
            band = _band(tq, self.window_size, str(x.device))
            rel_logits = torch.matmul(q, self.emb_rel_k[0].transpose(0, 1))  # [B,H,T,2w+1]
            local = torch.gather(rel_logits, 3, band.rel_index.expand(b, h, tq, tq))
            scores = scores + local.masked_fill(~band.valid, 0.0)
        if attn_mask is not None:
            scores = scores.masked_fill(attn_mask == 0, MASK_VALUE)
        p = self.drop(torch.softmax(scores, dim=-1))
        out = torch.matmul(p, v)
        if band is not None:
            w = self.window_size
            padded = F.pad(p, (w, w))
            rel_w = torch.gather(padded, 3, band.abs_index.expand(b, h, tq, 2 * w + 1))
            out = out + torch.matmul(rel_w, self.emb_rel_v[0])
        out = out.transpose(2, 3).reshape(b, h * d, tq)
        return self.conv_o(out)


class FFN(nn.Module):
    """Two "same"-padded convolutions with ReLU, masked before each conv and at the end."""

    def __init__(self, channels: int, out_channels: int, filter_channels: int, kernel_size: int,
                 p_dropout: float = 0.0) -> None:
        super().__init__()
        self.pad = ((kernel_size - 1) // 2, kernel_size // 2)
        self.conv_1 = nn.Conv1d(channels, filter_channels, kernel_size)
        self.conv_2 = nn.Conv1d(filter_channels, out_channels, kernel_size)
        self.drop = nn.Dropout(p_dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = self.conv_1(F.pad(x * mask, self.pad))
        x = self.drop(torch.relu(x))
        x = self.conv_2(F.pad(x * mask, self.pad))
        return x * mask


class Encoder(nn.Module):
    """Post-LN transformer encoder over ``[B, C, T]`` (windowed relative attention)."""

    def __init__(self, hidden: int, filter_channels: int, n_heads: int, n_layers: int, kernel_size: int = 1,
                 p_dropout: float = 0.0, window_size: int = 4) -> None:
        super().__init__()
        self.attn_layers = nn.ModuleList()
        self.norm_layers_1 = nn.ModuleList()
        self.ffn_layers = nn.ModuleList()
        self.norm_layers_2 = nn.ModuleList()
        for _ in range(n_layers):
            self.attn_layers.append(RelativeMultiHeadAttention(hidden, hidden, n_heads, p_dropout, window_size))
            self.norm_layers_1.append(ChannelLayerNorm(hidden))
            self.ffn_layers.append(FFN(hidden, hidden, filter_channels, kernel_size, p_dropout))
            self.norm_layers_2.append(ChannelLayerNorm(hidden))
        self.drop = nn.Dropout(p_dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        attn_mask = mask.unsqueeze(2) * mask.unsqueeze(-1)
        x = x * mask
        for attn, n1, ffn, n2 in zip(self.attn_layers, self.norm_layers_1, self.ffn_layers, self.norm_layers_2):
            x = n1(x + self.drop(attn(x, x, attn_mask)))
            x = n2(x + self.drop(ffn(x, mask)))
        return x * mask
