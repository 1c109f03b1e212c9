"""Verified synthesis (``gsv infer --verify``): hear each piece, and say it again when it went wrong.

Each piece is rendered on its own with its own seed, transcribed by the ASR engine and scored
against its text (see :mod:`.scoring`). A piece is **bad** when the transcript shows a skipped or
a repeated word, when its error rate is above ``max_error``, or when its pace marks a runaway,
a truncation or a token-cap hit (measured against the reference clip's own pace, see
:mod:`.pace`). A bad piece is rendered again with another seed, up to ``max_tries`` tries in
all; the best try is kept (not bad first, then the lowest error rate, then the fewest skips and
repeats, then the earliest). The take's record lists every try with its scores.

The first try of each piece is checked on a worker thread while the next piece is generated;
retries come after, each checked before the next is decided. A piece is handed to ``on_piece``
as soon as its kept try is settled; the server (``/tts`` with ``verify``) passes its own ASR
engine, loaded once per voice, instead of one per call.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import GsvError
from .normalize import base_language
from .options import VERIFY_MAX_ERROR, VERIFY_MAX_ERROR_RANGE, VERIFY_MAX_TRIES, VERIFY_MAX_TRIES_RANGE
from .pace import Pace, hit_cap, rate
from .scoring import score

TYPICAL_RATE = 2.0  # tokens per phoneme of ordinary speech: the centre when there is no prompt
SEED_STEP = 7919  # try k of a piece uses seed + k·SEED_STEP (a prime: no two pieces share a seed)


class VerifyError(GsvError):
    """Verified synthesis cannot run with these settings."""


@dataclass
class VerifySettings:
    max_tries: int = VERIFY_MAX_TRIES
    max_error: float = VERIFY_MAX_ERROR  # CER/WER above this makes a piece bad
    asr_engine: str = "faster-whisper"
    asr_model: str | None = None
    asr_device: str = "auto"

    def problems(self) -> list[str]:
        out = []
        (low, high), (low_e, high_e) = VERIFY_MAX_TRIES_RANGE, VERIFY_MAX_ERROR_RANGE
        if not low <= self.max_tries <= high:
            out.append(f"--max-tries must be between {low} and {high}")
        if not low_e <= self.max_error <= high_e:
            out.append(f"--verify-max-error must be between {low_e:g} and {high_e:g}")
        return out


def scoring_language(lang_option: str) -> str:
    """The language a piece is scored in (the UI option's main language); named error for auto."""
    try:
        return base_language(lang_option)
    except ValueError:
        raise VerifyError(f"--verify needs the text's language, not {lang_option!r}",
                          "pass --lang all_zh, en, all_ja, all_ko or all_yue (or a mixed option such as zh)") from None


@dataclass
class Try:
    seed: int
    tokens: int
    phones: int
    transcript: str = ""
    scores: dict[str, Any] = field(default_factory=dict)
    pace: str | None = None
    bad: bool = True
    audio: np.ndarray | None = field(default=None, repr=False)

    def key(self, index: int) -> tuple[Any, ...]:
        return (self.bad, self.scores.get("error_rate", 1.0),
                self.scores.get("skips", 0) + self.scores.get("repeats", 0), index)

    def to_json(self) -> dict[str, Any]:
        return {"seed": self.seed, "tokens": self.tokens, "phones": self.phones, "transcript": self.transcript,
                "scores": self.scores, "pace": self.pace, "bad": self.bad}


def make_verify_engine(settings: VerifySettings, language: str) -> Any:
    """The ASR engine that hears pieces in ``language`` (its model loads at the first piece)."""
    from ..asr import make_engine
    from ..asr.base import AsrOptions

    return make_engine(AsrOptions(engine=settings.asr_engine, model=settings.asr_model, language=language,
                                  device=settings.asr_device, vad=False))


class Verifier:
    """Renders, hears and judges pieces; holds the ASR engine between pieces."""

    def __init__(self, synth: Any, settings: VerifySettings, language: str, work: Path,
                 engine: Any | None = None) -> None:
        self.synth = synth
        self.settings = settings
        self.language = language
        self.work = work
        self.engine = engine if engine is not None else make_verify_engine(settings, language)
        self.sample_rate = synth.models.sample_rate

    def render(self, prompt: Any, piece: Any, p: Any, seed: int) -> Try:
        audio, tokens = self.synth.render_piece(prompt, piece, p, seed)
        return Try(seed, tokens, len(piece.ids), audio=audio.astype(np.float32))

    def judge(self, t: Try, text: str, pace: Pace, name: str) -> Try:
        """Transcribe and score one try (thread-safe: the file name is the caller's)."""
        import soundfile as sf

        path = self.work / f"{name}.wav"
        sf.write(path, t.audio, self.sample_rate, subtype="PCM_16")
        [heard] = list(self.engine.transcribe([path]))
        t.transcript = heard.text or ""
        s = score(text, t.transcript, self.language)
        t.scores = s.to_json()
        t.pace = pace.judge(t.tokens, t.phones, hit_cap(t.tokens, self.synth.max_tokens))
        t.bad = s.has_skip or s.has_repeat or s.error_rate > self.settings.max_error or t.pace is not None
        return t


def kept_try(tries: list[Try]) -> int:
    """Index of the try to keep (see the module's order: not bad, lowest error, fewest slips, earliest)."""
    return min(range(len(tries)), key=lambda k: tries[k].key(k))


def verified_synthesis(synth: Any, p: Any, settings: VerifySettings,
                       progress: Callable[[int, int, str], None] | None = None, engine: Any | None = None,
                       on_piece: Callable[[int, np.ndarray], None] | None = None,
                       ) -> tuple[Any, list[dict[str, Any]]]:
    """Synthesise ``p`` piece by piece with checks and retries → (SynthesisResult, per-piece tries).

    ``engine``: an ASR engine for the scoring language to reuse (else one is made for this call);
    ``on_piece(index, audio)``: each piece's kept audio (without its pause), in order, once settled."""
    from ..infer.pipeline import PieceInfo, SynthesisResult, Timings, _seed_everything

    problems = p.problems() + settings.problems()
    if problems:
        raise VerifyError("invalid parameters: " + "; ".join(problems), "change the values named")
    language = scoring_language(p.lang)
    warnings: list[str] = []
    timings = Timings()
    ready = synth.prepare(p, warnings, timings)
    prompt, pieces = ready.prompt, ready.pieces
    if prompt.tokens is not None and prompt.piece is not None and prompt.piece.ids:
        pace = Pace.around(rate(int(prompt.tokens.numel()), len(prompt.piece.ids)))
    else:
        pace = Pace.around(TYPICAL_RATE)
    seed = _seed_everything(p.seed)  # -1 draws one; every try's seed derives from it
    total = len(pieces)
    tries: list[list[Try]] = [[] for _ in pieces]
    with tempfile.TemporaryDirectory(prefix="gsv-verify-") as tmp, ThreadPoolExecutor(max_workers=1) as pool:
        verifier = Verifier(synth, settings, language, Path(tmp), engine)
        first: list[Future[Try]] = []
        for i, piece in enumerate(pieces):  # first tries: each heard while the next one is generated
            t = verifier.render(prompt, piece, p, (seed + i) % 2**32)
            first.append(pool.submit(verifier.judge, t, piece.text, pace, f"{i}-0"))
            if progress:
                progress(i + 1, total, f"piece {i + 1}/{total}")
        for i, piece in enumerate(pieces):
            tries[i].append(first[i].result())
            while tries[i][-1].bad and len(tries[i]) < settings.max_tries:
                k = len(tries[i])
                t = verifier.render(prompt, piece, p, (seed + i + k * SEED_STEP) % 2**32)
                tries[i].append(verifier.judge(t, piece.text, pace, f"{i}-{k}"))
                if progress:
                    progress(i + 1, total, f"piece {i + 1}/{total}: try {k + 1}")
            if on_piece:
                kept_audio = tries[i][kept_try(tries[i])].audio
                assert kept_audio is not None
                on_piece(i, kept_audio)
    sr = synth.models.sample_rate
    pause = np.zeros(round(sr * p.pause), dtype=np.float32)
    chunks: list[np.ndarray] = []
    infos: list[Any] = []
    record: list[dict[str, Any]] = []
    for i, (piece, ts) in enumerate(zip(pieces, tries)):
        kept = kept_try(ts)
        audio = ts[kept].audio
        assert audio is not None
        chunks += [audio, pause]
        infos.append(PieceInfo(i, piece.text, piece.langs, len(piece.ids), ts[kept].tokens, len(audio) / sr))
        timings.gpt_tokens += sum(t.tokens for t in ts)
        record.append({"index": i, "text": piece.text, "kept": kept, "tries": [t.to_json() for t in ts]})
        if all(t.bad for t in ts):
            warnings.append(f"piece {i + 1} still sounds wrong after {len(ts)} tries; kept try {kept + 1}")
    audio_all = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)
    return SynthesisResult(audio_all, sr, seed, infos, warnings, timings, prompt.main.window, ready.readings), record
