"""Tiny SoVITS training inputs built from committed fixtures: an experiment folder, base G and D files.

- exp folder: the two formatted clips of ``fixtures/format/exp`` (phones, 32 kHz wavs) with their
  HuBERT features from ``fixtures/ssl`` (the official formatting scripts' outputs);
- base G: ``fixtures/sovits_v2_tiny/sovits_v2_tiny.pth`` (an export: the posterior encoder starts fresh);
- base D: a narrow multi-period discriminator (same tree as the official one, a few channels per
  layer) in the ``s2D*.pth`` file format, so a CPU step takes a fraction of a second.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import torch

FIX = Path(__file__).parent / "fixtures"
BASE_G = FIX / "sovits_v2_tiny" / "sovits_v2_tiny.pth"
ITEMS = ("en_fox_44k_stereo.wav", "zh_gongyuan_16k_mono.wav")
TINY_S = ((4, 1), (8, 4), (8, 4), (8, 4), (8, 4), (8, 1))
TINY_P = (4, 8, 8, 8, 8)


def make_exp(dest: Path) -> Path:
    """A formatted experiment folder (official layout) with the two fixture clips."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy(FIX / "format" / "exp" / "2-name2text.txt", dest / "2-name2text.txt")
    shutil.copytree(FIX / "format" / "exp" / "5-wav32k", dest / "5-wav32k", dirs_exist_ok=True)
    (dest / "4-cnhubert").mkdir(exist_ok=True)
    for item in ITEMS:
        shutil.copy(FIX / "ssl" / f"{item}.pt", dest / "4-cnhubert" / f"{item}.pt")
    return dest


def make_tiny_d(path: Path, version: str = "v2", seed: int = 0) -> Path:
    from backend.train.sovits_disc import build_mpd

    torch.manual_seed(seed)
    mpd = build_mpd(version, TINY_S, TINY_P)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"weight": mpd.state_dict()}, path)
    return path
