"""Where and in what precision to run: CUDA when present, else CPU; fp16/bf16 only on a GPU.

The official pipeline runs everything in fp16 on a GPU (``is_half``) and fp32 on the CPU.
We do the same by default ("auto"); "bf16" is offered for GPUs where fp16 overflows, and
"fp32" forces full precision. CPU always runs fp32 (half precision is slower there and
loses quality).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

PRECISIONS = ("auto", "fp32", "fp16", "bf16")


@dataclass(frozen=True)
class Placement:
    device: str
    dtype: Any  # torch.dtype

    @property
    def label(self) -> str:
        return f"{self.device} {str(self.dtype).replace('torch.', '')}"


def choose(device: str | None = None, precision: str = "auto") -> Placement:
    import torch

    from .errors import InferenceError

    if precision not in PRECISIONS:
        raise InferenceError(f"unknown precision {precision!r}", fix=f"use one of {', '.join(PRECISIONS)}")
    if device in (None, "", "auto"):
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise InferenceError("CUDA was asked for but no GPU is usable", fix="use --device cpu")
    if device == "cpu":
        return Placement("cpu", torch.float32)
    dtype = {"auto": torch.float16, "fp16": torch.float16, "bf16": torch.bfloat16,
             "fp32": torch.float32}[precision]
    return Placement(device, dtype)
