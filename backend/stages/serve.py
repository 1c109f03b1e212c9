"""Stage ``serve``: the voice over HTTP, compatible with the official ``api_v2.py`` (and ``api.py``).

``gsv serve [--project NAME] [--gpt PATH] [--sovits PATH] [--host 127.0.0.1] [--port 9880]
[--token SECRET] [--insecure] [--device D] [--precision P] [--asr-engine E] [--asr-model M]``

A long-running job: it holds its GPU lease while it serves, survives the TUI and the SSH
session, and ``gsv jobs cancel ID`` stops it cleanly (requests in flight are given a few
seconds). The weights default to the project's latest exports (else the pretrained bases of its
version), the default reference to the clip chosen in review with ``r``. The events say where it
listens (``url``), a ready ``curl`` line, and one line per request (the request log).
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import GsvError
from ..infer.device import PRECISIONS
from ..infer.params import MAX_SECONDS_PROBLEM, MAX_TOKENS, seconds_to_tokens
from ..progress import Reporter
from .base import StageSpec

if TYPE_CHECKING:
    from ..config import Config
    from ..workspace import Workspace

STAGE = StageSpec(name="serve", help="serve a voice over HTTP (api_v2-compatible; streaming; OpenAI-style speech)",
                  uses_gpu=True)

DEFAULT_HOST = "127.0.0.1"  # this machine only: beyond it needs a token
DEFAULT_PORT = 9880  # api_v2's
DEFAULT_QUEUE = 8  # requests queued behind the one being synthesised; more → 503
DEFAULT_MAX_VOICES = 2  # projects' voices kept loaded at once (least recently used goes first)
DEFAULT_MAX_SECONDS = 60.0  # longest speech per piece (the official cap)


class ServeStageError(GsvError):
    """``gsv serve`` was asked something it cannot do."""


@dataclass
class Params:
    workspace: Path
    gpt: Path | None = None
    sovits: Path | None = None
    project: str | None = None
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    token: str | None = None
    insecure: bool = False
    ref: Path | None = None
    ref_text: str | None = None
    ref_lang: str | None = None
    version: str = "v2"
    hubert: Path | None = None
    bert: Path | None = None
    sv: Path | None = None
    device: str = "auto"
    precision: str = "auto"
    max_waiting: int = DEFAULT_QUEUE
    max_voices: int = DEFAULT_MAX_VOICES
    max_tokens: int = seconds_to_tokens(DEFAULT_MAX_SECONDS)
    allowed_dirs: list[Path] = field(default_factory=list)
    allow_pypinyin: bool = False  # v2+ Chinese without G2PW: read with pypinyin instead of refusing
    asr_engine: str | None = None  # verified requests (``verify``): None = config.toml's for the language
    asr_model: str | None = None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--project", help="serve this project's voice: its latest exports, reference and language")
    parser.add_argument("--gpt", type=Path, help="GPT weights (.ckpt); default: the project's latest, else pretrained")
    parser.add_argument("--sovits", type=Path, help="SoVITS weights (.pth); default: the project's latest, else pretrained")
    parser.add_argument("--host", default=DEFAULT_HOST,
                        help="address to listen on (default %(default)s: this machine only; beyond it needs --token)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="default %(default)s (0: any free port)")
    parser.add_argument("--token", help="require this token (`Authorization: Bearer TOKEN` or ?token=TOKEN)")
    parser.add_argument("--insecure", action="store_true",
                        help="allow listening beyond loopback without a token (every machine that can reach it is trusted)")
    parser.add_argument("--ref", type=Path, help="default reference clip (default: the project's, chosen in review)")
    parser.add_argument("--ref-text", help="what the default reference says")
    parser.add_argument("--ref-lang", help="language of the default reference text (e.g. zh, en, ja)")
    parser.add_argument("--device", default="auto", help="auto (CUDA if present), cpu, cuda, cuda:N")
    parser.add_argument("--precision", choices=PRECISIONS, default=None,
                        help="auto (default: config.toml `precision`) = fp16 on a GPU, fp32 on the CPU")
    parser.add_argument("--version", default=None, choices=("v1", "v2", "v2Pro", "v2ProPlus"),
                        help="pretrained base models to fall back to (default: the project's version, else v2)")
    parser.add_argument("--hubert", type=Path, help="chinese-hubert-base folder (default: the pretrained one)")
    parser.add_argument("--bert", type=Path, help="chinese-roberta-wwm-ext-large folder (default: the pretrained one)")
    parser.add_argument("--sv", type=Path, help="speaker-verification checkpoint for v2Pro/v2ProPlus")
    parser.add_argument("--queue", type=int, default=DEFAULT_QUEUE, help="requests that may wait; more get 503 (default %(default)s)")
    parser.add_argument("--max-voices", type=int, default=DEFAULT_MAX_VOICES,
                        help="projects' voices kept loaded at once (default %(default)s)")
    parser.add_argument("--allow-pypinyin", action="store_true",
                        help="without the G2PW model, read v2+ Chinese with pypinyin (differs from the WebUI on polyphones)")
    parser.add_argument("--max-seconds", type=float, default=DEFAULT_MAX_SECONDS,
                        help="longest speech per piece, seconds (the official cap is 60)")
    parser.add_argument("--asr-engine", choices=("faster-whisper", "funasr"), default=None,
                        help="ASR engine that hears verified requests (/tts verify=true); default: config.toml "
                             "asr_engine for the text's language, as `gsv infer --verify`; loaded at the first one")
    parser.add_argument("--asr-model", help="ASR model name or local folder for verified requests "
                                            "(default: the engine's own)")


@dataclass
class ServeSettings:
    """What to serve and how; None = the project's choice, else the declared default."""

    project: str | None = None
    gpt: Path | None = None
    sovits: Path | None = None
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT  # 0: any free port
    token: str | None = None
    insecure: bool = False
    ref: Path | None = None
    ref_text: str | None = None
    ref_lang: str | None = None  # a project language (zh, en) or a synthesis option (all_zh, en)
    version: str | None = None
    hubert: Path | None = None
    bert: Path | None = None
    sv: Path | None = None
    device: str = "auto"
    precision: str | None = None  # None: config.toml's
    queue: int = DEFAULT_QUEUE
    max_voices: int = DEFAULT_MAX_VOICES
    max_seconds: float = DEFAULT_MAX_SECONDS
    allow_pypinyin: bool = False  # v2+ Chinese without G2PW: pypinyin readings instead of a refusal
    asr_engine: str | None = None  # verified requests: None = config.toml's engine for the text's language
    asr_model: str | None = None  # verified requests: a model name or local folder; None = the engine's default


