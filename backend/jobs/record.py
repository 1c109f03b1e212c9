"""The persistent job record: ``<jobs_dir>/<id>/job.json`` and the files beside it.

One folder per job holds everything anyone needs to know about it after the fact:

- ``job.json``     this record (written atomically, only under the workspace lock)
- ``events.jsonl`` progress / metrics / artifacts / messages (:mod:`backend.progress`)
- ``log.txt``      the stage's full stdout and stderr, plus a few framing lines from the supervisor
- ``result.json``  what the runner concluded (reason, expected outputs) just before exiting
- ``exit.json``    what the supervisor saw: exit code or signal of the runner (written atomically)
- ``supervisor.log`` the supervisor's own stderr (empty unless the job machinery itself broke)

A record that cannot be read is never a crash: :func:`load_record` returns a record whose
``outcome`` is ``"corrupt"`` and whose ``error`` says why, so listings show it and move on.
"""

from __future__ import annotations

import json
import math
import os
import re
import secrets
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..fsutil import atomic_write_text
from ..progress import EventCursor

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
    launch_token: str | None = None  # which supervisor may start the stage (see scheduler.launch)
    launches: int = 0  # supervisors started for this job (a resumed launch counts again)
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
        """Build a record from job.json's object, checking every field: a record is read by every
        ``gsv jobs`` command and every scheduling pass, so one bad value must be caught here (and the
        record shown as corrupt) rather than crash whoever touches it later."""
        names = {f.name for f in fields(cls)} - set(cls._TRANSIENT)
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        missing = {"id", "stage"} - set(data)
        if missing:
            raise ValueError(f"missing {', '.join(sorted(missing))}")
        values = {k: v for k, v in data.items() if k in names}  # unknown keys: newer writer, ignore
        for name, value in values.items():
            _check_field(name, value)
        rec = cls(**values)
        if rec.state not in STATES:
            raise ValueError(f"unknown state {rec.state!r}")
        if rec.outcome is not None and rec.outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {rec.outcome!r}")
        if rec.id != job_dir.name:
            raise ValueError(f"id {rec.id!r} does not match its folder {job_dir.name!r}")
        rec.gpus = [str(g) for g in rec.gpus]
        rec.job_dir = job_dir
        return rec

    @classmethod
    def corrupt(cls, job_dir: Path, why: str) -> "JobRecord":
        return cls(id=job_dir.name, stage="?", state="finished", outcome="corrupt",
                   reason=f"job record unreadable: {why}", job_dir=job_dir, error=why)


# --- validation of stored values ---------------------------------------------------------------

GPU_ID_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
PID_MAX = 1 << 22  # the kernel's ceiling for pid_max
_INT_RANGES = {"pid": (1, PID_MAX), "pgid": (1, PID_MAX), "supervisor_pid": (1, PID_MAX),
               "pid_start_time": (0, 1 << 63), "supervisor_start_time": (0, 1 << 63),
               "exit_code": (-255, 255), "signal": (1, 128), "launches": (0, 1 << 20)}
_OPTIONAL_TEXT = ("project", "outcome", "reason", "after", "started", "finished", "boot_id", "cwd",
                  "launch_token")


def is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def int_in_range(v: Any, lo: int, hi: int) -> bool:
    return is_int(v) and lo <= v <= hi


def valid_gpu_id(g: Any) -> bool:
    """A GPU id is a lease file's name: a short plain name (``0``, ``GPU-5e1a…``, ``MIG-…``)."""
    if is_int(g):
        return 0 <= g < 100_000
    return isinstance(g, str) and bool(GPU_ID_RE.match(g)) and g not in (".", "..") and \
        not (g.isdigit() and len(g) > 5)


def _check_field(name: str, v: Any) -> None:
    """Raise ValueError naming the field when a stored value has the wrong type or range."""
    ok = True
    if name in ("id", "stage", "created", "state"):
        ok = isinstance(v, str)
    elif name in _OPTIONAL_TEXT:
        ok = v is None or isinstance(v, str)
    elif name in _INT_RANGES:
        ok = v is None or int_in_range(v, *_INT_RANGES[name])
    elif name == "params":
        ok = isinstance(v, dict)
    elif name == "gpus":
        ok = isinstance(v, list) and all(valid_gpu_id(g) for g in v)
    elif name == "argv":
        ok = isinstance(v, list) and all(isinstance(a, str) for a in v)
    elif name == "cancel_requested":
        ok = isinstance(v, bool)
    if not ok:
        shown = repr(v)
        raise ValueError(f"bad {name}: {shown[:80] + '…' if len(shown) > 80 else shown}")


def progress_from_event(ev: dict[str, Any]) -> Progress | None:
    """A :class:`Progress` from a ``progress`` event, or None when its values have the wrong types
    (an event file is written by stage code and may hold anything)."""
    done, total = ev.get("done"), ev.get("total")
    unit, label = ev.get("unit"), ev.get("label")

    def number(x: Any) -> bool:
        if isinstance(x, bool) or not isinstance(x, (int, float)):
            return False
        return abs(x) < 1e18 if isinstance(x, int) else math.isfinite(x)

    if not number(done) or not (total is None or number(total)):
        return None
    if not (unit is None or isinstance(unit, str)) or not (label is None or isinstance(label, str)):
        return None
    return Progress(done=done, total=total, unit=unit, label=label)


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
        if ev.get("kind") == "progress" and (p := progress_from_event(ev)) is not None:
            return p
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
    except RecursionError:
        return JobRecord.corrupt(job_dir, f"{path}: nested too deeply")
    if with_progress:
        rec.progress = read_progress(job_dir / EVENTS_FILE)
    return rec


def write_json_file(path: Path, data: dict[str, Any]) -> None:
    atomic_write_text(path, json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def job_dirs(jobs_dir: Path) -> list[Path]:
    """Every job folder, oldest first (ids sort by creation). Folders starting with '.' are
    the store's own (locks, leases, jobs being created) and are skipped."""
    try:
        entries = list(os.scandir(jobs_dir))
    except OSError:  # no store yet (or not a folder: reported when something must be written)
        return []
    return sorted(Path(e.path) for e in entries if e.is_dir() and not e.name.startswith("."))
