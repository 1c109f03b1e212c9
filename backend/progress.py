"""The event protocol between a running stage and whoever watches it.

It is its own module because both sides depend on it: the stages and the libraries below them
report, the jobs package runs stages and reads what they reported.

A stage reports through a :class:`Reporter`; when it runs as a job, each event is one JSON
object on its own line in the job's ``events.jsonl`` (flushed per line, so a watcher that
tails the file sees progress as it happens and a crash loses at most the line being written).

Event kinds (field ``kind``), each with ``t`` (unix time):
- ``progress``: ``done``, ``total`` (or null), ``unit`` (e.g. "files", "clips", "steps"), optional ``label``
- ``metric``:   ``values`` (name -> number), optional ``step``
- ``artifact``: ``path`` (a file the stage produced), optional ``role``
- ``message``:  ``level`` ("info" | "warning" | "error"), ``text``
- ``summary``:  ``data`` (a JSON object the stage's screen knows how to show)
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Callable, Iterator


class Reporter:
    """Where a stage sends its progress. Thread-safe; never raises on a full disk mid-run."""

    def __init__(self, sink: Callable[[dict[str, Any]], None] | None = None) -> None:
        self._sink = sink
        self._lock = threading.Lock()

    @classmethod
    def to_file(cls, path: str | os.PathLike[str], echo: "LogEcho | None" = None) -> "Reporter":
        """Events as JSON lines in ``path``; with ``echo``, also as readable lines in a log."""
        f: IO[str] = open(path, "a", encoding="utf-8")

        def write(ev: dict[str, Any]) -> None:
            f.write(json.dumps(ev, ensure_ascii=False) + "\n")
            f.flush()
            if echo is not None:
                echo(ev)

        return cls(write)

    @classmethod
    def collect(cls) -> tuple["Reporter", list[dict[str, Any]]]:
        """A reporter that keeps events in a list (for tests and in-process calls)."""
        events: list[dict[str, Any]] = []
        return cls(events.append), events

    def emit(self, kind: str, **fields: Any) -> None:
        if self._sink is None:
            return
        ev = {"kind": kind, "t": round(time.time(), 3), **fields}
        with self._lock:
            try:
                self._sink(ev)
            except OSError:
                pass

    def progress(self, done: int | float, total: int | float | None, unit: str = "items", label: str | None = None) -> None:
        fields: dict[str, Any] = {"done": done, "total": total, "unit": unit}
        if label is not None:
            fields["label"] = label
        self.emit("progress", **fields)

    def metric(self, step: int | None = None, **values: float) -> None:
        self.emit("metric", values=values, **({"step": step} if step is not None else {}))

    def artifact(self, path: str | os.PathLike[str], role: str | None = None) -> None:
        self.emit("artifact", path=str(path), **({"role": role} if role else {}))

    def info(self, text: str) -> None:
        self.emit("message", level="info", text=text)

    def warning(self, text: str) -> None:
        self.emit("message", level="warning", text=text)

    def error(self, text: str) -> None:
        self.emit("message", level="error", text=text)

    def summary(self, data: dict[str, Any]) -> None:
        self.emit("summary", data=data)


class LogEcho:
    """Writes events as plain lines into a job's log, for people reading ``gsv jobs logs``: every
    message, metric and saved file, and the progress at most every ``progress_every`` seconds (and
    at its end)."""

    def __init__(self, stream: IO[str], progress_every: float = 10.0) -> None:
        self.stream = stream
        self.progress_every = progress_every
        self._last_progress = float("-inf")  # the first progress is always written

    def text(self, ev: dict[str, Any]) -> str | None:
        kind = ev.get("kind")
        if kind == "message":
            return f"{ev.get('level', 'info')}: {ev.get('text', '')}"
        if kind == "artifact":
            return f"saved {ev.get('role') or 'file'}: {ev.get('path', '')}"
        if kind == "metric" and isinstance(ev.get("values"), dict):
            values = "  ".join(f"{k}={_number(v)}" for k, v in ev["values"].items())
            return (f"step {ev['step']}: " if "step" in ev else "") + values
        if kind == "progress":
            now = time.monotonic()
            done, total = ev.get("done"), ev.get("total")
            if now - self._last_progress < self.progress_every and done != total:
                return None
            self._last_progress = now
            label = f"  {ev['label']}" if ev.get("label") else ""
            of = f"/{_number(total)}" if total is not None else ""
            return f"progress: {_number(done)}{of} {ev.get('unit') or ''}{label}".rstrip()
        return None

    def __call__(self, ev: dict[str, Any]) -> None:
        line = self.text(ev)
        if line is not None:
            self.stream.write(f"[{time.strftime('%H:%M:%S')}] {line}\n")
            self.stream.flush()


def _number(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


@dataclass
class EventCursor:
    """Reads new complete lines of an events file from where it last stopped.

    A partial last line (the writer is mid-write) is left for the next call; a line that is
    not a JSON object is skipped rather than stopping the reader. The values inside an event are
    not checked here: readers check what they use (:func:`backend.jobs.record.progress_from_event`).
    """

    path: Path
    offset: int = 0

    def read_new(self) -> list[dict[str, Any]]:
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                data = f.read()
        except OSError:  # absent, or not a readable file (a folder in its place): no events
            return []
        end = data.rfind(b"\n")
        if end < 0:
            return []
        self.offset += end + 1
        out = []
        for line in data[: end + 1].splitlines():
            try:
                ev = json.loads(line)
            except (ValueError, RecursionError):  # not JSON, or nested too deeply to parse
                continue
            if isinstance(ev, dict):
                out.append(ev)
        return out


def read_events(path: str | os.PathLike[str]) -> Iterator[dict[str, Any]]:
    yield from EventCursor(Path(path)).read_new()


def last_progress(events: list[dict[str, Any]]) -> dict[str, Any] | None:
    for ev in reversed(events):
        if ev.get("kind") == "progress":
            return ev
    return None
