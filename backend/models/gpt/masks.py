"""Attention structure of the GPT: a prefix LM over ``[text ; audio]``.

All masks here are boolean with **True = may attend** (the convention of
``F.scaled_dot_product_attention``); padding masks are True at padded positions.
"""

from __future__ import annotations

import torch


def prefix_lm_allowed(text_len: int, audio_len: int, device: torch.device | str | None = None) -> torch.Tensor:
    """``[S, S]`` with S = text_len + audio_len.

    Text queries see every text key and no audio key (bidirectional text); audio queries see
    every text key and the audio keys at or before their own position (causal audio).
    """
    s = text_len + audio_len
    allowed = torch.zeros(s, s, dtype=torch.bool, device=device)
    allowed[:, :text_len] = True
    allowed[text_len:, text_len:] = torch.ones(audio_len, audio_len, dtype=torch.bool, device=device).tril()
    return allowed


def pad_mask_right(lengths: torch.Tensor, max_len: int) -> torch.Tensor:
    """``[B, max_len]``, True where ``position >= length`` (content on the left)."""
    pos = torch.arange(max_len, device=lengths.device)
    return pos.unsqueeze(0) >= lengths.unsqueeze(1)


def pad_mask_left(lengths: torch.Tensor, max_len: int) -> torch.Tensor:
    """``[B, max_len]``, True where ``position < max_len - length`` (content on the right)."""
    pos = torch.arange(max_len, device=lengths.device)
    return pos.unsqueeze(0) < (max_len - lengths).unsqueeze(1)
