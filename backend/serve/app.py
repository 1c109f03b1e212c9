"""The HTTP surface: api_v2's endpoints, api.py's ``/``, an OpenAI-style speech endpoint.

Handlers are plain functions (FastAPI runs them in its thread pool), so waiting on the model
worker never blocks the event loop; streamed bodies are generators fed by the worker as each
piece is decoded, so the first audio leaves before the rest of the text is synthesised.

Status codes and bodies follow api_v2: 400 ``{"message": ...}`` for its validation messages and
``{"message": "tts failed", "Exception": ...}`` when synthesis fails, 422 from FastAPI for values
of the wrong type. Ours on top: 401 without the token, 403 for a non-loopback ``Host`` on a
token-less server, 413 for an oversized body, 503 + ``Retry-After`` when the queue is full.

With ``verify`` the answer waits for the verified take (every piece settled) even in
streaming_mode 1, because its headers say how many tries each piece took: ``X-Verify-Tries``
(per piece, comma-separated), ``X-Verify-Kept`` (the try kept, from 1) and ``X-Verify-Failed``
(pieces no try got right).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from fastapi import FastAPI, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from ..audio.io import wav_header
from .media import CONTENT_TYPES, encode, to_int16
from .requests import (
    SPEECH_FORMATS,
    LegacyModelRequest,
    LegacyReferenceRequest,
    LegacyRequest,
    SpeechRequest,
    TTSRequest,
    check,
    legacy_answer,
    legacy_language,
    legacy_text,
    message,
    speak_request,
    streaming_mode,
)
from .safety import (
    MAX_BODY_BYTES,
    MAX_TEXT_CHARS,
    MAX_UPLOAD_BYTES,
    PathRules,
    host_header_is_loopback,
    token_matches,
)
from .uploads import audio_from_upload, store_reference
from .voice import ProjectVoice, SpeakRequest, VoiceFiles, project_names, project_voice
from .worker import ModelWorker, ServerBusy, Stream, WorkerPool

RETRY_AFTER_S = 5


@dataclass
class DefaultReference:
    path: str
    text: str | None = None
    lang: str | None = None


@dataclass
class ServerState:
    """What the server was started with and what clients changed since (weights, reference)."""

    files: VoiceFiles
    workspace: Path
    rules: PathRules
    token: str | None = None
    loopback_hosts_only: bool = True
    reference: DefaultReference | None = None
    version: str = "v2"
    max_waiting: int = 8
    max_voices: int = 2
    log: Callable[[str], None] = lambda line: None
    control: Callable[[str], None] = lambda command: None
    projects: dict[str, ProjectVoice] = field(default_factory=dict)


class RequestError(Exception):
    """Answered as ``status`` with a JSON ``body`` (api_v2's shapes)."""

    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        super().__init__(body.get("message", ""))
        self.status, self.body, self.headers = status, body, headers or {}


def create_app(state: ServerState, worker: ModelWorker | WorkerPool) -> FastAPI:
    app = FastAPI(title="gsv serve", description="GPT-SoVITS api_v2-compatible speech server")

    @app.exception_handler(RequestError)
    def _request_error(_request: Request, exc: RequestError) -> JSONResponse:
        return JSONResponse(exc.body, status_code=exc.status, headers=exc.headers)

    @app.middleware("http")
    async def _guard(request: Request, call_next: Any) -> Any:
        started = time.perf_counter()
        if state.token:
            if not token_matches(state.token, request.headers.get("authorization"),
                                 request.query_params.get("token")):
                return JSONResponse(message("a valid token is required: send `Authorization: Bearer <token>` "
                                            "or ?token=<token>"), status_code=401,
                                    headers={"WWW-Authenticate": "Bearer"})
        elif state.loopback_hosts_only and not host_header_is_loopback(request.headers.get("host")):
            return JSONResponse(message("this server answers only requests addressed to a loopback host"),
                                status_code=403)
        length = request.headers.get("content-length")
        limit = MAX_UPLOAD_BYTES if request.url.path == "/upload_ref" else MAX_BODY_BYTES
        if length is not None and length.isdigit() and int(length) > limit:
            return JSONResponse(message(f"the request body is larger than {limit} bytes"), status_code=413)
        response = await call_next(request)
        state.log(f"{request.method} {request.url.path} {response.status_code} "
                  f"{time.perf_counter() - started:.2f}s")
        return response

    # --- helpers ---------------------------------------------------------------------------
    def confined(field_name: str, path: str) -> str:
        if not state.rules.allows(path):
            raise RequestError(400, message(f"{field_name}: {path} is not allowed: {state.rules.rule()}"))
        return path

    def voice_of(name: str) -> ProjectVoice:
        try:
            pv = project_voice(state.workspace, name, state.files)
        except Exception as e:
            raise RequestError(400, message(f"voice {name} is not available", Exception=_text(e))) from e
        state.projects[name] = pv
        return pv

    def submit(files: VoiceFiles, req: SpeakRequest) -> Stream:
        try:
            return worker.submit(files, req)
        except ServerBusy as e:
            raise RequestError(503, message(e.message), {"Retry-After": str(RETRY_AFTER_S)}) from e
        except Exception as e:
            raise RequestError(400, message("tts failed", Exception=_text(e))) from e

    def respond(stream: Stream, media_type: str, streaming: bool, verified: bool = False) -> Response:
        content_type = CONTENT_TYPES.get(media_type, f"audio/{media_type}")
        try:
            if verified:  # the headers count every piece's tries: wait for the whole take
                parts = list(stream)
                headers = {**_seed_header(stream), **_verify_headers(stream)}
                if streaming:
                    return StreamingResponse(_chunks(parts, stream.sample_rate, media_type, state.log),
                                             media_type=content_type, headers=headers)
                audio = np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)
                return Response(encode(to_int16(audio), stream.sample_rate, media_type), media_type=content_type,
                                headers=headers)
            if not streaming:
                body = encode(to_int16(stream.collect()), stream.sample_rate, media_type)
                return Response(body, media_type=content_type, headers=_seed_header(stream))
            stream.first_audio()
        except Exception as e:
            raise RequestError(400, message("tts failed", Exception=_text(e))) from e
        return StreamingResponse(_chunks(stream, stream.sample_rate, media_type, state.log), media_type=content_type)

    # --- api_v2 -----------------------------------------------------------------------------
    def tts(req: TTSRequest) -> Response:
        files, version = state.files, state.version
        name = req.project or req.voice
        ref_given = bool(req.ref_audio_path)
        if name:
            pv = voice_of(name)
            files, version = pv.files, pv.version
            if not ref_given and pv.ref:
                req = req.model_copy(update={"ref_audio_path": pv.ref, "prompt_text": req.prompt_text or pv.ref_text or "",
                                             "prompt_lang": req.prompt_lang or pv.ref_lang})
        elif not ref_given and state.reference is not None:
            ref = state.reference
            req = req.model_copy(update={"ref_audio_path": ref.path,
                                         "prompt_text": req.prompt_text or ref.text or "",
                                         "prompt_lang": req.prompt_lang or ref.lang})
        problem = check(req, version)
        if problem:
            raise RequestError(400, message(problem))
        if len(req.text or "") > MAX_TEXT_CHARS:
            raise RequestError(400, message(f"text is longer than {MAX_TEXT_CHARS} characters; send it in parts"))
        if ref_given:
            confined("ref_audio_path", req.ref_audio_path or "")
        for aux in req.aux_ref_audio_paths or []:
            confined("aux_ref_audio_paths", aux)
        mode = streaming_mode(req.streaming_mode) or 0
        return respond(submit(files, speak_request(req)), req.media_type, streaming=mode > 0, verified=req.verify)

    @app.get("/tts")
    def tts_get(req: Annotated[TTSRequest, Query()]) -> Response:
        return tts(req)

    @app.post("/tts")
    def tts_post(req: TTSRequest) -> Response:
        return tts(req)

    def switch_weights(gpt: str | None, sovits: str | None) -> None:
        """Load the new pair on the model worker(s) first, then make it the server's: requests
        accepted before keep the old voice, those after get the new one. Raises on failure."""
        files = state.files
        if gpt:
            files = replace(files, gpt=Path(gpt))
        if sovits:
            files = replace(files, sovits=Path(sovits))
        loaded = worker.load(files)
        state.files, state.version = files, loaded.version or state.version

    def set_weights(kind: str, weights_path: str | None) -> JSONResponse:
        if not weights_path:
            raise RequestError(400, message(f"{kind} weight path is required"))
        confined("weights_path", weights_path)
        try:
            switch_weights(weights_path if kind == "gpt" else None, weights_path if kind == "sovits" else None)
        except Exception as e:
            raise RequestError(400, message(f"change {kind} weight failed", Exception=_text(e))) from e
        return JSONResponse(message("success"))

    @app.get("/set_gpt_weights")
    def set_gpt_weights(weights_path: str | None = None) -> JSONResponse:
        return set_weights("gpt", weights_path)

    @app.get("/set_sovits_weights")
    def set_sovits_weights(weights_path: str | None = None) -> JSONResponse:
        return set_weights("sovits", weights_path)

    @app.get("/set_refer_audio")
    def set_refer_audio(refer_audio_path: str | None = None, prompt_text: str | None = None,
                        prompt_lang: str | None = None) -> JSONResponse:
        try:
            if not refer_audio_path:
                raise ValueError("refer_audio_path is required")
            confined("refer_audio_path", refer_audio_path)
            from .voice import check_reference

            check_reference(refer_audio_path)
        except RequestError:
            raise
        except Exception as e:
            raise RequestError(400, message("set refer audio failed", Exception=_text(e))) from e
        old = state.reference
        state.reference = DefaultReference(refer_audio_path, prompt_text or (old.text if old else None),
                                           (prompt_lang or (old.lang if old else None)))
        return JSONResponse(message("success"))

    @app.get("/control")
    def control(command: str | None = None) -> Response:
        if command not in ("restart", "exit"):
            raise RequestError(400, message("command is required"))
        state.control(command)
        return Response(status_code=200)

    # --- api.py (legacy) ----------------------------------------------------------------------
    def legacy(req: LegacyRequest) -> Response:
        ref_path, ref_text, ref_lang = req.refer_wav_path, req.prompt_text, legacy_language(req.prompt_language)
        if not (ref_path and ref_text and ref_lang):
            if state.reference is None:
                raise RequestError(400, {"code": 400, "message": "未指定参考音频且接口无预设"})
            ref_path, ref_text = state.reference.path, state.reference.text
            ref_lang = state.reference.lang
        else:
            confined("refer_wav_path", ref_path)
        for extra in req.inp_refs or []:
            confined("inp_refs", extra)
        if not req.text:
            raise RequestError(400, {"code": 400, "message": "text is required"})
        lang = legacy_language(req.text_language) or ref_lang or "auto"
        speak = SpeakRequest(text=legacy_text(req.text, req.cut_punc), lang=lang, ref=ref_path, ref_text=ref_text,
                             ref_lang=ref_lang or lang, aux_refs=list(req.inp_refs or []), cut="cut0",
                             top_k=req.top_k, top_p=req.top_p, temperature=req.temperature, speed=req.speed,
                             batch_size=1, parallel_infer=False)  # api.py runs the classic UI's path
        return respond(submit(state.files, speak), "wav", streaming=False)

    @app.get("/")
    def legacy_get(req: Annotated[LegacyRequest, Query()]) -> Response:
        return legacy(req)

    @app.post("/")
    def legacy_post(req: LegacyRequest) -> Response:
        return legacy(req)

    def legacy_confined(field_name: str, path: str) -> str:
        if not state.rules.allows(path):
            raise RequestError(400, legacy_answer(400, f"{field_name}: {path} is not allowed: {state.rules.rule()}"))
        return path

    def change_refer(req: LegacyReferenceRequest) -> JSONResponse:
        """api.py's: any of the triple replaces that part of the default reference."""
        lang = legacy_language(req.prompt_language) if req.prompt_language else None
        if not (req.refer_wav_path or req.prompt_text or lang):
            raise RequestError(400, legacy_answer(400, "send refer_wav_path, prompt_text or prompt_language"))
        old = state.reference
        path = req.refer_wav_path or (old.path if old else None)
        if not path:
            raise RequestError(400, legacy_answer(400, "there is no default reference yet: send refer_wav_path"))
        if req.refer_wav_path:
            legacy_confined("refer_wav_path", path)
            try:
                from .voice import check_reference

                check_reference(path)
            except Exception as e:
                raise RequestError(400, legacy_answer(400, f"refer_wav_path: {_text(e)}")) from e
        state.reference = DefaultReference(path, req.prompt_text or (old.text if old else None),
                                           lang or (old.lang if old else None))
        return JSONResponse(legacy_answer(0, "Success"))

    @app.get("/change_refer")
    def change_refer_get(req: Annotated[LegacyReferenceRequest, Query()]) -> JSONResponse:
        return change_refer(req)

    @app.post("/change_refer")
    def change_refer_post(req: LegacyReferenceRequest) -> JSONResponse:
        return change_refer(req)

    def set_model(req: LegacyModelRequest) -> JSONResponse:
        if not (req.gpt_model_path or req.sovits_model_path):
            raise RequestError(400, legacy_answer(400, "send gpt_model_path and/or sovits_model_path"))
        for field_name, path in (("gpt_model_path", req.gpt_model_path), ("sovits_model_path", req.sovits_model_path)):
            if path:
                legacy_confined(field_name, path)
        try:
            switch_weights(req.gpt_model_path, req.sovits_model_path)
        except Exception as e:
            raise RequestError(400, legacy_answer(400, f"change weights failed: {_text(e)}")) from e
        return JSONResponse(legacy_answer(0, "Success"))

    @app.get("/set_model")
    def set_model_get(req: Annotated[LegacyModelRequest, Query()]) -> JSONResponse:
        return set_model(req)

    @app.post("/set_model")
    def set_model_post(req: LegacyModelRequest) -> JSONResponse:
        return set_model(req)

    # --- OpenAI-style -------------------------------------------------------------------------
    @app.post("/v1/audio/speech")
    def speech(req: SpeechRequest) -> Response:
        fmt = req.response_format
        if fmt not in SPEECH_FORMATS:
            raise RequestError(400, {"error": {"message": f"response_format {fmt} is not supported; "
                                                          f"use one of {', '.join(SPEECH_FORMATS)}",
                                               "type": "invalid_request_error"}})
        pv = voice_of(req.voice)
        if not pv.ref:
            raise RequestError(400, {"error": {"message": f"project {req.voice} has no reference clip: choose one "
                                                          "in review with r", "type": "invalid_request_error"}})
        speak = SpeakRequest(text=req.input, lang=pv.language, ref=pv.ref, ref_text=pv.ref_text,
                             ref_lang=pv.ref_lang or pv.language, speed=req.speed)
        return respond(submit(pv.files, speak), fmt, streaming=False)

    @app.get("/v1/models")
    def models() -> JSONResponse:
        names = project_names(state.workspace)
        return JSONResponse({"object": "list", "data": [{"id": n, "object": "model", "owned_by": "gsv"}
                                                        for n in names]})

    @app.post("/upload_ref")
    async def upload_ref(request: Request) -> JSONResponse:
        body = await request.body()
        if len(body) > MAX_UPLOAD_BYTES:
            raise RequestError(413, message(f"the upload is larger than {MAX_UPLOAD_BYTES} bytes"))
        try:
            data, suffix = audio_from_upload(request.headers.get("content-type", ""), body)
        except ValueError as e:
            raise RequestError(400, message(str(e))) from e
        try:
            stored = await run_in_threadpool(store_reference, state.workspace, data, suffix)
        except ValueError as e:
            raise RequestError(400, message("upload refused", Exception=str(e))) from e
        return JSONResponse(stored)

    @app.get("/health")
    def health() -> JSONResponse:
        return JSONResponse({"status": "ok", "version": state.version, "gpt": str(state.files.gpt),
                             "sovits": str(state.files.sovits), "current": worker.activity})

    return app



