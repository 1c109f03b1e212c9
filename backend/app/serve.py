"""Serving a voice over HTTP: the ``serve`` job's request, built once for ``gsv serve`` and the
Inference screen's Serve action, and what the running job says (where it listens, its request log).

A project contributes its latest exports, the reference chosen in review and its language
(:func:`backend.serve.project.project_choice`); anything given explicitly wins. The server's
sampling defaults are not set here: they come from ``SynthesisParams`` inside the server.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..stages.serve import (
    DEFAULT_HOST,
    DEFAULT_MAX_SECONDS,
    DEFAULT_MAX_VOICES,
    DEFAULT_PORT,
    DEFAULT_QUEUE,
    TOKENS_PER_SECOND,
)

if TYPE_CHECKING:
    from ..config import Config
    from ..stages import serve
    from ..workspace import Workspace
    from .core import Application

SERVE_STAGE = "serve"


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


def serve_request(workspace: Workspace, config: Config, s: ServeSettings) -> serve.Params:
    """The ``serve`` Params for ``s`` (the project's weights, reference and language where ``s``
    leaves them open), checked: a GsvError names what cannot be served and how to fix it."""
    from ..infer.weights_choice import default_weights
    from ..serve.project import language_option, project_choice
    from ..serve.safety import check_binding
    from ..stages import serve

    project = workspace.open_project(s.project) if s.project else None
    choice = project_choice(project, s.version) if project is not None else None
    version = s.version or (choice.version if choice else "v2")
    gpt = s.gpt or (choice.gpt if choice else default_weights(None, "gpt", version))
    sovits = s.sovits or (choice.sovits if choice else default_weights(None, "sovits", version))
    ref, ref_text, ref_lang = s.ref, s.ref_text, s.ref_lang
    if ref is None and choice is not None and choice.ref is not None:
        ref, ref_text, ref_lang = choice.ref, ref_text or choice.ref_text, ref_lang or choice.ref_lang
    params = serve.Params(
        workspace=Path(workspace.root).expanduser().absolute(), gpt=_abs(gpt), sovits=_abs(sovits),
        project=choice.name if choice else None, host=s.host, port=s.port, token=s.token or None,
        insecure=s.insecure, ref=_abs(ref), ref_text=ref_text,
        ref_lang=language_option(ref_lang) or (choice.language if choice else None),
        version=version, hubert=_abs(s.hubert), bert=_abs(s.bert), sv=_abs(s.sv), device=s.device,
        precision=s.precision or config.precision, max_waiting=s.queue, max_voices=s.max_voices,
        max_tokens=round(s.max_seconds * TOKENS_PER_SECOND),
        allowed_dirs=[Path(d).expanduser().absolute() for d in config.serve.allowed_dirs],
        allow_pypinyin=s.allow_pypinyin, asr_engine=s.asr_engine, asr_model=_model(s.asr_model))
    check_binding(params.host, params.token, params.insecure)
    serve.check(params)
    return params


def project_serve_request(app: Application, s: ServeSettings) -> serve.Params:
    """``serve_request`` for the open project (what the Inference screen's Serve action starts)."""
    project = app.require_project()
    return serve_request(app.workspace, app.config, replace(s, project=project.name))


# --- what the running server says ------------------------------------------------------------
@dataclass
class ServeLog:
    """The serve job's events as the screen shows them: where it listens, the curl line, requests.

    Read incrementally from the job's ``events.jsonl`` (cheap: call it on every job update).
    """

    events_path: Path
    url: str | None = None
    host: str | None = None
    port: int | None = None
    curl: str | None = None
    lines: list[str] = field(default_factory=list)  # the request log and the server's own notes
    keep: int = 200
    _cursor: Any = field(default=None, repr=False)

    @classmethod
    def of_job(cls, app: Application, job_id: str) -> ServeLog:
        from ..jobs.record import EVENTS_FILE

        return cls(app.workspace.jobs_dir / job_id / EVENTS_FILE)

    def read_new(self) -> bool:
        """Take in the events written since the last call; True when anything changed."""
        from ..progress import EventCursor

        if self._cursor is None:
            self._cursor = EventCursor(self.events_path)
        changed = False
        for ev in self._cursor.read_new():
            kind = ev.get("kind")
            if kind == "summary" and isinstance(ev.get("data"), dict):
                data = ev["data"]
                self.url = str(data.get("url") or self.url or "") or None
                self.host = str(data.get("host")) if data.get("host") is not None else self.host
                self.port = int(data["port"]) if isinstance(data.get("port"), int) else self.port
                changed = True
            elif kind == "message" and isinstance(ev.get("text"), str):
                text = ev["text"]
                if text.startswith("curl "):
                    self.curl = text
                else:
                    level = ev.get("level", "info")
                    self.lines.append(text if level == "info" else f"{level}: {text}")
                    del self.lines[:-self.keep]
                changed = True
        return changed

    @property
    def bound(self) -> str | None:
        """The bound address as ``host:port`` (IPv6 in brackets)."""
        if self.host is None or self.port is None:
            return None
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"
