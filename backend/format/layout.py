"""Names and file formats of the official experiment folder (``logs/<exp>``), read and written.

Everything here matches what the official formatting scripts write and the official trainers read:

- ``2-name2text.txt``: ``item\\tphones\\tword2ph\\tnorm_text`` per line, ``"\\n".join(lines) + "\\n"``;
  word2ph is the Python list repr (``[2, 2, 1]``) for Chinese, ``None`` otherwise;
- ``3-bert/<item>.pt``: ``torch.save`` of ``[1024, n_phones]`` (zh items only);
- ``4-cnhubert/<item>.pt``: ``[1, 768, T50]``;
- ``5-wav32k/<item>``: 32 kHz mono int16 wav named exactly like the item (``foo.wav``);
- ``6-name2semantic.tsv``: header ``item_name\\tsemantic_audio``, then ``item\\ttokens``;
- ``7-sv_cn/<item>.pt``: ``[1, 20480]`` (v2Pro/v2ProPlus only).

The item key is the base name of the ``.list`` audio path (``foo.wav``), as in the official code.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..fsutil import atomic_write_text

NAME2TEXT = "2-name2text.txt"
BERT_DIR = "3-bert"
HUBERT_DIR = "4-cnhubert"
WAV32K_DIR = "5-wav32k"
NAME2SEMANTIC = "6-name2semantic.tsv"
SV_DIR = "7-sv_cn"
SEMANTIC_HEADER = "item_name\tsemantic_audio"
STATE_DIR = ".gsv-format"  # our journals; the official tools ignore it

SV_VERSIONS = ("v2Pro", "v2ProPlus")


def needs_sv(version: str) -> bool:
    return version in SV_VERSIONS


def text_version(version: str) -> str:
    """The phone symbol set of a model version: v1 has its own, every later version uses v2's."""
    return "v1" if version == "v1" else "v2"


def bert_path(exp: Path, key: str) -> Path:
    return exp / BERT_DIR / f"{key}.pt"


def hubert_path(exp: Path, key: str) -> Path:
    return exp / HUBERT_DIR / f"{key}.pt"


def wav32k_path(exp: Path, key: str) -> Path:
    return exp / WAV32K_DIR / key


def sv_path(exp: Path, key: str) -> Path:
    return exp / SV_DIR / f"{key}.pt"


def name2text_line(key: str, phones: list[str], word2ph: list[int] | None, norm_text: str) -> str:
    return f"{key}\t{' '.join(phones)}\t{word2ph!r}\t{norm_text}"


def semantic_line(key: str, tokens: list[int]) -> str:
    return f"{key}\t{' '.join(str(t) for t in tokens)}"


def write_name2text(exp: Path, lines: list[str]) -> Path:
    path = exp / NAME2TEXT
    atomic_write_text(path, "\n".join(lines) + "\n" if lines else "")
    return path


def write_name2semantic(exp: Path, lines: list[str]) -> Path:
    path = exp / NAME2SEMANTIC
    atomic_write_text(path, "\n".join([SEMANTIC_HEADER, *lines]) + "\n")
    return path


def save_tensor(path: Path, tensor: Any) -> None:
    """``torch.save`` (the official format) through a temp file and a rename: never half-written."""
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        torch.save(tensor.detach().cpu().contiguous(), tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
