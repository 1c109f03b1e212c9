"""The models one synthesis needs, loaded once and checked to fit together.

GPT and SoVITS must share a phoneme symbol set: v1 (SoVITS 322 symbols, GPT 512 rows) or v2
(732; also v2Pro/v2ProPlus SoVITS and the ``s1v3`` GPT). A mismatch makes the GPT read
phone ids of another alphabet, so it is refused up front with a named error — the pairs the
official code accepts (any v2-symbol GPT with any v2/v2Pro/v2ProPlus SoVITS, v1 with v1)
load here too. HuBERT is needed for the reference prompt, the Chinese BERT only when a
segment is Chinese, the speaker-verification model only for v2Pro/v2ProPlus; each is found
among the pretrained base models unless given, and loaded on first use.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .device import Placement, choose
from .errors import IncompatibleModelsError, MissingWeightsError, UnsupportedModelError

SAMPLE_RATES = {"v1": 32000, "v2": 32000, "v2Pro": 32000, "v2ProPlus": 32000}
"""Output sample rate per SoVITS version (v3 24 kHz and v4 48 kHz are not supported yet)."""


def sovits_symbol_version(n_symbols: int) -> str:
    return "v1" if n_symbols == 322 else "v2"


@dataclass
class ModelSet:
    """Loaded models + what the pipeline must know about them."""

    gpt: Any
    sovits: Any
    placement: Placement
    gpt_path: str
    sovits_path: str
    hubert_dir: Path | None = None
    bert_dir: Path | None = None
    sv_path: Path | None = None
    _hubert: Any = field(default=None, repr=False)
    _bert: Any = field(default=None, repr=False)
    _sv: Any = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def version(self) -> str:
        """The SoVITS version (decides the output sample rate and the Pro speaker input)."""
        return self.sovits.version

    @property
    def symbol_version(self) -> str:
        return sovits_symbol_version(self.sovits.cfg.n_symbols)

    @property
    def sample_rate(self) -> int:
        return SAMPLE_RATES[self.version]

    @property
    def needs_speaker(self) -> bool:
        """v2Pro/v2ProPlus mix a speaker-verification embedding of each reference into the timbre."""
        return bool(self.sovits.cfg.is_pro)

    def speaker(self) -> Any:
        """The ERes2NetV2 speaker-verification encoder (v2Pro/v2ProPlus; loaded on first use)."""
        with self._lock:
            if self._sv is None:
                from backend.models.sv import SpeakerEncoder

                path = self.sv_path or _pretrained_folder(self.version, "sv")
                self._sv = SpeakerEncoder.from_checkpoint(path, self.placement.device, self.placement.dtype)
            return self._sv

    def hubert(self) -> Any:
        """The HuBERT content encoder (loaded on first use)."""
        with self._lock:
            if self._hubert is None:
                from backend.models.ssl import ContentEncoder

                folder = self.hubert_dir or _pretrained_folder(self.version, "hubert")
                self._hubert = ContentEncoder.from_pretrained(folder, self.placement.device, self.placement.dtype)
            return self._hubert

    def bert(self) -> Any:
        """The Chinese BERT (loaded on first use; only Chinese text needs it)."""
        with self._lock:
            if self._bert is None:
                from backend.text.bert import ChineseBert

                folder = self.bert_dir or _pretrained_folder(self.version, "bert")
                self._bert = ChineseBert.load(Path(folder), self.placement.device,
                                              half=self.placement.dtype != _float32())
                if self._bert.dtype != self.placement.dtype:
                    self._bert.model.to(self.placement.dtype)
                    self._bert.dtype = self.placement.dtype
            return self._bert


def _float32() -> Any:
    import torch

    return torch.float32


def _pretrained_folder(version: str, role: str) -> Path:
    from backend import pretrained

    return pretrained.require(version, [role])[role]


def check_pair(gpt_symbols: str, sovits_symbols: str, gpt_path: str, sovits_path: str) -> None:
    """Refuse a GPT/SoVITS pair built on different phoneme sets."""
    if gpt_symbols != sovits_symbols:
        raise IncompatibleModelsError(
            f"the GPT {Path(gpt_path).name} uses the {gpt_symbols} phoneme set but the SoVITS "
            f"{Path(sovits_path).name} uses {sovits_symbols}; they cannot work together",
            fix="pick weights of the same family (v1 with v1; v2/v2Pro/v2ProPlus with a v2 GPT)")


def _existing(path: str | Path | None, kind: str) -> Path:
    if path is None or str(path) == "":
        raise MissingWeightsError(f"no {kind} weights given and none found",
                                  fix=f"pass --{kind.lower()} PATH, train a model, or run `gsv models fetch v2`")
    p = Path(path).expanduser()
    if not p.is_file():
        raise MissingWeightsError(f"{kind} weights {p} do not exist",
                                  fix=f"check the path, or pick another {kind} file")
    return p


def load_models(gpt_path: str | Path | None, sovits_path: str | Path | None, *,
                hubert_dir: str | Path | None = None, bert_dir: str | Path | None = None,
                sv_path: str | Path | None = None,
                device: str | None = None, precision: str = "auto") -> ModelSet:
    """Load and check a GPT/SoVITS pair (named errors for missing, wrong or mismatched files)."""
    from backend.models import load_sovits
    from backend.models.gpt.weights import build_gpt, read_gpt_file
    from backend.models.sovits.weights import read_sovits

    gpt_p = _existing(gpt_path, "GPT")
    sovits_p = _existing(sovits_path, "SoVITS")
    gfile = read_gpt_file(gpt_p)
    sfile = read_sovits(sovits_p)
    if sfile.version not in SAMPLE_RATES:
        raise UnsupportedModelError(f"SoVITS {sfile.version} models are not supported by this pipeline yet",
                                    fix="use v1, v2, v2Pro or v2ProPlus weights")
    from backend.models.sovits.config import N_SYMBOLS

    check_pair(gfile.symbol_version, sovits_symbol_version(N_SYMBOLS[sfile.version]), str(gpt_p), str(sovits_p))
    placement = choose(device, precision)
    gpt = build_gpt(gfile, device=placement.device, dtype=placement.dtype)
    sovits = load_sovits(sovits_p, device=placement.device, dtype=placement.dtype)
    if placement.vocoder_dtype is not None:
        sovits.set_vocoder_dtype(placement.vocoder_dtype)
    return ModelSet(gpt=gpt, sovits=sovits, placement=placement, gpt_path=str(gpt_p), sovits_path=str(sovits_p),
                    hubert_dir=Path(hubert_dir) if hubert_dir else None,
                    bert_dir=Path(bert_dir) if bert_dir else None, sv_path=Path(sv_path) if sv_path else None)

