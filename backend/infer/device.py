"""Where and in what precision to run: CUDA when present, else CPU.

The official pipeline runs everything in fp16 on a GPU (``is_half``) and fp32 on the CPU.
We do the same by default ("auto"); "bf16" is offered for GPUs where fp16 overflows, and
"fp32" forces full precision. On the CPU, "auto", "fp32" and "fp16" all run fp32 (fp16 is
slower there and loses quality), so outputs equal the official CPU ones. "bf16" on a CPU
with native bfloat16 runs only the SoVITS waveform decoder in bfloat16: that decoder is
nearly all of a CPU synthesis and already runs near float32 peak, and bfloat16 halves its
time at about 40 dB SNR against float32. The GPT stays float32 there (bfloat16 is no faster
for its token-by-token steps and could change tokens).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

PRECISIONS = ("auto", "fp32", "fp16", "bf16")


@dataclass(frozen=True)
class Placement:
    device: str
    dtype: Any  # torch.dtype
    vocoder_dtype: Any = None  # the SoVITS waveform decoder's dtype when it differs from ``dtype``

    @property
    def label(self) -> str:
        text = f"{self.device} {_name(self.dtype)}"
        return f"{text} (vocoder {_name(self.vocoder_dtype)})" if self.vocoder_dtype is not None else text


def _name(dtype: Any) -> str:
    return str(dtype).replace("torch.", "")


def resolve_device(device: str) -> str:
    """``auto``: CUDA when torch sees a GPU (a job's lease decides which), else CPU; anything
    else as given. Every model runner (synthesis, ASR, cleaning, likeness) resolves it so."""
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def cpu_has_native_bf16() -> bool:
    """Whether this CPU computes bfloat16 in hardware (AVX512-BF16 / AMX), where it pays off."""
    import torch

    check = getattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", None)
    try:
        return bool(check()) if check is not None else False
    except RuntimeError:
        return False


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
        if precision != "bf16":
            return Placement("cpu", torch.float32)
        if not cpu_has_native_bf16():
            raise InferenceError("this CPU has no native bfloat16 arithmetic, so bf16 would be slower, not faster",
                                 fix='use --precision auto (full precision on the CPU), or precision = "auto" '
                                     "in config.toml")
        return Placement("cpu", torch.float32, vocoder_dtype=torch.bfloat16)
    dtype = {"auto": torch.float16, "fp16": torch.float16, "bf16": torch.bfloat16,
             "fp32": torch.float32}[precision]
    return Placement(device, dtype)
