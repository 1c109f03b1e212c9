"""Stage ``serve``: the voice over HTTP, compatible with the official ``api_v2.py`` (and ``api.py``).

``gsv serve [--project NAME] [--gpt PATH] [--sovits PATH] [--host 127.0.0.1] [--port 9880]
[--token SECRET] [--insecure] [--device D] [--precision P]``

A long-running job: it holds its GPU lease while it serves, survives the TUI and the SSH
session, and ``gsv jobs cancel ID`` stops it cleanly (requests in flight are given a few
seconds). The weights default to the project's latest exports (else the pretrained bases of its
version), the default reference to the clip chosen in review with ``r``. The events say where it
listens (``url``), a ready ``curl`` line, and one line per request (the request log).
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import GsvError
from ..infer.device import PRECISIONS
from ..jobs.events import Reporter
from .base import StageSpec

STAGE = StageSpec(name="serve", help="serve a voice over HTTP (api_v2-compatible; streaming; OpenAI-style speech)",
                  uses_gpu=True)

DEFAULT_PORT = 9880


class ServeStageError(GsvError):
    """``gsv serve`` was asked something it cannot do."""


@dataclass
class Params:
    workspace: Path
    gpt: Path | None = None
    sovits: Path | None = None
    project: str | None = None
    host: str = "127.0.0.1"
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
    max_waiting: int = 8  # requests queued behind the one being synthesised; more → 503
    max_voices: int = 2  # projects' voices kept loaded at once (least recently used goes first)
    max_tokens: int = 1500
    allowed_dirs: list[Path] = field(default_factory=list)
    allow_pypinyin: bool = False  # v2+ Chinese without G2PW: read with pypinyin instead of refusing


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--project", help="serve this project's voice: its latest exports, reference and language")
    parser.add_argument("--gpt", type=Path, help="GPT weights (.ckpt); default: the project's latest, else pretrained")
    parser.add_argument("--sovits", type=Path, help="SoVITS weights (.pth); default: the project's latest, else pretrained")
    parser.add_argument("--host", default="127.0.0.1",
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
    parser.add_argument("--queue", type=int, default=8, help="requests that may wait; more get 503 (default %(default)s)")
    parser.add_argument("--max-voices", type=int, default=2,
                        help="projects' voices kept loaded at once (default %(default)s)")
    parser.add_argument("--allow-pypinyin", action="store_true",
                        help="without the G2PW model, read v2+ Chinese with pypinyin (differs from the WebUI on polyphones)")
    parser.add_argument("--max-seconds", type=float, default=60.0,
                        help="longest speech per piece, seconds (the official cap is 60)")


def _abs(p: Path | None) -> Path | None:
    return Path(p).expanduser().absolute() if p else None


def params_from_args(args: argparse.Namespace, workspace: Any) -> Params:
    from ..config import load_config
    from ..infer.weights_choice import default_weights
    from ..serve.safety import check_binding
    from .infer import lang_option

    cfg = load_config()
    project = workspace.open_project(args.project) if args.project else None
    version = args.version or (project.version if project else "v2")
    gpt = args.gpt or default_weights(project, "gpt", version)
    sovits = args.sovits or default_weights(project, "sovits", version)
    ref = args.ref
    ref_text, ref_lang = args.ref_text, args.ref_lang
    chosen = (project.settings.get("reference") or {}) if project else {}
    if ref is None and chosen.get("audio_path"):
        ref, ref_text = Path(chosen["audio_path"]), ref_text or chosen.get("text")
        ref_lang = ref_lang or chosen.get("language")
    params = Params(
        workspace=Path(workspace.root).expanduser().absolute(), gpt=_abs(gpt), sovits=_abs(sovits),
        project=project.name if project else None, host=args.host, port=args.port, token=args.token or None,
        insecure=args.insecure, ref=_abs(ref), ref_text=ref_text,
        ref_lang=lang_option(ref_lang) or lang_option(project.language if project else None),
        version=version, hubert=_abs(args.hubert), bert=_abs(args.bert), sv=_abs(args.sv), device=args.device,
        precision=args.precision or cfg.precision, max_waiting=args.queue, max_voices=args.max_voices,
        max_tokens=int(round(args.max_seconds * 25)),
        allowed_dirs=[Path(d).expanduser().absolute() for d in cfg.serve.allowed_dirs],
        allow_pypinyin=args.allow_pypinyin)
    check_binding(params.host, params.token, params.insecure)
    check(params)
    return params


def check(params: Params) -> None:
    from ..infer.errors import MissingWeightsError

    if not 0 <= params.port <= 65535:
        raise ServeStageError(f"port {params.port} is not a port number", "use 1024–65535 (or 0 for any free port)")
    if params.max_waiting < 1 or params.max_voices < 1 or not 1 <= params.max_tokens <= 1500:
        raise ServeStageError("--queue and --max-voices must be at least 1, --max-seconds 0.04–60",
                              "change the values named")
    for kind, path in (("GPT", params.gpt), ("SoVITS", params.sovits)):
        if path is None:
            raise MissingWeightsError(
                f"no {kind} weights given, none exported in the project and no pretrained {params.version} base model",
                fix=f"pass --{kind.lower()} PATH, or run `gsv fetch-models {params.version}`")
        if not Path(path).is_file():
            raise MissingWeightsError(f"{kind} weights {path} do not exist", fix="check the path")


def project_of(params: Params) -> str | None:
    return params.project


def expected_outputs(params: Params) -> list[Path]:
    return []  # a server leaves no file behind; it succeeds by stopping cleanly


def curl_line(url: str, params: Params) -> str:
    auth = f" -H 'Authorization: Bearer {params.token}'" if params.token else ""
    return (f"curl -o out.wav{auth} '{url}/tts?text=Hello%20there.&text_lang=en"
            + (f"&ref_audio_path={params.ref}&prompt_lang={params.ref_lang or 'zh'}" if params.ref else
               "&ref_audio_path=/path/to/ref.wav&prompt_lang=zh&prompt_text=...") + "'")


def run(params: Params, report: Reporter) -> None:
    from ..serve import server
    from ..serve.app import DefaultReference, ServerState
    from ..serve.safety import PathRules, check_binding, is_loopback
    from ..serve.voice import VoiceFiles
    from ..serve.worker import ModelWorker

    check_binding(params.host, params.token, params.insecure)
    check(params)
    files = VoiceFiles(gpt=Path(params.gpt), sovits=Path(params.sovits), hubert=params.hubert,  # type: ignore[arg-type]
                       bert=params.bert, sv=params.sv, device=params.device, precision=params.precision,
                       max_tokens=params.max_tokens, allow_pypinyin=params.allow_pypinyin)
    control: list[str] = []
    reference = DefaultReference(str(params.ref), params.ref_text, params.ref_lang) if params.ref else None
    sock = server.bind(params.host, params.port)
    running = None
    try:
        while True:
            report.info(f"loading {files.gpt.name} + {files.sovits.name}")
            worker = ModelWorker(max_waiting=params.max_waiting, max_voices=params.max_voices)
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
