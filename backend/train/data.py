"""Reading an experiment folder back the way the official trainers do (the input of both trainers).

Works on a folder written by ``gsv format`` or by the official WebUI alike (same files, see
:mod:`backend.format.layout`). The item selection rules are the official ones:

- SoVITS (:meth:`ExpFolder.sovits_items`): keys present in ``2-name2text.txt`` (lines with exactly
  four TAB fields), ``4-cnhubert/`` and ``5-wav32k/`` (and ``7-sv_cn/`` for v2Pro/v2ProPlus), whose
  duration from the wav *file size* (``size / 32000 / 2``) is strictly between 0.6 and 54 s;
- GPT (:meth:`ExpFolder.gpt_items`): rows of ``6-name2semantic.tsv`` (header required) that have
  phones, at most ``max_sec·25`` tokens and ``max_sec·25/2.5`` phones, and 3–25 phones per second.

The loaders return plain tensors; batching, bucketing and the "repeat small datasets" rule belong
to the trainers. BERT features come from ``3-bert/<item>.pt`` when present, zeros otherwise.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from ..errors import GsvError
from ..format import layout

SOVITS_MIN_S, SOVITS_MAX_S = 0.6, 54.0
GPT_MAX_SEC = 54
TOKENS_PER_SECOND = 25


class ExpFolderError(GsvError):
    """The experiment folder is missing a file the trainer needs, or holds a malformed one."""


@dataclass(frozen=True)
class PhoneEntry:
    phones: list[str]
    word2ph: list[int] | None
    norm_text: str


def read_name2text(path: Path) -> dict[str, PhoneEntry]:
    """``2-name2text.txt``: lines with exactly four TAB fields (others are ignored, as officially)."""
    out: dict[str, PhoneEntry] = {}
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ExpFolderError(f"{path} is missing", "run `gsv format` (the text step) first") from None
    for line in text.strip("\n").split("\n"):
        fields = line.split("\t")
        if len(fields) != 4:
            continue
        key, phones, word2ph, norm = fields
        w2p = None if word2ph == "None" else [int(x) for x in ast.literal_eval(word2ph)]
        out[key] = PhoneEntry(phones.split(" "), w2p, norm)
    return out


def read_name2semantic(path: Path) -> dict[str, list[int]]:
    """``6-name2semantic.tsv`` (header line first, like pandas reads it): key → tokens."""
    try:
        lines = Path(path).read_text(encoding="utf-8").strip("\n").split("\n")
    except FileNotFoundError:
        raise ExpFolderError(f"{path} is missing", "run `gsv format` (the semantic step) first") from None
    if not lines or lines[0].split("\t")[:2] != layout.SEMANTIC_HEADER.split("\t"):
        raise ExpFolderError(f"{path} has no '{layout.SEMANTIC_HEADER}' header", "re-run `gsv format --only semantic`")
    out: dict[str, list[int]] = {}
    for line in lines[1:]:
        key, _, tokens = line.partition("\t")
        out[key] = [int(t) for t in tokens.split()]
    return out


class ExpFolder:
    """One ``logs/<exp>`` folder, read lazily."""

    def __init__(self, root: Path, version: str = "v2") -> None:
        self.root = Path(root)
        self.version = version

    @cached_property
    def phones(self) -> dict[str, PhoneEntry]:
        return read_name2text(self.root / layout.NAME2TEXT)

    @cached_property
    def semantic(self) -> dict[str, list[int]]:
        return read_name2semantic(self.root / layout.NAME2SEMANTIC)

    def _names(self, folder: str, suffix: str) -> set[str]:
        d = self.root / folder
        if not d.is_dir():
            return set()
        return {p.name[: len(p.name) - len(suffix)] if suffix else p.name for p in d.iterdir()
                if not p.name.startswith(".") and p.name.endswith(suffix)}

    def wav_seconds(self, key: str) -> float:
        """Duration the official SoVITS loader assumes: from the file size (int16 at 32 kHz)."""
        return layout.wav32k_path(self.root, key).stat().st_size / 32000 / 2

    def sovits_items(self) -> list[str]:
        keys = set(self.phones) & self._names(layout.HUBERT_DIR, ".pt") & self._names(layout.WAV32K_DIR, "")
        if layout.needs_sv(self.version):
            keys &= self._names(layout.SV_DIR, ".pt")
        return sorted(k for k in keys if SOVITS_MIN_S < self.wav_seconds(k) < SOVITS_MAX_S)

    def gpt_items(self, max_sec: int = GPT_MAX_SEC) -> list[str]:
        out = []
        for key, tokens in self.semantic.items():
            entry = self.phones.get(key)
            if entry is None or len(tokens) > max_sec * TOKENS_PER_SECOND:
                continue
            if len(entry.phones) > max_sec * TOKENS_PER_SECOND / 2.5:
                continue
            seconds = len(tokens) / TOKENS_PER_SECOND
            if seconds and not 3 <= len(entry.phones) / seconds <= 25:
                continue
            out.append(key)
        return out

    # --- per-item tensors ------------------------------------------------------------------
    def phone_ids(self, key: str) -> list[int]:
        from ..text.cleaner import cleaned_text_to_sequence

        return cleaned_text_to_sequence(self.phones[key].phones, layout.text_version(self.version))

    def bert(self, key: str) -> Any:
        """``[1024, n_phones]`` float32: the 3-bert file, or zeros (non-Chinese items)."""
        import torch

        n = len(self.phones[key].phones)
        path = layout.bert_path(self.root, key)
        if not path.is_file():
            return torch.zeros(1024, n)
        feats = _load(path).float()
        if feats.shape != (1024, n):
            raise ExpFolderError(f"{path}: shape {tuple(feats.shape)} does not fit {n} phones",
                                 "re-run `gsv format --only text`")
        return feats

    def ssl(self, key: str) -> Any:
        """``[1, 768, T50]`` HuBERT features (float32)."""
        return _load(layout.hubert_path(self.root, key)).float()

    def sv(self, key: str) -> Any:
        """``[1, 20480]`` speaker embedding (v2Pro/v2ProPlus)."""
        return _load(layout.sv_path(self.root, key)).float()

    def wav32k(self, key: str) -> Any:
        """Mono float32 in [-1, 1] at 32 kHz (int16 / 32768, as the official loader normalises)."""
        import numpy as np
        import soundfile as sf
        import torch

        data, sr = sf.read(str(layout.wav32k_path(self.root, key)), dtype="int16")
        if sr != 32000:
            raise ExpFolderError(f"{key}: {sr} Hz, expected 32000", "re-run `gsv format --only ssl`")
        return torch.from_numpy(data.astype(np.float32) / 32768.0)

    def tokens(self, key: str) -> list[int]:
        return self.semantic[key]


def _load(path: Path) -> Any:
    from ..models.safe_pickle import load_checkpoint

    if not path.is_file():
        raise ExpFolderError(f"{path} is missing", "re-run `gsv format`")
    return load_checkpoint(path)
