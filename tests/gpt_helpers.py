"""Shared loaders for the GPT tests: the tiny official-format model and its reference vectors."""

from __future__ import annotations

from pathlib import Path

import numpy as np

GPT_DIR = Path(__file__).parent / "fixtures" / "gpt_v2_tiny"
CKPT = GPT_DIR / "gpt_v2_tiny.ckpt"


def vector(name: str) -> dict[str, np.ndarray]:
    with np.load(GPT_DIR / f"{name}.npz") as z:
        return {k: z[k] for k in z.files}


def inputs() -> dict[str, np.ndarray]:
    return vector("inputs")
