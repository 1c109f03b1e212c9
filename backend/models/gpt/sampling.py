"""The official next-token sampler, step for step, with a pluggable source of random numbers.

Order per step on logits ``[B, V]``: repetition penalty over every earlier token of the row
(prompt included; applied **in place**, so the EOS-argmax stop rule sees penalised logits),
top-p on the untempered logits, temperature, top-k (ties kept), softmax, then the
"exponential race" ``argmax(p / q)`` with ``q ~ Exp(1)`` — one draw of shape ``[B, V]`` per
step and no other randomness. Because the draw is the only random call, passing the draws a
run recorded replays that run exactly (:class:`RecordedDraws`); by default they come from a
torch generator (the global one, so ``torch.manual_seed`` reproduces the official tokens).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol, Sequence

import numpy as np
import torch


@dataclass(frozen=True)
class SamplingParams:
    """``top_k`` ``None``/``≤0`` disables top-k; ``top_p`` 1.0 disables top-p; defaults are the UI's."""

    top_k: int | None = 15
    top_p: float = 1.0
    temperature: float = 1.0
    repetition_penalty: float = 1.35


class DrawSource(Protocol):
    """Returns the ``Exp(1)`` tensor for one step, shape ``(rows, vocab)``."""

    def __call__(self, shape: tuple[int, int], dtype: torch.dtype, device: torch.device) -> torch.Tensor: ...


def exponential_draws(generator: torch.Generator | None = None) -> DrawSource:
    """Fresh ``Exp(1)`` draws from ``generator`` (the global generator when ``None``)."""

    def draw(shape: tuple[int, int], dtype: torch.dtype, device: torch.device) -> torch.Tensor:
        return torch.empty(shape, dtype=dtype, device=device).exponential_(1, generator=generator)

    return draw


class RecordedDraws:
    """Replays recorded draws: one array per step, each at least ``(rows, vocab)``.

    Arrays may be wider than the step needs (the vectors store 1025 columns with NaN in the
    last one for steps where EOS was excluded); the leading ``rows × vocab`` block is used.
    """

    def __init__(self, steps: Sequence[np.ndarray | torch.Tensor] | np.ndarray | torch.Tensor) -> None:
        self._steps = list(steps)
        self.used = 0

    def __call__(self, shape: tuple[int, int], dtype: torch.dtype, device: torch.device) -> torch.Tensor:
        if self.used >= len(self._steps):
            raise IndexError(f"only {len(self._steps)} recorded draws, step {self.used + 1} asked for one")
        step = torch.as_tensor(np.asarray(self._steps[self.used]))
        self.used += 1
        rows, vocab = shape
        return step[:rows, :vocab].to(device=device, dtype=dtype)


def penalize_repeats_(logits: torch.Tensor, previous: torch.Tensor, penalty: float) -> None:
    """In place: logits of tokens in ``previous`` (row-wise) ×penalty if negative, ÷penalty otherwise."""
    if penalty == 1.0 or previous.shape[1] == 0:
        return
    previous = previous.long()
    score = torch.gather(logits, 1, previous)
    score = torch.where(score < 0, score * penalty, score / penalty)
    logits.scatter_(1, previous, score)


def logits_to_probs(logits: torch.Tensor, previous: torch.Tensor | None, params: SamplingParams) -> torch.Tensor:
    """Steps 1–5 of the sampler. ``logits`` is modified in place by the repetition penalty."""
    if previous is not None:
        penalize_repeats_(logits, previous, params.repetition_penalty)
    x = logits
    if params.top_p is not None and params.top_p < 1.0:
        sorted_logits, sorted_idx = torch.sort(x, descending=True)
        cum = torch.cumsum(torch.softmax(sorted_logits, dim=-1), dim=-1)
        remove_sorted = cum > params.top_p
        remove_sorted[:, 0] = False
        remove = remove_sorted.scatter(1, sorted_idx, remove_sorted)
        x = x.masked_fill(remove, float("-inf"))
    x = x / max(params.temperature, 1e-5)
    if params.top_k is not None and params.top_k > 0:
        pivot = torch.topk(x, min(params.top_k, x.shape[-1])).values[:, -1:]
        x = torch.where(x < pivot, float("-inf"), x)
    return torch.softmax(x, dim=-1)


def sample(
    logits: torch.Tensor,
    previous: torch.Tensor | None,
    params: SamplingParams,
    draw: DrawSource | Callable[..., torch.Tensor],
) -> torch.Tensor:
    """One token per row, ``[B, 1]`` int64. Penalises ``logits`` in place (see module doc)."""
    probs = logits_to_probs(logits, previous, params)
    q = draw(tuple(probs.shape), probs.dtype, probs.device)
    return torch.argmax(probs / q, dim=-1, keepdim=True)