def _abs(p: Path | str | None) -> Path | None:
    return Path(p).expanduser().absolute() if p else None


def _model(name: str | None) -> str | None:
    """A local model folder as an absolute path (the job may run elsewhere); a model name as given."""
    return str(_abs(name)) if name and Path(name).expanduser().exists() else name


def serve_request(workspace: Workspace, config: Config, s: ServeSettings) -> Params:
    """The ``serve`` Params for ``s`` (the project's weights, reference and language where ``s``
    leaves them open), checked: a GsvError names what cannot be served and how to fix it."""
    from ..infer.params import lang_option
    from ..infer.weights_choice import default_weights
    from ..serve.project import project_choice
    from ..serve.safety import check_binding
    project = workspace.open_project(s.project) if s.project else None
    choice = project_choice(project, s.version) if project is not None else None
    version = s.version or (choice.version if choice else "v2")
    gpt = s.gpt or (choice.gpt if choice else default_weights(None, "gpt", version))
    sovits = s.sovits or (choice.sovits if choice else default_weights(None, "sovits", version))
    ref, ref_text, ref_lang = s.ref, s.ref_text, s.ref_lang
    if ref is None and choice is not None and choice.ref is not None:
        ref, ref_text, ref_lang = choice.ref, ref_text or choice.ref_text, ref_lang or choice.ref_lang
    params = Params(
        workspace=Path(workspace.root).expanduser().absolute(), gpt=_abs(gpt), sovits=_abs(sovits),
        project=choice.name if choice else None, host=s.host, port=s.port, token=s.token or None,
        insecure=s.insecure, ref=_abs(ref), ref_text=ref_text,
        ref_lang=lang_option(ref_lang) or (choice.language if choice else None),
        version=version, hubert=_abs(s.hubert), bert=_abs(s.bert), sv=_abs(s.sv), device=s.device,
        precision=s.precision or config.precision, max_waiting=s.queue, max_voices=s.max_voices,
        max_tokens=seconds_to_tokens(s.max_seconds),
        allowed_dirs=[Path(d).expanduser().absolute() for d in config.serve.allowed_dirs],
        allow_pypinyin=s.allow_pypinyin, asr_engine=s.asr_engine, asr_model=_model(s.asr_model))
    check_binding(params.host, params.token, params.insecure)
    check(params)
    return params


