"""The persistent job record: ``<jobs_dir>/<id>/job.json`` and the files beside it.

One folder per job holds everything anyone needs to know about it after the fact:

- ``job.json``     this record (written atomically, only under the workspace lock)
- ``events.jsonl`` progress / metrics / artifacts / messages (:mod:`backend.jobs.events`)
- ``log.txt``      the stage's full stdout and stderr, plus a few framing lines from the supervisor
- ``result.json``  what the runner concluded (reason, expected outputs) just before exiting
- ``exit.json``    what the supervisor saw: exit code or signal of the runner (written atomically)
- ``supervisor.log`` the supervisor's own stderr (empty unless the job machinery itself broke)

A record that cannot be read is never a crash: :func:`load_record` returns a record whose
``outcome`` is ``"corrupt"`` and whose ``error`` says why, so listings show it and move on.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..fsutil import atomic_write_text
from .events import EventCursor

RECORD_FILE = "job.json"
EVENTS_FILE = "events.jsonl"
LOG_FILE = "log.txt"
RESULT_FILE = "result.json"
EXIT_FILE = "exit.json"
SUPERVISOR_LOG = "supervisor.log"

STATES = ("queued", "running", "finished")
OUTCOMES = ("succeeded", "failed", "cancelled", "lost", "corrupt")

JOB_ID_RE = re.compile(r"^\d{8}-\d{6}-[0-9a-f]{4,}$")


def now_iso() -> str:
    """UTC time with microseconds, always the same width: sorts as text and orders the queue."""
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def new_job_id() -> str:
    """``YYYYMMDD-HHMMSS-xxxx``: sorts by creation, short enough to type, unique with the suffix."""
    return datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(2)


@dataclass
class Progress:
    """The latest ``progress`` event of a job (all None before the stage reported any)."""

    done: float | None = None
    total: float | None = None
    unit: str | None = None
    label: str | None = None

    @property
    def fraction(self) -> float | None:
        if self.done is None or not self.total:
            return None
        return max(0.0, min(1.0, float(self.done) / float(self.total)))

    def to_json(self) -> dict[str, Any]:
        return {"done": self.done, "total": self.total, "unit": self.unit, "label": self.label}


@dataclass
class JobRecord:
    """Everything about one job. ``job_dir``, ``progress`` and ``error`` are not stored in job.json:
    the folder is where the record was read from, progress comes from the events file, and error
    is set only on records that could not be read."""

    id: str
    stage: str
    params: dict[str, Any] = field(default_factory=dict)
    project: str | None = None
    state: str = "queued"
    outcome: str | None = None
    exit_code: int | None = None
    signal: int | None = None
    reason: str | None = None
    gpus: list[str] = field(default_factory=list)
    after: str | None = None
    created: str = ""
    started: str | None = None
    finished: str | None = None
    pid: int | None = None
    pgid: int | None = None
    pid_start_time: int | None = None
    supervisor_pid: int | None = None
    supervisor_start_time: int | None = None
    boot_id: str | None = None  # the machine's boot when pid/start times were taken
    argv: list[str] = field(default_factory=list)
    cwd: str | None = None
    cancel_requested: bool = False
    # not persisted:
    job_dir: Path | None = field(default=None, repr=False, compare=False)
    progress: Progress = field(default_factory=Progress, repr=False, compare=False)
    error: str | None = field(default=None, compare=False)

    _TRANSIENT = ("job_dir", "progress", "error")

    # --- paths ---------------------------------------------------------------------------
    def path(self, name: str) -> Path:
        if self.job_dir is None:
            raise ValueError(f"job {self.id} has no folder")
        return self.job_dir / name

    @property
    def log_path(self) -> Path:
        return self.path(LOG_FILE)

    @property
    def events_path(self) -> Path:
        return self.path(EVENTS_FILE)

    # --- state helpers -------------------------------------------------------------------
    @property
    def is_finished(self) -> bool:
        return self.state == "finished"

    @property
    def is_corrupt(self) -> bool:
        return self.outcome == "corrupt"

    # --- persistence ---------------------------------------------------------------------
    def stored_fields(self) -> dict[str, Any]:
        data = asdict(self)
        for k in self._TRANSIENT:
            data.pop(k, None)
        return data

    def save(self) -> None:
        """Atomic write of job.json. Callers hold the workspace lock (see :mod:`.scheduler`)."""
        atomic_write_text(self.path(RECORD_FILE), json.dumps(self.stored_fields(), ensure_ascii=False, indent=2) + "\n")

    def to_json(self) -> dict[str, Any]:
        """The public form (``gsv jobs list --json``, the TUI): stored fields + progress + paths."""
        data = self.stored_fields()
        data["progress"] = self.progress.to_json()
        data["error"] = self.error
        if self.job_dir is not None:
            data["dir"] = str(self.job_dir)
            data["log"] = str(self.job_dir / LOG_FILE)
            data["events"] = str(self.job_dir / EVENTS_FILE)
        return data

    @classmethod
    def from_stored(cls, data: dict[str, Any], job_dir: Path) -> "JobRecord":
        names = {f.name for f in fields(cls)} - set(cls._TRANSIENT)
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        missing = {"id", "stage"} - set(data)
        if missing:
            raise ValueError(f"missing {', '.join(sorted(missing))}")
        rec = cls(**{k: v for k, v in data.items() if k in names})  # unknown keys: newer writer, ignore
        if rec.state not in STATES:
            raise ValueError(f"unknown state {rec.state!r}")
        if rec.outcome is not None and rec.outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {rec.outcome!r}")
        if not isinstance(rec.gpus, list) or not isinstance(rec.params, dict):
            raise ValueError("gpus must be a list and params an object")
        for name in ("pid", "pgid", "pid_start_time", "supervisor_pid", "supervisor_start_time",
                     "exit_code", "signal"):
            v = getattr(rec, name)
            if v is not None and (not isinstance(v, int) or isinstance(v, bool)):
                raise ValueError(f"{name} must be an integer, got {v!r}")
        for name in ("id", "stage", "created"):
            if not isinstance(getattr(rec, name), str):
                raise ValueError(f"{name} must be a string")
        if rec.id != job_dir.name:
            raise ValueError(f"id {rec.id!r} does not match its folder {job_dir.name!r}")
        rec.gpus = [str(g) for g in rec.gpus]
        rec.job_dir = job_dir
        return rec

    @classmethod
    def corrupt(cls, job_dir: Path, why: str) -> "JobRecord":
        return cls(id=job_dir.name, stage="?", state="finished", outcome="corrupt",
                   reason=f"job record unreadable: {why}", job_dir=job_dir, error=why)


def read_progress(events_path: Path, tail_bytes: int = 65536) -> Progress:
    """The last progress event, reading only the file's tail when it holds one (training jobs write
    many metric lines; listing jobs must stay cheap)."""
    try:
        size = events_path.stat().st_size
    except OSError:
        return Progress()
    cursor = EventCursor(events_path, offset=max(0, size - tail_bytes))
    events = cursor.read_new()
    if size > tail_bytes and not any(e.get("kind") == "progress" for e in events):
        events = EventCursor(events_path).read_new()
    for ev in reversed(events):
        if ev.get("kind") == "progress":
            return Progress(done=ev.get("done"), total=ev.get("total"), unit=ev.get("unit"), label=ev.get("label"))
    return Progress()


def load_record(job_dir: Path, with_progress: bool = True) -> JobRecord:
    """Read one job folder; never raises for a bad record (returns a ``corrupt`` one instead)."""
    path = job_dir / RECORD_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        rec = JobRecord.from_stored(data, job_dir)
    except FileNotFoundError:
        return JobRecord.corrupt(job_dir, f"{path} is missing")
    except (OSError, UnicodeDecodeError, ValueError, TypeError) as e:
        return JobRecord.corrupt(job_dir, f"{path}: {e}")
    if with_progress:
        rec.progress = read_progress(job_dir / EVENTS_FILE)
    return rec


def read_json_file(path: Path) -> dict[str, Any] | None:
    """A small JSON side file (exit.json, result.json), or None when absent or unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def write_json_file(path: Path, data: dict[str, Any]) -> None:
    atomic_write_text(path, json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def job_dirs(jobs_dir: Path) -> list[Path]:
    """Every job folder, oldest first (ids sort by creation). Folders starting with '.' are
    the store's own (locks, leases, jobs being created) and are skipped."""
    try:
        entries = list(os.scandir(jobs_dir))
    except FileNotFoundError:
        return []
    return sorted(Path(e.path) for e in entries if e.is_dir() and not e.name.startswith("."))
