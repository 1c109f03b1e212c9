"""What one synthesis is asked to do: every option of the official inference UIs, as data.

The defaults are the official ones (``inference_webui.py`` / ``TTS.run``): top_k 15, top_p 1,
temperature 1, repetition penalty 1.35, speed 1, 0.3 s pause after each piece, cut1. The
dataclass is plain (no torch) so the TUI and the job record can hold it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

TOKENS_PER_S = 25
"""Semantic tokens per second of speech: the GPT speaks at 25 Hz."""
MAX_TOKENS = 1500
"""The official cap of GPT steps per piece (60 s of speech); the decoder's own ``MAX_STEPS``."""
MAX_PIECE_S = MAX_TOKENS / TOKENS_PER_S


def seconds_to_tokens(seconds: float) -> int:
    """The GPT steps that speak ``seconds`` of audio (what ``--max-seconds`` becomes)."""
    return int(round(seconds * TOKENS_PER_S))


def tokens_to_seconds(tokens: int) -> float:
    return round(tokens / TOKENS_PER_S, 2)


MAX_SECONDS_PROBLEM = (f"the longest piece (--max-seconds) must be between {tokens_to_seconds(1):g} and "
                       f"{MAX_PIECE_S:g} s")

CUT_METHODS: tuple[str, ...] = ("cut0", "cut1", "cut2", "cut3", "cut4", "cut5")
CUT_LABELS: dict[str, str] = {
    "cut0": "no cutting",
    "cut1": "every 4 sentences",
    "cut2": "every 50 characters",
    "cut3": "at Chinese full stops 。",
    "cut4": "at English full stops .",
    "cut5": "at every punctuation mark",
}
LANGUAGE_OPTIONS: dict[str, str] = {
    "all_zh": "Chinese", "en": "English", "all_ja": "Japanese", "all_yue": "Cantonese",
    "all_ko": "Korean", "zh": "Chinese-English mixed", "ja": "Japanese-English mixed",
    "yue": "Cantonese-English mixed", "ko": "Korean-English mixed", "auto": "multilingual (detect)",
    "auto_yue": "multilingual (detect, Cantonese)",
}
"""The official UI language options (v2 and later) → their English names."""

TRIM_CHOICES: tuple[str, ...] = ("no", "first", "best")
"""What to do with a reference longer than 10 s: refuse, take the first 10 s, take the best window."""

MIN_REF_S = 3.0
MAX_REF_S = 10.0


def lang_option(code: str | None) -> str | None:
    """A project language (zh, en, ja, ko, yue) as the UI option for whole-text speech."""
    if code is None:
        return None
    return {"zh": "all_zh", "ja": "all_ja", "ko": "all_ko", "yue": "all_yue", "en": "en"}.get(code.lower(), code)


@dataclass
class SynthesisParams:
    """One request. ``ref_text`` None/blank = ref-free mode (no prompt; lower quality)."""

    text: str
    lang: str
    ref: str | None = None
    aux_refs: list[str] = field(default_factory=list)
    ref_text: str | None = None
    ref_lang: str = "all_zh"
    cut: str = "cut1"
    top_k: int = 15
    top_p: float = 1.0
    temperature: float = 1.0
    repetition_penalty: float = 1.35
    speed: float = 1.0
    pause: float = 0.3
    seed: int = -1
    batch_size: int = 8
    noise_scale: float = 0.5
    trim_ref: str = "no"
    allow_pypinyin: bool = False  # without G2PW (offline): read v2+ Chinese with pypinyin instead of refusing

    def problems(self) -> list[str]:
        """Every invalid value, one sentence each (the CLI and the screen show these)."""
        out: list[str] = []
        if self.cut not in CUT_METHODS:
            out.append(f"cut must be one of {', '.join(CUT_METHODS)}, not {self.cut!r}")
        if not 1 <= self.top_k <= 100:
            out.append("top_k must be between 1 and 100")
        if not 0.0 < self.top_p <= 1.0:
            out.append("top_p must be above 0 and at most 1")
        if not 0.0 < self.temperature <= 2.0:
            out.append("temperature must be above 0 and at most 2")
        if not 0.0 < self.repetition_penalty <= 2.0:
            out.append("repetition penalty must be above 0 and at most 2")
        if not 0.5 <= self.speed <= 2.0:
            out.append("speed must be between 0.5 and 2")
        if not 0.0 <= self.pause <= 5.0:
            out.append("pause must be between 0 and 5 s")
        if self.seed < -1 or self.seed > 2**32 - 1:
            out.append("seed must be -1 (random) or between 0 and 4294967295")
        if self.batch_size < 1:
            out.append("batch size must be at least 1")
        if self.trim_ref not in TRIM_CHOICES:
            out.append(f"trim_ref must be one of {', '.join(TRIM_CHOICES)}")
        if not self.text.strip():
            out.append("there is no text to speak")
        return out

    @property
    def ref_free(self) -> bool:
        return self.ref_text is None or not self.ref_text.strip()
