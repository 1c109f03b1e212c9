"""Following a job from a terminal: a progress bar and its messages, until it finishes.

Reads only the job's files (events.jsonl through :class:`EventCursor`, job.json), so watching is
free to stop at any time: Ctrl-C ends the watching, never the job. On a terminal the bar is one
line redrawn with ``\\r``; into a file or pipe it is a plain line at most every few seconds.
"""

from __future__ import annotations

import shutil
import sys
import time
from typing import IO, Any

from ..progress import EventCursor
from .manager import JobManager
from .record import JobRecord, Progress, progress_from_event

PLAIN_EVERY = 5.0  # seconds between progress lines when not on a terminal


def format_count(x: float | None) -> str:
    if x is None:
        return "?"
    return f"{x:g}" if isinstance(x, float) else str(x)


def progress_text(p: Progress, width: int = 20) -> str:
    """``[######······] 6/10 steps 60%  label`` (or ``12 files`` when the total is unknown)."""
    if p.done is None:
        return "started, no progress reported yet"
    unit = f" {p.unit}" if p.unit else ""
    label = f"  {p.label}" if p.label else ""
    frac = p.fraction
    if frac is None:
        return f"{format_count(p.done)}{unit}{label}"
    filled = int(round(frac * width))
    return f"[{'#' * filled}{'.' * (width - filled)}] {format_count(p.done)}/{format_count(p.total)}{unit} {frac * 100:3.0f}%{label}"


def outcome_line(job: JobRecord) -> str:
    text = f"job {job.id} ({job.stage}) {job.outcome}"
    return text + (f": {job.reason}" if job.reason else "")


class ConsoleView:
    """Renders a stream of events on a terminal (or a log file): one progress bar, and the
    warnings/errors as lines above it. Fed by :class:`Watcher` from a job's events file, or
    directly by a :class:`~backend.progress.Reporter` when a stage runs in-process (``--now``)."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.out = stream or sys.stderr
        self.tty = self.out.isatty()
        self.progress = Progress()
        self._bar_shown = False
        self._last_plain = 0.0
        self._last_status = ""

    def _clear_bar(self) -> None:
        if self.tty and self._bar_shown:
            self.out.write("\r" + " " * (shutil.get_terminal_size().columns - 1) + "\r")
            self._bar_shown = False

    def line(self, text: str) -> None:
        self._clear_bar()
        self.out.write(text + "\n")
        self.out.flush()

    def status(self, text: str) -> None:
        """A line shown once per change (e.g. "queued: waiting for GPU 0")."""
        if text != self._last_status:
            self._last_status = text
            self.line(text)

    def draw(self, force: bool = False) -> None:
        text = progress_text(self.progress)
        if self.tty:
            cols = shutil.get_terminal_size().columns - 1
            self.out.write("\r" + text[:cols].ljust(cols))
            self._bar_shown = True
            self.out.flush()
        elif force or time.monotonic() - self._last_plain >= PLAIN_EVERY:
            self._last_plain = time.monotonic()
            self.out.write(text + "\n")
            self.out.flush()

    @property
    def bar_shown(self) -> bool:
        return self._bar_shown

    def event(self, ev: dict[str, Any]) -> bool:
        """Take one event; True if it changed what is shown (the caller then redraws)."""
        kind = ev.get("kind")
        if kind == "progress":
            p = progress_from_event(ev)
            if p is None:  # wrong types in the event: keep the last good bar
                return False
            self.progress = p
            return True
        if kind == "message" and ev.get("level") in ("warning", "error"):
            self.line(f"{ev['level']}: {ev.get('text', '')}")
            return True
        return False

    def live(self, ev: dict[str, Any]) -> None:
        """Reporter sink: show each event as it comes."""
        if self.event(ev):
            self.draw()

    def finish(self) -> None:
        if self.tty and self._bar_shown:
            self.out.write("\n")  # keep the final bar on screen
        elif not self.tty and self.progress.done is not None:
            self.draw(force=True)
        self._bar_shown = False
        self.out.flush()


class Watcher:
    """Follows one job's files until it finishes (see module docstring)."""

    def __init__(self, jm: JobManager, job_id: str, stream: IO[str] | None = None) -> None:
        self.jm = jm
        self.job_id = jm.resolve_id(job_id)
        self.view = ConsoleView(stream)
        self.cursor = EventCursor(jm.events_path(self.job_id))

    def run(self, poll: float = 0.2) -> JobRecord:
        """Show progress until the job finishes; returns the final record."""
        view = self.view
        last_reconcile = time.monotonic()
        while True:
            job = self.jm.get(self.job_id)
            if job.state == "queued":
                view.status(f"job {job.id} queued: {self.jm.waiting_reason(job) or 'waiting'}")
            elif job.state == "running":
                view.status(f"job {job.id} running ({job.stage})" + (f" on GPU {','.join(job.gpus)}" if job.gpus else ""))
            changed = False
            for ev in self.cursor.read_new():
                changed = view.event(ev) or changed
            if changed or (view.tty and job.state == "running" and not view.bar_shown):
                view.draw()
            if job.is_finished:
                view.finish()
                return job
            if time.monotonic() - last_reconcile > 2.0:
                self.jm.reconcile()
                last_reconcile = time.monotonic()
            time.sleep(poll)


def detach_hint(job_id: str) -> str:
    return (f"stopped watching; job {job_id} keeps running.\n"
            f"  reattach: gsv jobs wait {job_id}   (log: gsv jobs logs {job_id} --follow)\n"
            f"  cancel:   gsv jobs cancel {job_id}")
