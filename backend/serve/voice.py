"""The one place where the server calls the synthesis code (``backend.infer``).

Everything above this module speaks in :class:`VoiceFiles` (which weights) and
:class:`SpeakRequest` (what to say, how); nothing else in ``backend/serve`` imports the
inference pipeline, so re-pointing the server at another synthesis layer touches this file only.

Why a reference cache: the reference stage (read + resample the clip, HuBERT prompt codes,
spectrogram, speaker embedding) costs a noticeable share of each request on the CPU, and
clients send the same clip again and again. Its result is a pure function of the clip bytes,
the prompt text and language and the loaded weights, so it is kept (bounded, least recently
used first out) under a key built from exactly those.

Verified synthesis (``/tts`` with ``verify``) runs :func:`backend.checkup.verify.verified_synthesis`
with the voice's ASR engine: loaded at the voice's first verified request (one per scoring
language) and released with the voice, so a server that never verifies never loads one.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from backend.checkup.options import VERIFY_MAX_ERROR, VERIFY_MAX_TRIES
from backend.download import file_digest
from backend.infer.params import MAX_TOKENS, SynthesisParams
from backend.infer.pipeline import (
    Synthesizer,  # torch is imported only when a voice loads
)

REFERENCE_CACHE_SIZE = 16

AudioSink = Callable[[np.ndarray], None]


@dataclass(frozen=True)
class VoiceFiles:
    """Which weights one loaded voice uses (and where its helper models live)."""

    gpt: Path
    sovits: Path
    hubert: Path | None = None
    bert: Path | None = None
    sv: Path | None = None
    device: str = "auto"
    precision: str = "auto"
    max_tokens: int = MAX_TOKENS
    allow_pypinyin: bool = False  # v2+ Chinese without G2PW: pypinyin readings instead of a refusal
    asr_engine: str | None = None  # verified requests: None = config.toml's engine for the text's language
    asr_model: str | None = None  # verified requests: None = the engine's default model


SYNTHESIS_DEFAULTS: dict[str, Any] = {f.name: f.default for f in fields(SynthesisParams)}
"""The official sampling defaults, declared once in :class:`SynthesisParams`."""


@dataclass(frozen=True)
class VerifyRequest:
    """Hear each piece and regenerate a bad one (the ``/tts`` fields ``max_tries``, ``verify_max_error``)."""

    max_tries: int = VERIFY_MAX_TRIES
    max_error: float = VERIFY_MAX_ERROR


@dataclass(frozen=True)
class Spoken:
    """What a finished request reports besides its audio: the seed, and with verify each
    piece's number of tries, the try kept (from 1) and how many pieces no try got right."""

    seed: int
    tries: list[int] | None = None
    kept: list[int] | None = None
    failed: int = 0


@dataclass
class SpeakRequest:
    """One synthesis, in the pipeline's own option names (the HTTP layer maps api fields here)."""

    text: str
    lang: str
    ref: str
    ref_text: str | None = None
    ref_lang: str = "all_zh"
    aux_refs: list[str] = field(default_factory=list)
    cut: str = "cut5"  # api_v2's default, not the WebUI's cut1
    top_k: int = SYNTHESIS_DEFAULTS["top_k"]
    top_p: float = SYNTHESIS_DEFAULTS["top_p"]
    temperature: float = SYNTHESIS_DEFAULTS["temperature"]
    repetition_penalty: float = SYNTHESIS_DEFAULTS["repetition_penalty"]
    speed: float = SYNTHESIS_DEFAULTS["speed"]
    pause: float = SYNTHESIS_DEFAULTS["pause"]
    seed: int = SYNTHESIS_DEFAULTS["seed"]
    batch_size: int = 1
    parallel_infer: bool = True  # api_v2's default: the batched decoder even for one piece (as TTS.run)
    token_streaming: str | None = None  # None: a piece at a time; "grow" or "fixed": token chunks
    min_chunk_tokens: int = 16
    overlap_tokens: int = 2
    verify: VerifyRequest | None = None  # whole pieces only: never with token_streaming


