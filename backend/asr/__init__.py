"""Speech recognition: clips in, the official ``.list`` out (plus a confidence sidecar).

Two real engines behind one small interface (:mod:`backend.asr.base`): faster-whisper
(:mod:`backend.asr.whisper`) for English, Japanese and most languages, and FunASR
(:mod:`backend.asr.funasr`) — Paraformer for Chinese, SenseVoice as an option. Engines are
imported lazily: nothing here loads torch or CTranslate2 until a transcription starts.
"""

from .base import ASR_LANGUAGES, AsrError, AsrModelMissing, AsrOptions, ClipResult, make_engine

__all__ = ["ASR_LANGUAGES", "AsrError", "AsrModelMissing", "AsrOptions", "ClipResult", "make_engine"]
