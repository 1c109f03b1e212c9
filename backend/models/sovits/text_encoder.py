"""Prior encoder ``enc_p``: quantised content + phonemes (+ speaker) → prior mean/log-scale.

Content frames and phonemes each go through a relative-attention encoder, are fused by MRTE
(content queries attend to the phonemes, plus the global speaker vector), refined by a third
encoder and projected to the prior statistics ``m_p``/``logs_p`` the flow inverts.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .attention import Encoder, RelativeMultiHeadAttention
from .layers import frames_mask


class MRTE(nn.Module):
    """Multi-reference timbre encoder: cross attention of content over text, plus ``ge``.

    Widths are explicit: the official full-size model hard-codes content/out 192 and a 512-wide
    stream (which is also why Pro models project their 1024-d speaker vector to 512 first).
    """

    def __init__(self, content_channels: int = 192, hidden: int = 512, out_channels: int = 192,
                 n_heads: int = 4) -> None:
        super().__init__()
        self.cross_attention = RelativeMultiHeadAttention(hidden, hidden, n_heads)
        self.c_pre = nn.Conv1d(content_channels, hidden, 1)
        self.text_pre = nn.Conv1d(content_channels, hidden, 1)
        self.c_post = nn.Conv1d(hidden, out_channels, 1)

    def forward(self, ssl: torch.Tensor, ssl_mask: torch.Tensor, text: torch.Tensor, text_mask: torch.Tensor,
                ge: torch.Tensor) -> torch.Tensor:
        attn_mask = text_mask.unsqueeze(2) * ssl_mask.unsqueeze(-1)
        s = self.c_pre(ssl * ssl_mask)
        t = self.text_pre(text * text_mask)
        x = self.cross_attention(s * ssl_mask, t * text_mask, attn_mask) + s + ge
        return self.c_post(x * ssl_mask)


class TextEncoder(nn.Module):
    def __init__(self, out_channels: int, hidden: int, filter_channels: int, n_heads: int, n_layers: int,
                 kernel_size: int, p_dropout: float, n_symbols: int, mrte_hidden: int,
                 ssl_dim: int = 768) -> None:
        super().__init__()
        self.out_channels = out_channels
        self.ssl_proj = nn.Conv1d(ssl_dim, hidden, 1)
        self.encoder_ssl = Encoder(hidden, filter_channels, n_heads, n_layers // 2, kernel_size, p_dropout)
        self.encoder_text = Encoder(hidden, filter_channels, n_heads, n_layers, kernel_size, p_dropout)
        self.text_embedding = nn.Embedding(n_symbols, hidden)
        self.mrte = MRTE(hidden, mrte_hidden, hidden)
        self.encoder2 = Encoder(hidden, filter_channels, n_heads, n_layers // 2, kernel_size, p_dropout)
        self.proj = nn.Conv1d(hidden, out_channels * 2, 1)

    def forward(self, y: torch.Tensor, y_lengths: torch.Tensor, text: torch.Tensor, text_lengths: torch.Tensor,
                ge: torch.Tensor, speed: float = 1.0):
        """Returns ``(x, m, logs, y_mask)``; with ``speed != 1`` all four are resampled in time."""
        y_mask = frames_mask(y_lengths, y.size(2), y.dtype)
        y = self.ssl_proj(y * y_mask) * y_mask
        y = self.encoder_ssl(y * y_mask, y_mask)
        text_mask = frames_mask(text_lengths, text.size(1), y.dtype)
        t = self.text_embedding(text).transpose(1, 2)
        t = self.encoder_text(t * text_mask, text_mask)
        y = self.mrte(y, y_mask, t, text_mask, ge)
        y = self.encoder2(y * y_mask, y_mask)
        if speed != 1:
            frames = int(y.shape[-1] / speed) + 1
            y = F.interpolate(y, size=frames, mode="linear")
            y_mask = F.interpolate(y_mask, size=frames, mode="nearest")
        stats = self.proj(y) * y_mask
        m, logs = torch.split(stats, self.out_channels, dim=1)
        return y, m, logs, y_mask
