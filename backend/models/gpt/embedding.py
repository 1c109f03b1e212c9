"""Token embeddings and the learnable-scale sinusoidal positions of the GPT.

Text positions and audio positions are two independent tables that both restart at 0; each
has one learnable scalar ``alpha`` (the only state: the sinusoid table itself is not saved).
"""

from __future__ import annotations

import math

import torch
from torch import nn


class TokenEmbedding(nn.Module):
    """``word_embeddings`` lookup followed by dropout (key ``…word_embeddings.weight``)."""

    def __init__(self, dim: int, vocab: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.word_embeddings = nn.Embedding(vocab, dim)
        self.dropout = nn.Dropout(dropout)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.word_embeddings(ids))


def sine_table(n_positions: int, dim: int) -> torch.Tensor:
    """``pe[p, 2i] = sin(p·w_i)``, ``pe[p, 2i+1] = cos(p·w_i)``, ``w_i = exp(-2i·ln(10000)/dim)``.

    Computed in float32 with the same operation order as the official table, so the values
    are bit-identical to it on the same device.
    """
    cpu = torch.device("cpu")  # explicit: the model may be built under a meta-device context
    pe = torch.zeros(n_positions, dim, device=cpu)
    position = torch.arange(0, n_positions, dtype=torch.float32, device=cpu).unsqueeze(1)
    div_term = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32, device=cpu) * -(math.log(10000.0) / dim))
    pe[:, 0::2] = torch.sin(position * div_term)
    pe[:, 1::2] = torch.cos(position * div_term)
    return pe


class SinePositionalEmbedding(nn.Module):
    """``x + alpha · pe[:T]`` then dropout; the table grows on demand (4000 positions at start)."""

    def __init__(self, dim: int, dropout: float = 0.1, initial_positions: int = 4000) -> None:
        super().__init__()
        self.dim = dim
        self.alpha = nn.Parameter(torch.ones(1))
        self.dropout = nn.Dropout(dropout)
        self._master = sine_table(initial_positions, dim)  # float32, CPU: never rounded
        self._cast: dict[tuple[torch.device, torch.dtype], torch.Tensor] = {}

    def table(self, n_positions: int, like: torch.Tensor) -> torch.Tensor:
        """The first ``n_positions`` rows, on ``like``'s device and dtype (cached per both)."""
        if self._master.shape[0] < n_positions:
            self._master = sine_table(max(n_positions, 2 * self._master.shape[0]), self.dim)
            self._cast.clear()
        key = (like.device, like.dtype)
        pe = self._cast.get(key)
        if pe is None:
            pe = self._cast[key] = self._master.to(device=like.device, dtype=like.dtype)
        return pe[:n_positions]

    def at(self, position: int, like: torch.Tensor) -> torch.Tensor:
        """The scaled encoding of one position, ``alpha · pe[position]`` → ``[dim]``."""
        return self.alpha * self.table(position + 1, like)[position]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` ``[B, T, dim]`` → ``x + alpha·pe[:T]`` (positions start at 0 for every row)."""
        pe = self.table(x.shape[1], x)
        return self.dropout(x + self.alpha * pe.unsqueeze(0))