def _text(e: BaseException) -> str:
    return getattr(e, "message", None) or str(e)


def _seed_header(stream: Stream) -> dict[str, str]:
    return {"X-Seed": str(stream.seed)} if stream.seed is not None else {}


def _verify_headers(stream: Stream) -> dict[str, str]:
    spoken = stream.spoken
    if spoken is None or spoken.tries is None:
        return {}
    return {"X-Verify-Tries": ",".join(map(str, spoken.tries)),
            "X-Verify-Kept": ",".join(map(str, spoken.kept or [])), "X-Verify-Failed": str(spoken.failed)}


def _chunks(chunks: Iterable[np.ndarray], sample_rate: int, media_type: str,
            log: Callable[[str], None]) -> Iterator[bytes]:
    """The streamed body: for wav a header of unknown length first, then each chunk as it comes
    (PCM for wav/raw, a complete encoded stream each for ogg/aac)."""
    if media_type == "wav":
        yield wav_header(sample_rate)
    try:
        for chunk in chunks:
            samples = to_int16(np.asarray(chunk))
            yield samples.astype("<i2").tobytes() if media_type in ("wav", "raw") else encode(
                samples, sample_rate, media_type)
    except Exception as e:  # noqa: BLE001 - headers are sent: the body ends early, the log says why
        log(f"stream ended early: {_text(e)}")
