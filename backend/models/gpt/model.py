"""``Text2SemanticDecoder``: the GPT that turns phonemes (+ BERT features) into semantic tokens.

Parameter names and shapes are the official ones (the ``.ckpt`` keys minus their ``model.``
prefix), so official weights load strictly. The methods take plain arrays or tensors, the
way the reference vectors store them, and put them on the model's device and dtype.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch
from torch import nn

from .config import GPTConfig
from .decoding import DecodeWeights
from .embedding import SinePositionalEmbedding, TokenEmbedding
from .inference import MAX_STEPS, BatchGeneration, Generation, generate, generate_batch
from .layers import TransformerStack
from .sampling import DrawSource, SamplingParams, exponential_draws
from .training import DPOOutput, TextPadding, TrainOutput, forward_dpo, forward_train

ArrayLike = Any  # numpy array, torch tensor or nested list


class Text2SemanticDecoder(nn.Module):
    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.config = config
        c = config.hidden_dim
        self.bert_proj = nn.Linear(config.bert_dim, c)
        self.ar_text_embedding = TokenEmbedding(c, config.phoneme_vocab_size, config.dropout)
        self.ar_text_position = SinePositionalEmbedding(c, config.train_dropout)
        self.ar_audio_embedding = TokenEmbedding(c, config.vocab_size, config.dropout)
        self.ar_audio_position = SinePositionalEmbedding(c, config.train_dropout)
        self.h = TransformerStack(c, config.head, config.ffn_dim, config.n_layer, config.train_dropout)
        self.ar_predict_layer = nn.Linear(c, config.vocab_size, bias=False)
        self._decode_weights = DecodeWeights()

    # -- inputs -----------------------------------------------------------------------------
    @property
    def device(self) -> torch.device:
        return self.ar_predict_layer.weight.device

    @property
    def dtype(self) -> torch.dtype:
        return self.ar_predict_layer.weight.dtype

    def _ids(self, a: ArrayLike) -> torch.Tensor:
        return torch.as_tensor(np.asarray(a) if not isinstance(a, torch.Tensor) else a).to(self.device, torch.long)

    def _floats(self, a: ArrayLike) -> torch.Tensor:
        t = torch.as_tensor(np.asarray(a) if not isinstance(a, torch.Tensor) else a)
        return t.to(self.device, self.dtype)

    def _check_text(self, phones: torch.Tensor, bert: torch.Tensor) -> None:
        if phones.shape[1] == 0:
            raise ValueError("no phonemes to speak")
        if bert.shape[2] != phones.shape[1]:
            raise ValueError(f"BERT features cover {bert.shape[2]} phonemes, the text has {phones.shape[1]}")
        top = int(phones.max())
        if top >= self.config.phoneme_vocab_size or int(phones.min()) < 0:
            raise ValueError(f"phoneme id {top} outside this GPT's symbol table "
                             f"({self.config.phoneme_vocab_size} symbols: a v1/v2 mix-up?)")

    def embed_text(self, phones: torch.Tensor, bert: torch.Tensor) -> torch.Tensor:
        """``phones`` ``[B,Tx]``, ``bert`` ``[B,1024,Tx]`` → ``[B,Tx,C]`` with text positions from 0."""
        x = self.ar_text_embedding(phones) + self.bert_proj(bert.transpose(1, 2))
        return self.ar_text_position(x)

    def embed_audio(self, codes: torch.Tensor) -> torch.Tensor:
        """``codes`` ``[B,Ty]`` → ``[B,Ty,C]`` with audio positions from 0."""
        return self.ar_audio_position(self.ar_audio_embedding(codes))

    def decode_weights(self) -> DecodeWeights:
        """Weights laid out for cached decoding (rebuilt automatically after any weight change)."""
        return self._decode_weights.get(self.h, self.ar_predict_layer.weight)

    def release_decode_weights(self) -> None:
        """Free the decoding copy of the weights (it is rebuilt on the next generation)."""
        self._decode_weights.release()

    # -- inference --------------------------------------------------------------------------
    def infer(
        self,
        phones: ArrayLike,
        prompt: ArrayLike | None,
        bert: ArrayLike,
        *,
        top_k: int | None = 15,
        top_p: float = 1.0,
        temperature: float = 1.0,
        repetition_penalty: float = 1.35,
        early_stop_num: int = -1,
        draws: DrawSource | None = None,
        generator: torch.Generator | None = None,
        max_steps: int = MAX_STEPS,
        record_logits: bool = False,
    ) -> Generation:
        """Generate semantic tokens for one text (official ``infer_panel``).

        ``phones`` ``[1,Tx]`` or ``[Tx]`` (prompt-text phones followed by target phones),
        ``prompt`` ``[1,Tp]``/``[Tp]`` semantic tokens of the reference or ``None`` (ref-free),
        ``bert`` ``[1,1024,Tx]``/``[1024,Tx]``. ``draws`` replaces the random source of the
        sampler (default: the global torch generator, as official, so ``torch.manual_seed(s)``
        before the call reproduces the official tokens for seed ``s``); ``generator`` draws
        from that generator instead.
        """
        params = SamplingParams(top_k, top_p, temperature, repetition_penalty)
        draws = draws if draws is not None or generator is None else exponential_draws(generator)
        x = self._ids(phones).reshape(1, -1)
        p = None if prompt is None else self._ids(prompt).reshape(1, -1)
        b = self._floats(bert).reshape(1, self.config.bert_dim, -1)
        self._check_text(x, b)
        with torch.inference_mode():
            return generate(self, x, p, b, params, early_stop_num, draws, max_steps, record_logits)

    def infer_batch(
        self,
        phones: Sequence[ArrayLike],
        prompt: ArrayLike | None,
        berts: Sequence[ArrayLike],
        *,
        top_k: int | None = 15,
        top_p: float = 1.0,
        temperature: float = 1.0,
        repetition_penalty: float = 1.35,
        early_stop_num: int = -1,
        draws: DrawSource | None = None,
        generator: torch.Generator | None = None,
        max_len: int | None = None,
        max_steps: int = MAX_STEPS,
    ) -> BatchGeneration:
        """Generate for several texts sharing one prompt (official ``infer_panel_batch_infer``).

        ``phones[i]`` ``[Tx_i]``, ``berts[i]`` ``[1024,Tx_i]``, ``prompt`` ``[Tp]``/``[B,Tp]``;
        ``max_len`` pads the texts to that many positions (official ``max_len``).
        """
        params = SamplingParams(top_k, top_p, temperature, repetition_penalty)
        draws = draws if draws is not None or generator is None else exponential_draws(generator)
        xs = [self._ids(p).reshape(-1) for p in phones]
        bs = [self._floats(b).reshape(self.config.bert_dim, -1) for b in berts]
        for x, b in zip(xs, bs):
            self._check_text(x.reshape(1, -1), b.unsqueeze(0))
        pr = None if prompt is None else self._ids(prompt)
        with torch.inference_mode():
            return generate_batch(self, xs, pr, bs, params, early_stop_num, draws, max_len, max_steps)

    # -- training ---------------------------------------------------------------------------
    def set_train_dropout(self, p: float) -> None:
        """Set the hard-wired training dropouts (official 0.1: positions, attention, residuals, FFN).

        The token-embedding dropout (``config.dropout``) is left alone. ``p=0`` makes a
        training step deterministic, which is how the official training step was recorded.
        """
        for name, module in self.named_modules():
            if isinstance(module, nn.Dropout) and not name.endswith("_embedding.dropout"):
                module.p = p
        for layer in self.h.layers:
            layer.self_attn.dropout = p

    def forward_train(self, phones: ArrayLike, phone_lens: ArrayLike, semantic: ArrayLike,
                      semantic_lens: ArrayLike, bert: ArrayLike,
                      text_padding: TextPadding = "official") -> TrainOutput:
        """Teacher-forced loss/accuracy (official ``forward_old``); see :mod:`.training`."""
        return forward_train(self, self._ids(phones), self._ids(phone_lens), self._ids(semantic),
                             self._ids(semantic_lens), self._floats(bert), text_padding)

    def forward_dpo(self, phones: ArrayLike, phone_lens: ArrayLike, semantic: ArrayLike,
                    semantic_lens: ArrayLike, bert: ArrayLike, *, generator: torch.Generator | None = None,
                    reject: tuple[ArrayLike, ArrayLike] | None = None,
                    text_padding: TextPadding = "official") -> DPOOutput:
        """DPO training loss (official ``forward`` with ``if_dpo``); see :mod:`.training`."""
        rej = None if reject is None else (self._ids(reject[0]), self._ids(reject[1]))
        return forward_dpo(self, self._ids(phones), self._ids(phone_lens), self._ids(semantic),
                           self._ids(semantic_lens), self._floats(bert), generator, rej, text_padding)

    def forward(self, phones: torch.Tensor, phone_lens: torch.Tensor, semantic: torch.Tensor,
                semantic_lens: torch.Tensor, bert: torch.Tensor) -> TrainOutput:
        return self.forward_train(phones, phone_lens, semantic, semantic_lens, bert)
