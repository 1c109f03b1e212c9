"""Autoregressive generation of semantic tokens: one sequence, or a batch sharing one prompt.

Semantics follow the official ``infer_panel`` / ``infer_panel_batch_infer`` exactly, since
the recorded outputs and every downstream length depend on them:

* step 0 runs ``[text ; prompt]`` under the prefix-LM mask; later steps feed one token, at
  audio position ``prompt_len + idx`` (``idx`` = the step that sampled it);
* while ``idx < 11`` the EOS column is dropped, so at least 11 tokens are generated;
* stop when the sampled token **or** the argmax of the (penalised) logits is EOS — the last
  appended token is then removed even if it was not EOS; stop when more than
  ``early_stop_num`` tokens were generated (single sequence: the last token is kept; batch:
  removed, as official); stop at the 1500-step cap;
* the returned ``idx`` is the step index at the stop (0 in ref-free mode); the official
  pipeline feeds SoVITS with ``tokens[:, -idx:]`` (see :attr:`Generation.decoder_tokens`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Sequence

import torch
import torch.nn.functional as F

from .decoding import KVCache, decode_step, prefill
from .masks import pad_mask_left, prefix_lm_allowed
from .sampling import DrawSource, SamplingParams, exponential_draws, sample

if TYPE_CHECKING:
    from .model import Text2SemanticDecoder

MAX_STEPS = 1500
MIN_TOKENS_BEFORE_EOS = 11


@dataclass
class Generation:
    """Result of one sequence. ``tokens`` ``[1, prompt_len + n]`` int64 = the official ``y``."""

    tokens: torch.Tensor
    idx: int
    prompt_len: int
    stop: str  # "eos" | "early_stop" | "max_steps"
    steps: int
    step_logits: torch.Tensor | None = None  # [steps, 1, vocab] raw predictor output

    @property
    def generated(self) -> torch.Tensor:
        """The new tokens only (prompt removed), 1-D."""
        return self.tokens[0, self.prompt_len:]

    @property
    def decoder_tokens(self) -> torch.Tensor:
        """``tokens[:, -idx:]`` — what the official pipeline hands to SoVITS (whole ``y`` when idx is 0)."""
        return self.tokens[:, -self.idx:] if self.idx else self.tokens


@dataclass
class BatchGeneration:
    """Per item: ``tokens[i]`` 1-D (prompt ++ generated) and the official ``idx[i]``."""

    tokens: list[torch.Tensor]
    idx: list[int]
    prompt_len: int
    steps: int = 0
    stops: list[str] = field(default_factory=list)

    def generated(self, i: int) -> torch.Tensor:
        return self.tokens[i][self.prompt_len:]


def _audio_input(model: "Text2SemanticDecoder", token: torch.Tensor, position: int) -> torch.Tensor:
    """Embedding of the tokens ``[B,1]`` plus ``alpha·pe[position]`` → ``[B, C]``."""
    emb = model.ar_audio_embedding(token)[:, 0]
    return emb + model.ar_audio_position.at(position, emb)


@torch.inference_mode()
def generate(
    model: "Text2SemanticDecoder",
    phones: torch.Tensor,
    prompt: torch.Tensor | None,
    bert: torch.Tensor,
    params: SamplingParams,
    early_stop_num: int = -1,
    draws: DrawSource | None = None,
    max_steps: int = MAX_STEPS,
    record_logits: bool = False,
    on_token: Callable[[int], None] | None = None,
) -> Generation:
    """Generate for one item. ``phones`` ``[1,Tx]``, ``prompt`` ``[1,Tp]`` or ``None``, ``bert`` ``[1,1024,Tx]``.

    ``on_token`` receives each kept token as it is drawn (streaming callers decode audio before
    the piece ends); the returned tokens are the authoritative result."""
    cfg = model.config
    eos = cfg.EOS
    draw = draws if draws is not None else exponential_draws()
    text = model.embed_text(phones, bert)
    tx = text.shape[1]
    if prompt is None:
        tp = 0
        xy = text
    else:
        tp = prompt.shape[1]
        xy = torch.cat([text, model.embed_audio(prompt)], dim=1)
    s = xy.shape[1]
    allowed = prefix_lm_allowed(tx, tp, xy.device)
    cache = KVCache(cfg.n_layer, 1, cfg.head, cfg.head_dim, s + min(max_steps, 256), xy.device, xy.dtype)
    weights = model.decode_weights()

    buf = torch.zeros(1, tp + max_steps + 1, dtype=torch.long, device=xy.device)
    if tp:
        buf[:, :tp] = prompt
    n = tp
    recorded: list[torch.Tensor] = []
    stop = "max_steps"
    idx = 0
    x_in = None
    for idx in range(max_steps):
        if idx == 0:
            h = prefill(model.h, xy, allowed, cache)[:, -1]
        else:
            h = decode_step(weights, cfg.head, x_in, cache)
        logits = weights.predict(h)
        if record_logits:
            recorded.append(logits.detach().clone())
        if idx < MIN_TOKENS_BEFORE_EOS:
            logits = logits[:, :-1]
        token = sample(logits, buf[:, :n], params, draw)
        buf[:, n] = token[:, 0]
        n += 1
        stopping = False
        if early_stop_num != -1 and n - tp > early_stop_num:
            stop, stopping = "early_stop", True
        if int(logits.argmax(dim=-1)[0]) == eos or int(token[0, 0]) == eos:
            stop, stopping = "eos", True
            n -= 1
        if stopping:
            break
        if on_token is not None:
            on_token(int(token[0, 0]))
        x_in = _audio_input(model, token, tp + idx)
    y = buf[:, :n].clone()
    if y.shape[1] == 0:
        y = torch.zeros(1, 1, dtype=torch.long, device=y.device)
    step_logits = torch.stack(recorded) if record_logits else None
    return Generation(tokens=y, idx=0 if prompt is None else idx, prompt_len=tp, stop=stop,
                      steps=idx + 1, step_logits=step_logits)


@torch.inference_mode()
def generate_batch(
    model: "Text2SemanticDecoder",
    phones: Sequence[torch.Tensor],
    prompt: torch.Tensor | None,
    berts: Sequence[torch.Tensor],
    params: SamplingParams,
    early_stop_num: int = -1,
    draws: DrawSource | None = None,
    max_len: int | None = None,
    max_steps: int = MAX_STEPS,
) -> BatchGeneration:
    """Generate for several texts at once. ``phones[i]`` ``[Tx_i]``, ``berts[i]`` ``[1024, Tx_i]``,
    ``prompt`` ``[Tp]``/``[1,Tp]``/``[B,Tp]`` (the same prompt for every item) or ``None``.

    Each text is embedded with its own positions from 0, then **left**-padded with zero
    vectors to ``max_len`` (default: the longest); padded keys are masked for every query.
    Finished rows leave the batch (and the cache). Without a prompt the official code falls
    back to one sequence at a time, and so do we.
    """
    if len(phones) != len(berts):
        raise ValueError(f"{len(phones)} phone sequences but {len(berts)} BERT feature blocks")
    if prompt is None:
        gens = [generate(model, p.reshape(1, -1), None, b.unsqueeze(0), params, early_stop_num, draws, max_steps)
                for p, b in zip(phones, berts)]
        return BatchGeneration(tokens=[g.tokens[0] for g in gens], idx=[g.idx for g in gens], prompt_len=0,
                               steps=sum(g.steps for g in gens), stops=[g.stop for g in gens])
    cfg = model.config
    eos = cfg.EOS
    draw = draws if draws is not None else exponential_draws()
    bsz = len(phones)
    texts = [model.embed_text(p.reshape(1, -1), b.unsqueeze(0))[0] for p, b in zip(phones, berts)]
    lengths = [t.shape[0] for t in texts]
    width = max(lengths) if max_len is None else int(max_len)
    if width < max(lengths):
        raise ValueError(f"max_len {width} is shorter than the longest text ({max(lengths)} phones)")
    x = torch.stack([F.pad(t, (0, 0, width - t.shape[0], 0)) for t in texts])
    y = prompt.reshape(-1, prompt.shape[-1]).expand(bsz, -1).long()
    tp = y.shape[1]
    xy = torch.cat([x, model.embed_audio(y)], dim=1)
    s = xy.shape[1]
    device = xy.device
    x_lens = torch.tensor(lengths, device=device)
    key_pad = torch.cat([pad_mask_left(x_lens, width), torch.zeros(bsz, tp, dtype=torch.bool, device=device)], 1)
    any_pad = bool(key_pad.any())
    allowed = (prefix_lm_allowed(width, tp, device).unsqueeze(0) & ~key_pad.unsqueeze(1)).unsqueeze(1)
    key_ok = ~key_pad  # [B, S], extended with True per generated position

    cache = KVCache(cfg.n_layer, bsz, cfg.head, cfg.head_dim, s + min(max_steps, 256), device, xy.dtype)
    weights = model.decode_weights()
    y_out: list[torch.Tensor | None] = [None] * bsz
    idx_out: list[int | None] = [None] * bsz
    stops: list[str] = [""] * bsz
    rows = list(range(bsz))  # original item index of each active row
    x_in = None
    idx = 0
    for idx in range(max_steps):
        if idx == 0:
            h = prefill(model.h, xy, allowed, cache)[:, -1]
        else:
            mask = None
            if any_pad:
                mask = F.pad(key_ok, (0, cache.length + 1 - key_ok.shape[1]), value=True)[:, None, None, :]
            h = decode_step(weights, cfg.head, x_in, cache, mask)
        logits = weights.predict(h)
        if idx < MIN_TOKENS_BEFORE_EOS:
            logits = logits[:, :-1]
        token = sample(logits, y, params, draw)
        y = torch.cat([y, token], dim=1)
        finished = (token[:, 0] == eos) | (logits.argmax(dim=-1) == eos)
        if bool(finished.any()):
            for i in torch.nonzero(finished).flatten().tolist():
                y_out[rows[i]] = y[i, :-1].clone()
                idx_out[rows[i]] = idx
                stops[rows[i]] = "eos"
            keep = torch.nonzero(~finished).flatten()
            rows = [rows[i] for i in keep.tolist()]
            y = y.index_select(0, keep)
            token = token.index_select(0, keep)
            key_ok = key_ok.index_select(0, keep)
            cache.keep_rows(keep)
        capped = idx == max_steps - 1
        if (early_stop_num != -1 and y.shape[1] - tp > early_stop_num) or capped:
            for i, item in enumerate(rows):
                y_out[item] = y[i, :-1].clone()
                idx_out[item] = idx
                stops[item] = "max_steps" if capped else "early_stop"
            rows = []
        if not rows:
            break
        x_in = _audio_input(model, token, tp + idx)
    tokens = [t if t is not None else torch.zeros(1, dtype=torch.long, device=device) for t in y_out]
    return BatchGeneration(tokens=tokens, idx=[int(i) if i is not None else max_steps - 1 for i in idx_out],
                           prompt_len=tp, steps=idx + 1, stops=stops)
