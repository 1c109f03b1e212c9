"""The request shapes clients send, with api_v2's and api.py's defaults, and their checks.

The field names, defaults, validation order and messages are api_v2's (see docs/serve.md), so a
client written against the official server reads the same answers. Two deliberate differences,
both accepting more and breaking nothing: language codes are accepted in any case on POST too
(the official lower-cases only GET), and ``project``/``voice`` pick a project's voice per request.
Ours too, unknown to the official (its clients never send them): ``verify``, ``max_tries`` and
``verify_max_error`` ask for verified synthesis (see docs/serve.md).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from backend.checkup.options import VERIFY_MAX_ERROR, VERIFY_MAX_ERROR_RANGE, VERIFY_MAX_TRIES, VERIFY_MAX_TRIES_RANGE
from backend.infer.params import CUT_METHODS

from .voice import SYNTHESIS_DEFAULTS as _SYNTH
from .voice import SpeakRequest, VerifyRequest

LANGUAGES_V1 = ("auto", "en", "zh", "ja", "all_zh", "all_ja")
LANGUAGES_V2 = ("auto", "auto_yue", "en", "zh", "ja", "yue", "ko", "all_zh", "all_ja", "all_yue", "all_ko")
MEDIA_TYPES = ("wav", "raw", "ogg", "aac")
STREAMING_MESSAGE = "the value of streaming_mode must be 0, 1, 2, 3(int) or true/false(bool)"
VERIFY_STREAMING_MESSAGE = ("verify checks whole pieces: use streaming_mode 0 or 1 (false/true), "
                            "not the token-chunk modes 2 and 3")

LEGACY_LANGUAGES = {
    "中文": "all_zh", "粤语": "all_yue", "英文": "en", "日文": "all_ja", "韩文": "all_ko",
    "中英混合": "zh", "粤英混合": "yue", "日英混合": "ja", "韩英混合": "ko",
    "多语种混合": "auto", "多语种混合(粤语)": "auto_yue",
}
"""api.py's language labels (the classic UI's) → codes; codes themselves are accepted too."""


def languages_for(version: str) -> tuple[str, ...]:
    return LANGUAGES_V1 if version == "v1" else LANGUAGES_V2


class TTSRequest(BaseModel):
    """``/tts`` (GET query or POST JSON): the api_v2 ``TTS_Request`` fields and defaults."""

    model_config = ConfigDict(extra="ignore")

    text: str | None = None
    text_lang: str | None = None
    ref_audio_path: str | None = None
    aux_ref_audio_paths: list[str] | None = None
    prompt_lang: str | None = None
    prompt_text: str = ""
    top_k: int = _SYNTH["top_k"]
    top_p: float = _SYNTH["top_p"]
    temperature: float = _SYNTH["temperature"]
    text_split_method: str = "cut5"
    batch_size: int = 1
    batch_threshold: float = 0.75
    split_bucket: bool = True
    speed_factor: float = 1.0
    fragment_interval: float = 0.3
    seed: int = -1
    media_type: str = "wav"
    streaming_mode: bool | int = False
    parallel_infer: bool = True
    repetition_penalty: float = _SYNTH["repetition_penalty"]
    sample_steps: int = 32
    super_sampling: bool = False
    overlap_length: int = 2
    min_chunk_length: int = 16
    # ours: speak with a project's voice (its latest exports; its reference when none is given)
    project: str | None = None
    voice: str | None = None
    # ours: verified synthesis (each piece transcribed; a bad one regenerated with another seed)
    verify: bool = False
    max_tries: int = VERIFY_MAX_TRIES
    verify_max_error: float = VERIFY_MAX_ERROR


def streaming_mode(value: bool | int) -> int | None:
    """0 (whole body), 1 (a fragment per piece), 2, 3 (token chunks); None if out of range."""
    if isinstance(value, bool):
        return 1 if value else 0
    return value if value in (0, 1, 2, 3) else None


def check(req: TTSRequest, version: str) -> str | None:
    """The first api_v2 validation message that applies, or None (same order as the official)."""
    langs = languages_for(version)
    if not req.ref_audio_path:
        return "ref_audio_path is required"
    if not req.text:
        return "text is required"
    if not req.text_lang:
        return "text_lang is required"
    if req.text_lang.lower() not in langs:
        return f"text_lang: {req.text_lang} is not supported in version {version}"
    if not req.prompt_lang:
        return "prompt_lang is required"
    if req.prompt_lang.lower() not in langs:
        return f"prompt_lang: {req.prompt_lang} is not supported in version {version}"
    if req.media_type not in MEDIA_TYPES:
        return f"media_type: {req.media_type} is not supported"
    if req.text_split_method not in CUT_METHODS:
        return f"text_split_method:{req.text_split_method} is not supported"
    if streaming_mode(req.streaming_mode) is None:
        return STREAMING_MESSAGE
    if req.verify:
        return verify_problem(req)
    return None


def verify_problem(req: TTSRequest) -> str | None:
    """Ours, checked after api_v2's own: the verify fields' ranges and the streaming modes they allow."""
    if (streaming_mode(req.streaming_mode) or 0) > 1:
        return VERIFY_STREAMING_MESSAGE
    low, high = VERIFY_MAX_TRIES_RANGE
    if not low <= req.max_tries <= high:
        return f"max_tries must be between {low} and {high}"
    low_e, high_e = VERIFY_MAX_ERROR_RANGE
    if not low_e <= req.verify_max_error <= high_e:
        return f"verify_max_error must be between {low_e:g} and {high_e:g}"
    from backend.checkup.verify import VerifyError, scoring_language

    try:
        scoring_language(req.text_lang or "")
    except VerifyError:
        return (f"verify needs the text's language, not {req.text_lang}: "
                "send text_lang all_zh, en, all_ja, all_ko or all_yue (or a mixed one such as zh)")
    return None


def speak_request(req: TTSRequest) -> SpeakRequest:
    """A checked ``/tts`` request in the pipeline's terms (modes 2 and 3 stream token chunks)."""
    mode = streaming_mode(req.streaming_mode)
    return SpeakRequest(
        token_streaming={2: "grow", 3: "fixed"}.get(mode or 0), min_chunk_tokens=max(1, req.min_chunk_length),
        overlap_tokens=max(0, req.overlap_length), parallel_infer=req.parallel_infer,
        text=req.text or "", lang=(req.text_lang or "").lower(), ref=req.ref_audio_path or "",
        ref_text=req.prompt_text or None, ref_lang=(req.prompt_lang or "").lower(),
        aux_refs=list(req.aux_ref_audio_paths or []), cut=req.text_split_method, top_k=req.top_k,
        top_p=req.top_p, temperature=req.temperature, repetition_penalty=req.repetition_penalty,
        speed=req.speed_factor, pause=req.fragment_interval, seed=req.seed, batch_size=max(1, req.batch_size),
        verify=VerifyRequest(req.max_tries, req.verify_max_error) if req.verify else None)


