"""Watching jobs from a thread: records, live progress from ``events.jsonl``, and one log.

The UI thread never touches a job's process or files. One watcher thread reads the job
records and tails each job's events file (with :class:`~backend.progress.EventCursor`),
builds an immutable :class:`JobsSnapshot`, and hands it over only when something changed. It
also tails the log of the job the person is looking at, and every few seconds asks the
manager to ``reconcile()`` (notice vanished processes) — that check runs here, off the UI.

Nothing here imports Textual: the app passes callbacks that post Messages.
"""

from __future__ import annotations

import os
import re
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Protocol

# The job store's modules are imported by the watcher thread when it starts (after the first
# frame), not at start-up.
if TYPE_CHECKING:
    from backend.app.jobs import JobRecord

RECORD_FILE, EVENTS_FILE, LOG_FILE = "job.json", "events.jsonl", "log.txt"  # as backend.jobs.record


class JobSource(Protocol):
    """What the watcher needs from ``backend.jobs.manager.JobManager``."""

    jobs_dir: Path

    def reconcile(self) -> Any: ...
    def waiting_reason(self, job: Any) -> str | None: ...


@dataclass(frozen=True)
class ProgressView:
    done: float
    total: float | None
    unit: str
    label: str | None = None

    @property
    def fraction(self) -> float | None:
        if not self.total:
            return None
        return max(0.0, min(1.0, self.done / self.total))


@dataclass(frozen=True)
class JobView:
    """One job as the screens show it (plain values, safe to pass between threads)."""

    id: str
    stage: str
    project: str | None
    state: str  # queued | running | finished
    outcome: str | None  # succeeded | failed | cancelled | lost
    exit_code: int | None
    reason: str | None
    gpus: tuple[str, ...]
    created: float | None
    started: float | None
    finished: float | None
    progress: ProgressView | None
    message: str | None  # the last message event (warnings and errors matter to a person)
    waiting: str | None = None  # why a queued job has not started

    @property
    def status(self) -> str:
        """``running``, ``queued``, or the outcome of a finished job."""
        if self.state == "finished":
            return self.outcome or "finished"
        return self.state


@dataclass(frozen=True)
class JobsSnapshot:
    jobs: tuple[JobView, ...] = ()

    @property
    def running(self) -> int:
        return sum(1 for j in self.jobs if j.state == "running")

    @property
    def queued(self) -> int:
        return sum(1 for j in self.jobs if j.state == "queued")

    def get(self, job_id: str) -> JobView | None:
        return next((j for j in self.jobs if j.id == job_id), None)


