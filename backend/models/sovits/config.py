"""SoVITS hyper-parameters: the official ``config["model"]`` fields plus what the version implies."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

VERSIONS = ("v1", "v2", "v2Pro", "v2ProPlus")
PRO_VERSIONS = ("v2Pro", "v2ProPlus")
N_SYMBOLS = {"v1": 322, "v2": 732, "v2Pro": 732, "v2ProPlus": 732}


@dataclass(frozen=True)
class SoVITSConfig:
    """Constructor parameters of the SoVITS synthesizer (defaults = official ``s2.json``, v2).

    ``mrte_hidden`` / ``n_symbols`` / ``ref_in`` are derived from the version unless given
    (or read from weight shapes by :meth:`adapt_to_weights`): the official code hard-codes the
    MRTE width at 512, while narrow test models use ``gin_channels``.
    """

    version: str = "v2"
    spec_channels: int = 1025
    segment_size: int = 32
    inter_channels: int = 192
    hidden_channels: int = 192
    filter_channels: int = 768
    n_heads: int = 2
    n_layers: int = 6
    kernel_size: int = 3
    p_dropout: float = 0.1
    resblock: str = "1"
    resblock_kernel_sizes: tuple[int, ...] = (3, 7, 11)
    resblock_dilation_sizes: tuple[tuple[int, ...], ...] = ((1, 3, 5), (1, 3, 5), (1, 3, 5))
    upsample_rates: tuple[int, ...] = (10, 8, 2, 2, 2)
    upsample_initial_channel: int = 512
    upsample_kernel_sizes: tuple[int, ...] = (16, 16, 8, 2, 2)
    gin_channels: int = 512
    semantic_frame_rate: str = "25hz"
    freeze_quantizer: bool = True
    ssl_dim: int = 768
    codebook_size: int = 1024
    mrte_hidden: int | None = None
    n_symbols: int | None = None
    ref_in: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.version not in VERSIONS:
            raise ValueError(f"unsupported SoVITS version {self.version!r}")
        if self.resblock != "1":
            raise ValueError("only resblock type '1' is used by the official configs")
        if self.mrte_hidden is None:
            object.__setattr__(self, "mrte_hidden", 512 if self.is_pro else self.gin_channels)
        if self.n_symbols is None:
            object.__setattr__(self, "n_symbols", N_SYMBOLS[self.version])
        if self.ref_in is None:
            object.__setattr__(self, "ref_in", self.spec_channels if self.version == "v1" else 704)

    @property
    def is_pro(self) -> bool:
        return self.version in PRO_VERSIONS

    @property
    def sample_rate_hop(self) -> int:
        out = 1
        for u in self.upsample_rates:
            out *= u
        return out

    @classmethod
    def from_model_section(cls, model: Mapping[str, Any], version: str, **overrides: Any) -> SoVITSConfig:
        """Build from a file's ``config["model"]`` (unknown keys such as ``n_layers_q`` are kept aside)."""
        known = {f.name for f in fields(cls)}
        kw: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        for k, v in model.items():
            if k == "version":
                continue
            if k in known:
                kw[k] = _tupled(v)
            else:
                extra[k] = v
        kw.update(overrides)
        return cls(version=version, extra=extra, **kw)

    @classmethod
    def for_version(cls, version: str) -> SoVITSConfig:
        """The official full-size config of a version (s2.json / s2v2Pro.json / s2v2ProPlus.json)."""
        if version == "v2Pro":
            return cls(version=version, gin_channels=1024, p_dropout=0.0)
        if version == "v2ProPlus":
            return cls(version=version, gin_channels=1024, p_dropout=0.0, upsample_initial_channel=768,
                       upsample_kernel_sizes=(20, 16, 8, 2, 2))
        return cls(version=version)

    def adapt_to_weights(self, shapes: Mapping[str, tuple[int, ...]]) -> SoVITSConfig:
        """Take widths the weights pin down (MRTE width, symbol table, reference-encoder input)."""
        kw: dict[str, Any] = {}
        if (s := shapes.get("enc_p.mrte.c_pre.weight")) is not None:
            kw["mrte_hidden"] = s[0]
        if (s := shapes.get("enc_p.text_embedding.weight")) is not None:
            kw["n_symbols"] = s[0]
        if (s := shapes.get("ref_enc.spectral.0.fc.weight")) is not None:
            kw["ref_in"] = s[1]
        return replace(self, **kw) if kw else self

    def to_model_section(self) -> dict[str, Any]:
        """The ``config["model"]`` dict the official files carry (lists, plus ``version``)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name in ("spec_channels", "segment_size", "ssl_dim", "codebook_size", "mrte_hidden",
                          "n_symbols", "ref_in", "extra", "version"):
                continue
            out[f.name] = _listed(getattr(self, f.name))
        out.update(self.extra)
        out["version"] = self.version
        return out


def _tupled(v: Any) -> Any:
    if isinstance(v, list):
        return tuple(_tupled(x) for x in v)
    return v


def _listed(v: Any) -> Any:
    if isinstance(v, tuple):
        return [_listed(x) for x in v]
    return v
