"""GPT (stage 1) dimensions, read from the ``config["model"]`` section stored in every GPT file.

The official trainer writes the whole YAML config into each ``.ckpt``; the architecture is
fully described by its ``model`` section, so a loader must build from it rather than assume
the full-size values (the tiny test model is 2 layers × 64 wide).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Mapping


@dataclass(frozen=True)
class GPTConfig:
    """Shape of a ``Text2SemanticDecoder``; defaults are ``configs/s1longer-v2.yaml``.

    ``linear_units`` is carried only so a config round-trips: the official model ignores it
    and always uses a feed-forward width of ``4 * hidden_dim``. ``dropout`` applies to the
    two token embeddings only; the transformer, attention and positional dropouts are the
    hard-wired ``train_dropout`` (0.1 in the official model, active in training only).
    """

    vocab_size: int = 1025
    phoneme_vocab_size: int = 732
    embedding_dim: int = 512
    hidden_dim: int = 512
    head: int = 16
    n_layer: int = 24
    linear_units: int = 2048
    dropout: float = 0.0
    EOS: int = 1024
    bert_dim: int = 1024
    train_dropout: float = 0.1

    def __post_init__(self) -> None:
        if self.EOS != self.vocab_size - 1:
            raise ValueError(f"EOS ({self.EOS}) must be vocab_size - 1 ({self.vocab_size - 1})")
        if self.hidden_dim % self.head:
            raise ValueError(f"hidden_dim {self.hidden_dim} is not divisible by head {self.head}")
        if self.embedding_dim != self.hidden_dim:
            raise ValueError("embedding_dim must equal hidden_dim (the official model adds them)")

    @property
    def ffn_dim(self) -> int:
        return 4 * self.hidden_dim

    @property
    def head_dim(self) -> int:
        return self.hidden_dim // self.head

    @classmethod
    def from_model_section(cls, model: Mapping[str, Any]) -> "GPTConfig":
        """Build from ``config["model"]`` of a GPT file; unknown keys (``random_bert``…) are ignored."""
        known = {f for f in cls.__dataclass_fields__}
        kwargs = {k: model[k] for k in known if k in model}
        for k in ("vocab_size", "phoneme_vocab_size", "embedding_dim", "hidden_dim", "head",
                  "n_layer", "linear_units", "EOS"):
            if k in kwargs:
                kwargs[k] = int(kwargs[k])
        return cls(**kwargs)

    def model_section(self) -> dict[str, Any]:
        """The ``config["model"]`` dict the official loader expects (plus ``random_bert``)."""
        d = asdict(self)
        d.pop("bert_dim")
        d.pop("train_dropout")
        d["random_bert"] = 0
        return d


#: ``configs/s1longer-v2.yaml`` (v2, v2Pro, v2ProPlus, v3, v4)
S1LONGER_V2 = GPTConfig()
#: ``configs/s1longer.yaml`` (v1): same, phoneme vocabulary 512
S1LONGER_V1 = GPTConfig(phoneme_vocab_size=512)
#: ``configs/s1.yaml``: 12 layers, phoneme vocabulary 512
S1 = GPTConfig(phoneme_vocab_size=512, n_layer=12)