class Voice:
    """A loaded GPT/SoVITS pair that speaks :class:`SpeakRequest` s (one at a time)."""

    def __init__(self, files: VoiceFiles) -> None:
        from backend.infer.models import load_models

        self.files = files
        self.models = load_models(files.gpt, files.sovits, hubert_dir=files.hubert, bert_dir=files.bert,
                                  sv_path=files.sv, device=None if files.device == "auto" else files.device,
                                  precision=files.precision)
        self._synth = _CachingSynthesizer(self.models, max_tokens=files.max_tokens)
        self._lock = threading.Lock()
        self._asr: dict[tuple[Any, ...], Any] = {}

    @classmethod
    def from_models(cls, models: Any, files: VoiceFiles) -> Voice:
        """A voice over models already in memory (benchmarks build full-size random ones)."""
        voice = cls.__new__(cls)
        voice.files, voice.models = files, models
        voice._synth = _CachingSynthesizer(models, max_tokens=files.max_tokens)
        voice._lock = threading.Lock()
        voice._asr = {}
        return voice

    @property
    def version(self) -> str:
        return str(self.models.version)

    @property
    def sample_rate(self) -> int:
        return int(self.models.sample_rate)

    def speak(self, req: SpeakRequest, on_audio: AudioSink) -> Spoken:
        """Synthesise ``req``; each finished piece (followed by its pause) goes to ``on_audio`` as
        soon as it is decoded (with verify: once its kept try is settled), in order."""
        p = SynthesisParams(text=req.text, lang=req.lang, ref=req.ref, aux_refs=list(req.aux_refs),
                            ref_text=req.ref_text, ref_lang=req.ref_lang, cut=req.cut, top_k=req.top_k,
                            top_p=req.top_p, temperature=req.temperature,
                            repetition_penalty=req.repetition_penalty, speed=req.speed, pause=req.pause,
                            seed=req.seed, batch_size=req.batch_size, allow_pypinyin=self.files.allow_pypinyin)
        pause = np.zeros(int(round(self.sample_rate * req.pause)), dtype=np.float32)

        def piece(_index: int, audio: np.ndarray, _sr: int) -> None:
            on_audio(np.concatenate([audio.astype(np.float32), pause]))

        with self._lock:
            self._synth.batched_single_piece = req.parallel_infer
            if req.verify is not None:
                return self._speak_verified(p, req.verify, lambda i, audio: piece(i, audio, 0))
            if req.token_streaming:
                return Spoken(self._synth.speak_in_token_chunks(p, req, on_audio))
            result = self._synth.synthesize(p, on_piece=piece)
        return Spoken(int(result.seed))

    def _speak_verified(self, p: SynthesisParams, verify: VerifyRequest,
                        on_piece: Callable[[int, np.ndarray], None]) -> Spoken:
        from backend.checkup.verify import VerifySettings, make_verify_engine, scoring_language, verified_synthesis

        language = scoring_language(p.lang)
        settings = VerifySettings(max_tries=verify.max_tries, max_error=verify.max_error,
                                  asr_engine=self.files.asr_engine or _configured_asr_engine(language),
                                  asr_model=self.files.asr_model, asr_device=_asr_device(self.files.device))
        key = (settings.asr_engine, settings.asr_model, settings.asr_device, language)
        if key not in self._asr:
            self._asr[key] = make_verify_engine(settings, language)
        result, record = verified_synthesis(self._synth, p, settings, engine=self._asr[key], on_piece=on_piece)
        tries = [len(piece["tries"]) for piece in record]
        failed = sum(all(t["bad"] for t in piece["tries"]) for piece in record)
        return Spoken(int(result.seed), tries, [int(piece["kept"]) + 1 for piece in record], failed)


def _configured_asr_engine(language: str) -> str:
    """The engine ``gsv infer --verify`` would choose: config.toml's for the language."""
    from backend.config import load_config

    return load_config().asr_engine_for(language)


def _asr_device(device: str) -> str:
    """The ASR engine's device option for the voice's device (``cuda:1`` → ``cuda``)."""
    return "cuda" if device.startswith("cuda") else device if device in ("auto", "cpu") else "auto"