def to_epoch(value: Any) -> float | None:
    """Record times may be unix seconds or ISO-8601 strings; the screens want seconds."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return datetime.fromisoformat(str(value)).timestamp()
    except ValueError:
        return None


def _progress_from(ev: Any) -> ProgressView | None:
    if not isinstance(ev, dict):
        return None
    done, total = ev.get("done"), ev.get("total")
    if not isinstance(done, (int, float)):
        return None
    return ProgressView(float(done), float(total) if isinstance(total, (int, float)) else None,
                        str(ev.get("unit") or "items"), ev.get("label") if isinstance(ev.get("label"), str) else None)


class _JobTail:
    """The last progress and message of one job, read incrementally.

    The first read starts near the end of the file: a long training job writes thousands of
    metric lines, and only the latest progress matters here.
    """

    INITIAL_BYTES = 64 * 1024

    def __init__(self, path: Path) -> None:
        from backend.app.jobs import EventCursor, read_progress

        try:
            size = path.stat().st_size
        except OSError:
            size = 0
        self.cursor = EventCursor(path, offset=max(0, size - self.INITIAL_BYTES))
        self.progress: ProgressView | None = None
        self.message: str | None = None
        self.update()  # a cut first line is not JSON and is skipped by the cursor
        if self.progress is None and size > self.INITIAL_BYTES:
            self.progress = _progress_from(read_progress(path).to_json())

    def update(self) -> None:
        for ev in self.cursor.read_new():
            kind = ev.get("kind")
            if kind == "progress":
                self.progress = _progress_from(ev) or self.progress
            elif kind == "message" and isinstance(ev.get("text"), str):
                level = ev.get("level", "info")
                self.message = ev["text"] if level == "info" else f"{level}: {ev['text']}"


def view_of(record: "JobRecord", tail: _JobTail | None, waiting: str | None = None) -> JobView:
    return JobView(
        id=record.id, stage=record.stage, project=record.project, state=record.state,
        outcome=record.outcome, exit_code=record.exit_code, reason=record.reason or record.error,
        gpus=tuple(str(g) for g in record.gpus),
        created=to_epoch(record.created), started=to_epoch(record.started),
        finished=to_epoch(record.finished),
        progress=tail.progress if tail else _progress_from(record.progress.to_json()),
        message=tail.message if tail else None, waiting=waiting,
    )


_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")


def clean_log_line(raw: str) -> str:
    """What a terminal would show for one line: last carriage-return segment, no escapes."""
    line = raw.rstrip("\r\n")
    if "\r" in line:
        parts = [p for p in line.split("\r") if p]
        line = parts[-1] if parts else ""
    line = _ANSI.sub("", line)
    return "".join(c for c in line if c == "\t" or c.isprintable())


class LogFollower:
    """Complete new lines of a growing log file; starts near the end of a big one."""

    def __init__(self, path: Path, initial_bytes: int = 256 * 1024) -> None:
        self.path = path
        self.offset: int | None = None
        self.initial_bytes = initial_bytes
        self._partial = b""

    def read_new(self) -> list[str]:
        try:
            size = os.stat(self.path).st_size
        except FileNotFoundError:
            return []
        skip_first = False
        if self.offset is None or size < self.offset:  # first read, or the file was truncated
            self.offset = max(0, size - self.initial_bytes)
            skip_first = self.offset > 0  # we landed mid-line
            self._partial = b""
        if size == self.offset:
            return []
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            data = f.read(size - self.offset)
        self.offset += len(data)
        data = self._partial + data
        end = data.rfind(b"\n")
        if end < 0:
            self._partial = data
            return []
        self._partial = data[end + 1:]
        lines = data[:end].split(b"\n")
        if skip_first:
            lines = lines[1:]
        return [clean_log_line(b.decode("utf-8", errors="replace")) for b in lines]


@dataclass
class _Entry:
    record: "JobRecord"
    stamp: tuple[int, int] | None  # job.json (mtime_ns, size) when read
    tail: _JobTail
    settled: JobView | None = None  # a finished job's last view: its files no longer change


def _job_names(jobs_dir: str) -> list[str]:
    """Job folder names (as ``backend.jobs.record.job_dirs``: dot-folders are the store's own)."""
    try:
        with os.scandir(jobs_dir) as it:
            return [e.name for e in it if not e.name.startswith(".") and e.is_dir()]
    except FileNotFoundError:
        return []


def _stamp(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


class JobsWatcher:
    """The loop of the watcher thread. ``follow``, ``poke`` and ``stop`` may be called from any thread.

    Each pass stats every ``job.json`` and re-reads only those that changed, tails every
    ``events.jsonl`` from where it stopped, and tails the followed job's ``log.txt``.
    """

    def __init__(
        self,
        source_factory: Callable[[], JobSource],
        on_snapshot: Callable[[JobsSnapshot], object],
        on_log: Callable[[str, list[str], bool], object],
        on_problem: Callable[[str | None], object],
        interval: float = 0.5,
        reconcile_every: float = 5.0,
    ) -> None:
        self._factory = source_factory
        self._on_snapshot = on_snapshot
        self._on_log = on_log
        self._on_problem = on_problem
        self.interval = interval
        self.reconcile_every = reconcile_every
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._reconcile_now = False
        self._followed: str | None = None
        self._entries: dict[str, _Entry] = {}
        self._log: LogFollower | None = None
        self._log_job: str | None = None
        self._last: JobsSnapshot | None = None
        self._problem: str | None = None

    def follow(self, job_id: str | None) -> None:
        """Tail this job's log from now on (None: none)."""
        self._followed = job_id
        self._wake.set()

    def poke(self, reconcile: bool = False) -> None:
        """Look again now (e.g. right after submitting or cancelling a job)."""
        self._reconcile_now = self._reconcile_now or reconcile
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def run(self, stop_when: Callable[[], bool] = lambda: False) -> None:
        source: JobSource | None = None
        next_reconcile = 0.0
        while not self._stop.is_set() and not stop_when():
            try:
                if source is None:
                    source = self._factory()
                if self._reconcile_now or time.monotonic() >= next_reconcile:
                    self._reconcile_now = False
                    source.reconcile()
                    next_reconcile = time.monotonic() + self.reconcile_every
                self._scan(source)
                self._tail_log(source)
                if self._problem is not None:
                    self._problem = None
                    self._on_problem(None)
            except Exception as e:  # a broken job store must not kill the watcher; say it once
                problem = f"{type(e).__name__}: {e}"
                if problem != self._problem:
                    self._problem = problem
                    self._on_problem(problem)
            self._wake.wait(self.interval)
            self._wake.clear()

    def _scan(self, source: JobSource) -> None:
        from backend.app.jobs import load_record

        views = []
        live = set()
        root = os.fspath(source.jobs_dir)
        for jid in _job_names(root):  # plain strings: a pass over hundreds of jobs stays ~ms
            live.add(jid)
            stamp = _stamp(f"{root}/{jid}/{RECORD_FILE}")
            entry = self._entries.get(jid)
            if entry is None or entry.stamp != stamp:
                d = Path(root, jid)
                tail = entry.tail if entry else _JobTail(d / EVENTS_FILE)
                entry = self._entries[jid] = _Entry(load_record(d, with_progress=False), stamp, tail)
            if entry.settled is not None:  # hundreds of old jobs cost one stat each per pass
                views.append(entry.settled)
                continue
            entry.tail.update()
            rec = entry.record
            waiting = source.waiting_reason(rec) if rec.state == "queued" else None
            view = view_of(rec, entry.tail, waiting)
            if rec.state == "finished":  # the supervisor finalises after the stage has exited
                entry.settled = view
            views.append(view)
        for gone in set(self._entries) - live:
            del self._entries[gone]
        views.sort(key=lambda v: (v.created or 0.0, v.id), reverse=True)
        snap = JobsSnapshot(tuple(views))
        if snap != self._last:
            self._last = snap
            self._on_snapshot(snap)

    def _tail_log(self, source: JobSource) -> None:
        want = self._followed
        reset = False
        if want != self._log_job:
            self._log_job = want
            self._log = LogFollower(Path(source.jobs_dir) / want / LOG_FILE) if want else None
            reset = True
        if self._log is None:
            if reset:
                self._on_log("", [], True)
            return
        lines = self._log.read_new()
        if lines or reset:
            self._on_log(want or "", lines, reset)

