"""Undo/redo for transcript edits, kept in a JSON-lines log beside the ``.list``.

Every edit is one *splice*: at row ``index`` the rows ``old`` become the rows ``new``, plus the
file moves that go with it (a deleted clip to the trash; a merged file back out of the trash on
redo). Undo is the reverse splice with the reverse moves. Because each record holds the full
before/after rows, the log is also a write-ahead log: it is appended (and fsynced) before the
``.list`` is saved, so edits made just before a crash or a dropped SSH connection are replayed on
the next open. ``saving`` records carry the hash of the file a save is about to write, logged
*before* the file is replaced: a kill between the replace and anything after it still finds its
own save (older logs have ``saved`` records, written after the replace; both are read). The
newest one that matches the file on disk tells where in the log the file stands. ``review``
records carry the ✓ marks, so a kill before the review file is written keeps them too.

Appends are whole lines: the write is repeated until every byte is down, and a record never
starts on the torn tail a kill left behind (a newline goes first). The reader also recovers a
record that an older writer glued onto such a tail.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from .listfile import Row, row_from_json


@dataclass(frozen=True)
class Splice:
    index: int
    old: tuple[Row, ...]
    new: tuple[Row, ...]
    label: str
    do_moves: tuple[tuple[str, str], ...] = ()
    undo_moves: tuple[tuple[str, str], ...] = ()

    def inverse(self) -> "Splice":
        return Splice(self.index, self.new, self.old, f"undo {self.label}", self.undo_moves,
                      self.do_moves)

    def to_json(self) -> dict:
        return {"index": self.index, "label": self.label,
                "old": [r.to_json() for r in self.old], "new": [r.to_json() for r in self.new],
                "do_moves": [list(m) for m in self.do_moves],
                "undo_moves": [list(m) for m in self.undo_moves]}

    @classmethod
    def from_json(cls, d: dict) -> "Splice":
        return cls(int(d["index"]), tuple(row_from_json(r) for r in d["old"]),
                   tuple(row_from_json(r) for r in d["new"]), str(d["label"]),
                   tuple((a, b) for a, b in d.get("do_moves", [])),
                   tuple((a, b) for a, b in d.get("undo_moves", [])))


class SpliceMismatch(Exception):
    """The rows a splice expects are not where it expects them (the file changed)."""


def apply_splice(rows: list[Row], s: Splice) -> None:
    end = s.index + len(s.old)
    if end > len(rows) or tuple(rows[s.index:end]) != s.old:
        raise SpliceMismatch(s.label)
    rows[s.index:end] = list(s.new)


@dataclass
class LogState:
    """The log replayed without touching any file."""

    done: list[Splice] = field(default_factory=list)
    redo: list[Splice] = field(default_factory=list)


class HistoryLog:
    """Append-only event log: ``base``/``saving``/``saved`` (file hash), ``op``, ``undo``,
    ``redo``, ``review``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.broken: str | None = None  # why the log cannot be written (history then lives in memory)

    def append(self, record: dict) -> None:
        if self.broken:
            return
        data = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o666)
        try:
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                data = b"\n" + data  # a torn tail stays a line of its own, never glued to this one
            write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)

    def read(self) -> list[dict]:
        try:
            data = self.path.read_text(encoding="utf-8", errors="replace")
        except OSError:  # missing, or unreadable: start afresh (start() says if it cannot)
            return []
        out = []
        for line in data.splitlines():
            rec = parse_record(line)
            if rec is not None:
                out.append(rec)
        return out

    def start(self, sha: str) -> None:
        """Begin a fresh log for a file whose content hashes to ``sha``."""
        from ..fsutil import atomic_write_text

        try:
            atomic_write_text(self.path, json.dumps({"t": "base", "sha": sha}) + "\n")
        except OSError as e:  # a read-only folder: review still works, undo lives in memory
            self.broken = f"undo history not kept on disk ({e.strerror or e})"

    def retire(self) -> Path | None:
        """Keep a log that no longer matches the file under a ``.stale`` name."""
        if not self.path.exists():
            return None
        dst = self.path.with_name(self.path.name + ".stale")
        os.replace(self.path, dst)
        return dst


def write_all(fd: int, data: bytes) -> None:
    """``os.write`` may write less than asked (a full disk, a signal): loop until all is down."""
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        if n <= 0:
            raise OSError(f"could not append to the history ({len(view)} bytes left)")
        view = view[n:]


RECORD_START = '{"t": '  # how json.dumps begins every record this module writes


def parse_record(line: str) -> dict | None:
    """One log line as a record, or None for a torn one (it never took effect).

    A line that does not parse may be a torn record with a whole one glued after it (as an
    older writer appended): the whole one is recovered from where a record starts.
    """
    start = 0
    while start >= 0:
        try:
            rec = json.loads(line[start:])
        except json.JSONDecodeError:
            start = line.find(RECORD_START, start + 1)
            continue
        return rec if isinstance(rec, dict) and "t" in rec else None
    return None


def replay(records: list[dict], current_sha: str) -> tuple[LogState, list[tuple[str, Splice | None]]] | None:
    """Replay the log's structure and find where the file on disk stands in it.

    Returns the undo/redo stacks *as of the newest checkpoint matching* ``current_sha`` and the
    events logged after it (edits that had not reached the file yet), or None when no
    checkpoint matches (the file was changed by something else).
    """
    state = LogState()
    best: tuple[LogState, int] | None = None
    for i, rec in enumerate(records):
        t = rec.get("t")
        if t in ("base", "saved", "saving"):
            if t == "base":
                state = LogState()
            if rec.get("sha") == current_sha:
                best = (LogState(list(state.done), list(state.redo)), i)
        elif t == "op":
            try:
                state.done.append(Splice.from_json(rec["op"]))
            except (KeyError, TypeError, ValueError):
                return None
            state.redo.clear()
        elif t == "undo" and state.done:
            state.redo.append(state.done.pop())
        elif t == "redo" and state.redo:
            state.done.append(state.redo.pop())
    if best is None:
        return None
    snap, at = best
    pending: list[tuple[str, Splice | None]] = []
    for rec in records[at + 1:]:
        t = rec.get("t")
        if t == "op":
            pending.append(("op", Splice.from_json(rec["op"])))
        elif t in ("undo", "redo"):
            pending.append((t, None))
        elif t == "base":
            pending.clear()
    return snap, pending
