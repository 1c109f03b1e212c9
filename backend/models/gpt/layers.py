"""The GPT's post-LN transformer layer, with the official parameter names.

Keys per layer: ``self_attn.in_proj_weight`` (q;k;v stacked), ``self_attn.in_proj_bias``,
``self_attn.out_proj.{weight,bias}``, ``linear1``, ``linear2``, ``norm1``, ``norm2``.
This module is the full-sequence path (training, teacher forcing, the first inference step);
the one-token-at-a-time path with a key/value cache lives in :mod:`.decoding` and uses the
very same tensors.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class SelfAttention(nn.Module):
    """Multi-head self-attention with a packed q/k/v projection (PyTorch ``MultiheadAttention`` layout)."""

    def __init__(self, dim: int, heads: int, dropout: float) -> None:
        super().__init__()
        self.dim = dim
        self.heads = heads
        self.dropout = dropout
        self.in_proj_weight = nn.Parameter(torch.empty(3 * dim, dim))
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * dim))
        self.out_proj = nn.Linear(dim, dim)
        nn.init.xavier_uniform_(self.in_proj_weight)
        nn.init.zeros_(self.out_proj.bias)

    def split_heads(self, t: torch.Tensor) -> torch.Tensor:
        b, s, _ = t.shape
        return t.view(b, s, self.heads, self.dim // self.heads).transpose(1, 2)

    def forward(self, x: torch.Tensor, allowed: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``x`` ``[B,S,C]``; ``allowed`` bool ``[B|1, 1, S, S]`` (True = may attend).

        Returns the projected output and this layer's keys and values ``[B,H,S,d]`` (the
        inference path keeps them as its cache).
        """
        q, k, v = F.linear(x, self.in_proj_weight, self.in_proj_bias).chunk(3, dim=-1)
        q, k, v = self.split_heads(q), self.split_heads(k), self.split_heads(v)
        p = self.dropout if self.training else 0.0
        a = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed, dropout_p=p)
        b, _, s, _ = a.shape
        a = a.transpose(1, 2).reshape(b, s, self.dim)
        return self.out_proj(a), k, v


class TransformerLayer(nn.Module):
    """``x ← LN1(x + Drop(MHA(x)))``, ``x ← LN2(x + Drop(W2·Drop(ReLU(W1·x))))`` (eps 1e-5)."""

    def __init__(self, dim: int, heads: int, ffn_dim: int, dropout: float) -> None:
        super().__init__()
        self.self_attn = SelfAttention(dim, heads, dropout)
        self.linear1 = nn.Linear(dim, ffn_dim)
        self.dropout = nn.Dropout(dropout)
        self.linear2 = nn.Linear(ffn_dim, dim)
        self.norm1 = nn.LayerNorm(dim, eps=1e-5)
        self.norm2 = nn.LayerNorm(dim, eps=1e-5)
        self.dropout1 = nn.Dropout(dropout)
        self.dropout2 = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, allowed: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        a, k, v = self.self_attn(x, allowed)
        x = self.norm1(x + self.dropout1(a))
        x = self.norm2(x + self.dropout2(self.linear2(self.dropout(F.relu(self.linear1(x))))))
        return x, k, v


class TransformerStack(nn.Module):
    """``h.layers.{i}`` — a plain stack, no final norm (post-LN model)."""

    def __init__(self, dim: int, heads: int, ffn_dim: int, n_layers: int, dropout: float) -> None:
        super().__init__()
        self.layers = nn.ModuleList(TransformerLayer(dim, heads, ffn_dim, dropout) for _ in range(n_layers))

    def forward(self, x: torch.Tensor, allowed: torch.Tensor | None) -> torch.Tensor:
        for layer in self.layers:
            x, _, _ = layer(x, allowed)
        return x
