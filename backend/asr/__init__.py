"""Speech recognition: clips in, the official ``.list`` out (plus a confidence sidecar).

Two real engines behind one small interface (:mod:`backend.asr.base`): faster-whisper
(:mod:`backend.asr.whisper`) for English, Japanese and most languages, and FunASR
(:mod:`backend.asr.funasr`) — Paraformer for Chinese, SenseVoice and Fun-ASR-Nano
(:mod:`backend.asr.nano`) as options. Engines are
imported lazily: nothing here loads torch or CTranslate2 until a transcription starts. The
factory lives here, above the interface the engines implement, so that ``base`` never
imports an engine.
"""

from __future__ import annotations

from .base import ASR_LANGUAGES, ENGINES, AsrError, AsrModelMissing, AsrOptions, ClipResult, DownloadCallback, Engine

__all__ = ["ASR_LANGUAGES", "AsrError", "AsrModelMissing", "AsrOptions", "ClipResult", "make_engine"]


def make_engine(opts: AsrOptions, on_download: DownloadCallback | None = None) -> Engine:
    """The engine ``opts.engine`` names, ready to transcribe (its model loads on first use)."""
    if opts.engine == "faster-whisper":
        from .whisper import WhisperEngine

        return WhisperEngine(opts, on_download)
    if opts.engine == "funasr":
        from .funasr import FunAsrEngine

        return FunAsrEngine(opts, on_download)
    raise AsrError(f"unknown ASR engine {opts.engine!r}", f"use one of {', '.join(ENGINES)}")
