"""The engine interface: options in, one :class:`ClipResult` per clip out."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ..errors import GsvError

ENGINES = ("faster-whisper", "funasr")
# Languages GPT-SoVITS can train on: the only ones we ever write into a .list.
TRAINABLE = ("zh", "en", "ja", "ko", "yue")
ASR_LANGUAGES = ("auto", *TRAINABLE)


class AsrError(GsvError):
    """ASR cannot run with these options."""


class AsrModelMissing(AsrError):
    """The model is not on this machine and cannot be downloaded now."""


@dataclass
class AsrOptions:
    engine: str = "faster-whisper"
    model: str | None = None  # size/name or a local folder; None = the engine's default
    language: str = "auto"
    precision: str | None = None  # float16 | float32 | int8; None = per device
    device: str = "auto"  # auto | cpu | cuda
    vad: bool = True
    beam_size: int = 5
    batch_size: int = 8  # clips decoded together by the batched path (1 = one at a time)


@dataclass
class ClipResult:
    path: Path
    text: str = ""
    language: str | None = None  # lower-case code as detected/requested
    avg_logprob: float | None = None
    no_speech_prob: float | None = None
    compression_ratio: float | None = None
    error: str | None = None  # why this clip has no transcript


class Engine(Protocol):
    name: str

    def transcribe(self, paths: list[Path]) -> Iterator[ClipResult]:
        """Yield one result per path, in order, as each is done."""
        ...


def offline() -> bool:
    """Whether we were told not to reach any model hub."""
    return any(os.environ.get(v, "").lower() in {"1", "true", "yes", "on"}
               for v in ("HF_HUB_OFFLINE", "GSV_OFFLINE", "MODELSCOPE_OFFLINE"))


class DownloadCallback(Protocol):
    def __call__(self, done: int, total: int | None, label: str) -> None: ...
