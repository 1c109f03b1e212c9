"""Why a clip deserves a second look: the checks behind the review screen's flags.

Each check is cheap (no audio decode: durations come from the file header) so that flags for
ten thousand clips cost milliseconds once the durations are known. The ASR sidecar
(``<name>.list.asr.json``, written by the ASR stage) is optional; without it the
confidence flag is simply never raised.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from .listfile import canonical_language

# Flag names, in the order they are shown.
MISSING = "missing"
SHORT = "short"
LONG = "long"
EMPTY = "empty"
CHARS = "chars"
LOW_CONFIDENCE = "lowconf"
LANGUAGE = "lang"
ALL_FLAGS = (MISSING, EMPTY, LOW_CONFIDENCE, SHORT, LONG, CHARS, LANGUAGE)

FLAG_HELP = {
    MISSING: "the audio file cannot be found",
    EMPTY: "the text is empty (e.g. the second half of a split): type what it says",
    LOW_CONFIDENCE: "the recogniser was unsure (ASR confidence)",
    SHORT: "shorter than the minimum clip length",
    LONG: "longer than the maximum clip length",
    CHARS: "characters the language's text frontend cannot read",
    LANGUAGE: "a language code the formatting step skips (e.g. AUTO or DE)",
}


@dataclass(frozen=True)
class FlagSettings:
    """Thresholds. ``max_seconds`` matches the slicer's default maximum clip length; long
    clips are what exhaust GPU memory in GPT training."""

    min_seconds: float = 1.0
    max_seconds: float = 15.0
    # Whisper's own fallback thresholds: below this log-probability, or above this no-speech
    # probability / compression ratio, the recognition is doubtful.
    min_avg_logprob: float = -1.0
    max_no_speech_prob: float = 0.6
    max_compression_ratio: float = 2.4


def default_flag_settings() -> FlagSettings:
    """The thresholds used when the caller gives none (the slicer has no maximum by default,
    so the long-clip limit is ours: 15 s keeps GPT training within memory)."""
    return FlagSettings()


# --- characters each language's frontend reads --------------------------------------------
_COMMON = r"\s0-9A-Za-z" + re.escape("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~") + \
    "\u00b7\u2010-\u2027\u2030-\u205e\u3000-\u303f\uff01-\uff65\u00a0-\u00bf"
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_KANA = "\u3040-\u30ff\u31f0-\u31ff"
_HANGUL = "\u1100-\u11ff\u3130-\u318f\uac00-\ud7af"
_LATIN_EXT = "\u00c0-\u024f"
_ALLOWED = {
    "zh": re.compile(f"[^{_COMMON}{_HAN}]"),
    "yue": re.compile(f"[^{_COMMON}{_HAN}]"),
    "ja": re.compile(f"[^{_COMMON}{_HAN}{_KANA}]"),
    "en": re.compile(f"[^{_COMMON}{_LATIN_EXT}]"),
    "ko": re.compile(f"[^{_COMMON}{_HANGUL}]"),
}


def unreadable_chars(text: str, lang_code: str) -> str:
    """The characters of ``text`` outside the script the language's frontend handles."""
    lang = canonical_language(lang_code)
    pattern = _ALLOWED.get(lang or "")
    if pattern is None:
        return ""
    found = pattern.findall(text)
    return "".join(dict.fromkeys(found))


# --- ASR sidecar --------------------------------------------------------------------------
@dataclass(frozen=True)
class AsrInfo:
    avg_logprob: float | None = None
    no_speech_prob: float | None = None
    compression_ratio: float | None = None
    language: str | None = None

    def doubtful(self, s: FlagSettings) -> bool:
        return ((self.avg_logprob is not None and self.avg_logprob < s.min_avg_logprob)
                or (self.no_speech_prob is not None and self.no_speech_prob > s.max_no_speech_prob)
                or (self.compression_ratio is not None
                    and self.compression_ratio > s.max_compression_ratio))


def sidecar_path(list_path: Path) -> Path:
    return list_path.with_name(list_path.name + ".asr.json")


def _num(v: object) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def load_sidecar(list_path: Path) -> tuple[dict[str, AsrInfo], str | None]:
    """Per-clip ASR info keyed by path as written and by basename, plus a warning if the
    sidecar exists but cannot be read (review goes on without it)."""
    path = sidecar_path(list_path)
    if not path.is_file():
        return {}, None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        return {}, f"ignored unreadable ASR sidecar {path.name}: {e}"
    if isinstance(data, dict) and isinstance(data.get("clips"), dict):
        data = data["clips"]
    if not isinstance(data, dict):
        return {}, f"ignored ASR sidecar {path.name}: expected an object keyed by audio path"
    out: dict[str, AsrInfo] = {}
    for key, v in data.items():
        if not isinstance(v, dict):
            continue
        lang = v.get("language")
        info = AsrInfo(_num(v.get("avg_logprob")), _num(v.get("no_speech_prob")),
                       _num(v.get("compression_ratio")), lang if isinstance(lang, str) else None)
        out[key] = info
        out.setdefault(os.path.basename(key.replace("\\", "/")), info)
    return out, None
