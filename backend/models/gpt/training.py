"""Teacher-forced training forward of the GPT: summed cross-entropy, top-3 accuracy, DPO.

Targets (official since July 2025): the semantic ids followed by EOS, with padded positions
also EOS — ``[c0 … c_{n-1}, EOS, EOS …]`` (length ``Ty+1``); the audio input is that sequence
without its last element. Logits are read from the **last text position** onwards, so the
last text position predicts ``c0``. The loss sums over every position, padding included.

Text padding: the official model masks text keys with a *left*-padding mask although its
data loader pads phonemes on the *right*; for batches of unequal text lengths that hides the
first real phones of shorter items and shows their pad tokens. ``text_padding="official"``
reproduces this (bit-compatible with the official trainer); ``"right"`` masks the actual pad
positions. Batches of equal lengths (and batch size 1) are unaffected.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import torch
import torch.nn.functional as F

from .masks import pad_mask_left, pad_mask_right, prefix_lm_allowed

if TYPE_CHECKING:
    from .model import Text2SemanticDecoder

TextPadding = Literal["official", "right"]
DPO_BETA = 0.2


@dataclass
class TrainOutput:
    loss: torch.Tensor  # scalar, summed cross-entropy
    acc: float  # top-3 accuracy over non-EOS targets
    logits: torch.Tensor  # [B, Ty+1, vocab]
    targets: torch.Tensor  # [B, Ty+1]


@dataclass
class DPOOutput(TrainOutput):
    reject_logits: torch.Tensor
    reject_targets: torch.Tensor
    reject_y: torch.Tensor
    reject_y_lens: torch.Tensor
    logp_chosen: torch.Tensor  # [B]
    logp_rejected: torch.Tensor  # [B]
    dpo_term: torch.Tensor  # scalar
    ce_loss: torch.Tensor  # scalar


def top_k_accuracy(logits: torch.Tensor, targets: torch.Tensor, ignore_index: int, k: int = 3) -> float:
    """Micro top-k accuracy over all targets except ``ignore_index`` (``logits`` ``[B,T,V]``)."""
    keep = targets != ignore_index
    total = int(keep.sum())
    if total == 0:
        return 0.0
    top = torch.topk(logits.detach(), min(k, logits.shape[-1]), dim=-1).indices
    hit = (top == targets.unsqueeze(-1)).any(-1) & keep
    return int(hit.sum()) / total


def _inputs(model: "Text2SemanticDecoder", x: torch.Tensor, x_lens: torch.Tensor, y: torch.Tensor,
            y_lens: torch.Tensor, bert: torch.Tensor, text_padding: TextPadding
            ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, int]:
    eos = model.config.EOS
    tx = int(x_lens.max())
    ty = int(y_lens.max())
    x = x[:, :tx]
    bert = bert[:, :, :tx]
    y = y[:, :ty]
    text = model.embed_text(x, bert)
    y_pad = pad_mask_right(y_lens, ty)
    codes = y.long() * (~y_pad).long()
    full = F.pad(codes, (0, 1), value=0) + eos * F.pad(y_pad.long(), (0, 1), value=1)
    audio = model.embed_audio(full[:, :-1])
    x_pad = pad_mask_left(x_lens, tx) if text_padding == "official" else pad_mask_right(x_lens, tx)
    key_pad = torch.cat([x_pad, y_pad], dim=1)
    allowed = (prefix_lm_allowed(tx, ty, x.device).unsqueeze(0) & ~key_pad.unsqueeze(1)).unsqueeze(1)
    return torch.cat([text, audio], dim=1), allowed, full, tx


def _logits(model: "Text2SemanticDecoder", xy: torch.Tensor, allowed: torch.Tensor, tx: int) -> torch.Tensor:
    return model.ar_predict_layer(model.h(xy, allowed)[:, tx - 1:])


def forward_train(model: "Text2SemanticDecoder", x, x_lens, y, y_lens, bert,
                  text_padding: TextPadding = "official") -> TrainOutput:
    """Official ``forward_old``: phones ``x`` ``[B,Tx]``, semantic ``y`` ``[B,Ty]``, ``bert`` ``[B,1024,Tx]``."""
    xy, allowed, targets, tx = _inputs(model, x, x_lens, y, y_lens, bert, text_padding)
    logits = _logits(model, xy, allowed, tx)
    loss = F.cross_entropy(logits.transpose(1, 2), targets, reduction="sum")
    return TrainOutput(loss=loss, acc=top_k_accuracy(logits, targets, model.config.EOS), logits=logits,
                       targets=targets)


def make_reject_y(y: torch.Tensor, y_lens: torch.Tensor, generator: torch.Generator | None = None
                  ) -> tuple[torch.Tensor, torch.Tensor]:
    """Corrupted copies of each row for DPO: repeat or drop a random span (50/50).

    Per row, exactly these random calls (so a seed reproduces the official draws):
    ``randint(0, 2, (1,))`` (0 → repeat ``y[a:b]``, 1 → drop it) then
    ``randint(0, len(row), (2,)).sort()`` where ``len(row)`` is the *padded* width. Rows are
    re-padded with 0 to the longest result.
    """
    rows = []
    for b in range(len(y_lens)):
        row = y[b]
        repeat = int(torch.randint(0, 2, (1,), generator=generator)[0]) == 0
        a, c = (int(v) for v in torch.randint(0, len(row), (2,), generator=generator).sort().values)
        rows.append(torch.cat([row[:a], row[a:c], row[a:c], row[c:]]) if repeat else torch.cat([row[:a], row[c:]]))
    lens = [len(r) for r in rows]
    width = max(lens)
    out = torch.stack([F.pad(r, (0, width - len(r)), value=0) for r in rows])
    return out, torch.tensor(lens, device=y_lens.device)


def _sequence_logp(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return torch.gather(logits.log_softmax(-1), 2, targets.unsqueeze(2)).squeeze(2).sum(-1)


def forward_dpo(model: "Text2SemanticDecoder", x, x_lens, y, y_lens, bert,
                generator: torch.Generator | None = None, reject: tuple[torch.Tensor, torch.Tensor] | None = None,
                text_padding: TextPadding = "official") -> DPOOutput:
    """Official DPO ``forward``: CE on the real rows + reference-free DPO (β 0.2) against corrupted rows.

    ``logp`` sums log-probabilities over every target position (padding included), as official.
    ``reject`` = ``(reject_y, reject_y_lens)`` to supply the corrupted rows instead of drawing them.
    """
    reject_y, reject_lens = reject if reject is not None else make_reject_y(y, y_lens, generator)
    xy, allowed, targets, tx = _inputs(model, x, x_lens, y, y_lens, bert, text_padding)
    logits = _logits(model, xy, allowed, tx)
    rxy, rallowed, rtargets, _ = _inputs(model, x, x_lens, reject_y, reject_lens, bert, text_padding)
    rlogits = _logits(model, rxy, rallowed, tx)
    ce = F.cross_entropy(logits.transpose(1, 2), targets, reduction="sum")
    lp_c = _sequence_logp(logits, targets)
    lp_r = _sequence_logp(rlogits, rtargets)
    dpo = (-F.logsigmoid(DPO_BETA * (lp_c - lp_r))).mean()
    return DPOOutput(loss=ce + dpo, acc=top_k_accuracy(logits, targets, model.config.EOS), logits=logits,
                     targets=targets, reject_logits=rlogits, reject_targets=rtargets, reject_y=reject_y,
                     reject_y_lens=reject_lens, logp_chosen=lp_c, logp_rejected=lp_r, dpo_term=dpo, ce_loss=ce)