class _CachingSynthesizer(Synthesizer):
    """The pipeline's synthesizer with its reference stage memoised by clip content."""

    def __init__(self, models: Any, max_tokens: int) -> None:
        super().__init__(models, max_tokens=max_tokens)
        self._cache: OrderedDict[tuple[Any, ...], tuple[Any, list[str]]] = OrderedDict()
        self.hits = 0

    def _prompt(self, p: Any, warnings: list[str], clean: Any) -> Any:
        if not p.ref or not all(Path(x).is_file() for x in [p.ref, *p.aux_refs]):
            return super()._prompt(p, warnings, clean)  # the pipeline names the missing file
        key = (tuple(file_digest(Path(x), "sha256") for x in [p.ref, *p.aux_refs]), p.trim_ref, p.ref_text, p.ref_lang,
               p.allow_pypinyin)
        if key in self._cache:
            self._cache.move_to_end(key)
            self.hits += 1
            prompt, cached_warnings = self._cache[key]
            warnings.extend(cached_warnings)
            return prompt
        before = len(warnings)
        prompt = super()._prompt(p, warnings, clean)
        self._cache[key] = (prompt, warnings[before:])
        while len(self._cache) > REFERENCE_CACHE_SIZE:
            self._cache.popitem(last=False)
        return prompt

    def speak_in_token_chunks(self, p: Any, req: SpeakRequest, on_audio: AudioSink) -> int:
        """Token-chunk streaming: decode a piece's audio while its tokens are still being drawn.

        Every ``min_chunk_tokens`` new tokens, SoVITS decodes the new tokens together with some
        earlier ones as left context and only the new part's audio is sent: ``grow`` takes all of
        the piece's earlier tokens as context (closer to the whole-piece decode, costlier as the
        piece grows), ``fixed`` only ``overlap_tokens`` of them (cheapest, audible seams). The
        tokens are the same as a whole-piece run with the same seed; only the decoding differs.
        """
        from backend.infer.pipeline import _seed_everything
        from backend.models.gpt import SamplingParams

        m = self.models
        ready = self.prepare(p, [])  # streamed audio carries no warnings
        prompt, pieces = ready.prompt, ready.pieces
        seed = _seed_everything(p.seed)
        sampling = SamplingParams(top_k=p.top_k, top_p=p.top_p, temperature=p.temperature,
                                  repetition_penalty=p.repetition_penalty)
        pause = np.zeros(int(round(m.sample_rate * p.pause)), dtype=np.float32)
        for piece in pieces:
            self._stream_piece(piece, prompt, p, req, sampling, on_audio)
            if len(pause):
                on_audio(pause)
        return int(seed)

    def _stream_piece(self, piece: Any, prompt: Any, p: Any, req: SpeakRequest, sampling: Any,
                      on_audio: AudioSink) -> None:
        """One piece: GPT tokens drawn one by one, SoVITS audio sent every ``min_chunk_tokens``."""
        import torch

        from backend.infer.pipeline import EARLY_STOP_NUM
        from backend.models.gpt.inference import generate

        dev = self.models.placement.device
        ids = torch.tensor((prompt.piece.ids if prompt.piece else []) + piece.ids, dtype=torch.long, device=dev)
        bert = piece.bert if prompt.piece is None else torch.cat([prompt.piece.bert, piece.bert], dim=1)
        drawn: list[int] = []
        sent = 0

        def send(tokens: list[int], upto: int) -> None:
            nonlocal sent
            if upto <= sent:
                return
            start = 0 if req.token_streaming == "grow" else max(0, sent - req.overlap_tokens)
            audio = self._decode(torch.tensor(tokens[start:upto], dtype=torch.long), piece, prompt, p)
            drop = int(round((sent - start) * len(audio) / max(1, upto - start)))
            on_audio(audio[drop:].astype(np.float32))
            sent = upto

        def on_token(token: int) -> None:
            drawn.append(token)
            if len(drawn) - sent >= max(1, req.min_chunk_tokens):
                send(drawn, len(drawn))

        with torch.inference_mode():
            g = generate(self.models.gpt, ids[None], prompt.tokens, bert[None], sampling, EARLY_STOP_NUM,
                         max_steps=self.max_tokens, on_token=on_token)
        kept = [int(t) for t in g.decoder_tokens[0].tolist()]
        final = drawn + kept[len(drawn):]  # a token kept at the stop step was not seen by on_token
        send(final, len(final))


def check_reference(path: str) -> float:
    """Duration of a reference clip in seconds; raises the pipeline's named errors (unreadable,
    outside 3–10 s) so a bad upload is refused before any synthesis."""
    from backend.infer.reference import check_reference

    return len(check_reference(path)[0]) / 16000


@dataclass(frozen=True)
class ProjectVoice:
    """A project as a voice: its weights, its chosen reference (if any) and its version."""

    name: str
    files: VoiceFiles
    version: str
    language: str
    ref: str | None = None
    ref_text: str | None = None
    ref_lang: str | None = None


def project_voice(workspace: Path, name: str, base: VoiceFiles) -> ProjectVoice:
    """The project's latest exports (else its version's pretrained bases) and the reference chosen
    in review; ``base`` gives the device, precision and helper models. Named errors when missing."""
    from backend.infer.errors import MissingWeightsError
    from backend.workspace import Workspace

    from .project import project_choice

    choice = project_choice(Workspace(workspace).open_project(name))
    if choice.gpt is None or choice.sovits is None:
        raise MissingWeightsError(f"project {name} has no GPT/SoVITS weights and no pretrained "
                                  f"{choice.version} base models are installed",
                                  fix=f"train the project, or run `gsv fetch-models {choice.version}`")
    return ProjectVoice(name=choice.name, files=replace(base, gpt=choice.gpt, sovits=choice.sovits),
                        version=choice.version, language=choice.language,
                        ref=str(choice.ref) if choice.ref else None, ref_text=choice.ref_text,
                        ref_lang=choice.ref_lang or choice.language)


def project_names(workspace: Path) -> list[str]:
    from backend.workspace import Workspace

    return [p.name for p in Workspace(workspace).list_projects()]