def params_from_args(args: argparse.Namespace, workspace: Any) -> Params:
    """The options as :class:`ServeSettings`: the Inference screen's Serve action (through the
    application layer) builds its request the same way."""
    from ..config import load_config

    settings = ServeSettings(
        project=args.project, gpt=args.gpt, sovits=args.sovits, host=args.host, port=args.port, token=args.token,
        insecure=args.insecure, ref=args.ref, ref_text=args.ref_text, ref_lang=args.ref_lang, version=args.version,
        hubert=args.hubert, bert=args.bert, sv=args.sv, device=args.device, precision=args.precision,
        queue=args.queue, max_voices=args.max_voices, max_seconds=args.max_seconds,
        allow_pypinyin=args.allow_pypinyin, asr_engine=args.asr_engine, asr_model=args.asr_model)
    return serve_request(workspace, load_config(), settings)


def check(params: Params) -> None:
    from ..infer.errors import require_weight_files

    if not 0 <= params.port <= 65535:
        raise ServeStageError(f"port {params.port} is not a port number", "use 1024–65535 (or 0 for any free port)")
    if params.max_waiting < 1 or params.max_voices < 1:
        raise ServeStageError("--queue and --max-voices must be at least 1", "change the values named")
    if not 1 <= params.max_tokens <= MAX_TOKENS:
        raise ServeStageError(MAX_SECONDS_PROBLEM, "change --max-seconds")
    require_weight_files(params.gpt, params.sovits, params.version)


def project_of(params: Params) -> str | None:
    return params.project


def expected_outputs(params: Params) -> list[Path]:
    return []  # a server leaves no file behind; it succeeds by stopping cleanly


def curl_line(url: str, params: Params) -> str:
    """A request to paste: with a default reference the text alone will do (short enough for one
    80-column line); without one it shows which fields to fill in."""
    auth = f" -H 'Authorization: Bearer {params.token}'" if params.token else ""
    query = "text=Hello%20there.&text_lang=en" + (
        "" if params.ref else "&ref_audio_path=/path/to/ref.wav&prompt_lang=zh&prompt_text=...")
    return f"curl -o out.wav{auth} '{url}/tts?{query}'"


def leased_gpus() -> list[str]:
    """The GPUs this job leased (set by the job supervisor; none for ``--now`` or a CPU job)."""
    return [g for g in os.environ.get("GSV_JOB_GPUS", "").split(",") if g.strip()]


def run(params: Params, report: Reporter) -> None:
    from ..listen.hosts import is_loopback
    from ..serve import server
    from ..serve.app import DefaultReference, ServerState
    from ..serve.safety import PathRules, check_binding
    from ..serve.voice import VoiceFiles
    from ..serve.worker import WorkerPool, worker_devices

    check_binding(params.host, params.token, params.insecure)
    check(params)
    files = VoiceFiles(gpt=Path(params.gpt), sovits=Path(params.sovits), hubert=params.hubert,  # type: ignore[arg-type]
                       bert=params.bert, sv=params.sv, device=params.device, precision=params.precision,
                       max_tokens=params.max_tokens, allow_pypinyin=params.allow_pypinyin,
                       asr_engine=params.asr_engine, asr_model=params.asr_model)
    devices = worker_devices(params.device, leased_gpus())
    control: list[str] = []
    reference = DefaultReference(str(params.ref), params.ref_text, params.ref_lang) if params.ref else None
    sock = server.bind(params.host, params.port)
    running = None
    try:
        while True:
            report.info(f"loading {files.gpt.name} + {files.sovits.name}"
                        + (f" on {len(devices)} GPUs (a model worker each)" if len(devices) > 1 else ""))
            worker = WorkerPool(devices, max_waiting=params.max_waiting, max_voices=params.max_voices)
            loaded = worker.load(files)
            state = ServerState(files=files, workspace=params.workspace,
                                rules=PathRules([params.workspace, *params.allowed_dirs]), token=params.token,
                                loopback_hosts_only=is_loopback(params.host) and not params.token,
                                reference=reference, version=loaded.version, max_waiting=params.max_waiting,
                                max_voices=params.max_voices, log=report.info, control=control.append)
            running = server.start(state, worker, sock)
            report.info(f"{loaded.version} voice at {loaded.sample_rate} Hz; serving on {running.url}")
            report.info(curl_line(running.url, params))
            report.summary({"url": running.url, "host": running.host, "port": running.port})
            while running.thread.is_alive() and not control:
                time.sleep(0.2)
            command = control.pop(0) if control else "exit"
            files, reference, port = state.files, state.reference, running.port
            running.stop()
            running = None
            if command != "restart":
                report.info("server stopped")
                return
            report.info("restarting")
            sock = server.bind(params.host, port)
    finally:
        if running is not None:
            running.stop()