class LegacyRequest(BaseModel):
    """api.py's ``/`` (GET query or POST JSON)."""

    model_config = ConfigDict(extra="ignore")

    refer_wav_path: str | None = None
    prompt_text: str | None = None
    prompt_language: str | None = None
    text: str | None = None
    text_language: str | None = None
    cut_punc: str | None = None
    top_k: int = _SYNTH["top_k"]
    top_p: float = _SYNTH["top_p"]
    temperature: float = _SYNTH["temperature"]
    speed: float = _SYNTH["speed"]
    inp_refs: list[str] | None = None
    sample_steps: int = 32
    if_sr: bool = False


class LegacyReferenceRequest(BaseModel):
    """api.py's ``/change_refer``: the default reference triple."""

    model_config = ConfigDict(extra="ignore")

    refer_wav_path: str | None = None
    prompt_text: str | None = None
    prompt_language: str | None = None


class LegacyModelRequest(BaseModel):
    """api.py's ``/set_model``: new GPT and/or SoVITS weights."""

    model_config = ConfigDict(extra="ignore")

    gpt_model_path: str | None = None
    sovits_model_path: str | None = None


def legacy_answer(code: int, text: str) -> dict[str, Any]:
    """api.py's body shape: ``{"code": 0, "message": "Success"}``, ``{"code": 400, "message": …}``."""
    return {"code": code, "message": text}


def legacy_language(value: str | None) -> str | None:
    if value is None:
        return None
    return LEGACY_LANGUAGES.get(value, value.lower())


def legacy_text(text: str, cut_punc: str | None) -> str:
    """api.py's ``cut_punc``: a line break after each of those characters; the lines are the pieces."""
    if not cut_punc:
        return text
    out = "".join(ch + "\n" if ch in cut_punc else ch for ch in text)
    return "\n".join(line for line in out.split("\n") if line.strip())


class SpeechRequest(BaseModel):
    """OpenAI's ``POST /v1/audio/speech`` body; ``voice`` names a project."""

    model_config = ConfigDict(extra="ignore")

    model: str = "gsv"
    input: str
    voice: str
    response_format: str = "mp3"
    speed: float = 1.0


SPEECH_FORMATS = ("wav", "pcm", "opus", "aac", "flac", "mp3")


def message(text: str, **extra: Any) -> dict[str, Any]:
    return {"message": text, **extra}
