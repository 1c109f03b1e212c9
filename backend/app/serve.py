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

from ..stages.serve import DEFAULT_PORT, ServeSettings, serve_request

if TYPE_CHECKING:
    from ..stages import serve
    from .core import Application

SERVE_STAGE = "serve"

__all__ = ["DEFAULT_PORT", "SERVE_STAGE", "ServeLog", "ServeSettings", "project_serve_request", "serve_request"]


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
        return cls(app.jobs.events_path(job_id))

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
