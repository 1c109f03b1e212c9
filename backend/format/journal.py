"""Per-step journals: what each item's output was made from, so runs resume and redo little.

A journal is JSON lines in ``<exp>/.gsv-format/``, one line per finished item, flushed at once:
``{"key", "hash", "ok": true, ...step data}`` or ``{"key", "hash", "skip": reason}``. Each worker
process appends to its own part file (``<step>.<part>.jsonl``), so parallel workers never share a
file; reading merges every part (a later line for a key wins) and ignores a torn last line left by
a kill. When a step completes its parts are compacted into ``<step>.jsonl``.

``hash`` is a digest of everything the output depends on (see :func:`digest`): an entry whose
hash differs from the item's current one is stale and the item is redone.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import IO, Any

from ..errors import GsvError
from ..fsutil import atomic_write_text
from .layout import STATE_DIR

Entry = dict[str, Any]


def digest(*parts: Any) -> str:
    """A short stable hash of JSON-able parts."""
    blob = json.dumps(parts, ensure_ascii=False, sort_keys=True, default=str).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()[:24]


def file_fingerprint(path: Path | None) -> list[Any]:
    """Identity of a model file or folder for hashing: path, size and mtime of its files."""
    if path is None:
        return [None]
    p = Path(path)
    files = sorted(x for x in p.iterdir() if x.is_file()) if p.is_dir() else [p]
    out: list[Any] = [str(p.resolve())]
    for f in files:
        st = f.stat()
        out.append([f.name, st.st_size, st.st_mtime_ns])
    return out


def state_dir(exp: Path) -> Path:
    return Path(exp) / STATE_DIR


def _parts(exp: Path, step: str) -> list[Path]:
    d = state_dir(exp)
    if not d.is_dir():
        return []
    main = d / f"{step}.jsonl"
    parts = sorted(d.glob(f"{step}.*.jsonl"), key=lambda p: p.name)
    return ([main] if main.is_file() else []) + parts


def read(exp: Path, step: str) -> dict[str, Entry]:
    """Latest entry per key over the compacted journal and every part file."""
    out: dict[str, Entry] = {}
    for path in _parts(exp, step):
        with open(path, "rb") as f:
            for raw in f:
                if not raw.endswith(b"\n"):
                    break  # torn last line of a killed writer
                try:
                    entry = json.loads(raw)
                except ValueError:
                    continue
                if isinstance(entry, dict) and "key" in entry:
                    out[entry["key"]] = entry
    return out


def count_lines(path: Path) -> int:
    try:
        with open(path, "rb") as f:
            return sum(1 for line in f if line.endswith(b"\n"))
    except FileNotFoundError:
        return 0


class Writer:
    """Appends entries to one part file, one flushed line each."""

    def __init__(self, exp: Path, step: str, part: int) -> None:
        d = state_dir(exp)
        d.mkdir(parents=True, exist_ok=True)
        self.path = d / f"{step}.{part:03d}.jsonl"
        self._f: IO[str] = open(self.path, "a", encoding="utf-8")

    def write(self, entry: Entry) -> None:
        self._f.write(json.dumps(entry, ensure_ascii=False) + "\n")
        self._f.flush()

    def close(self) -> None:
        self._f.flush()
        os.fsync(self._f.fileno())
        self._f.close()


def compact(exp: Path, step: str, keep: set[str]) -> dict[str, Entry]:
    """Rewrite the step's journal as one file holding the latest entry of each key in ``keep``."""
    entries = {k: v for k, v in read(exp, step).items() if k in keep}
    d = state_dir(exp)
    d.mkdir(parents=True, exist_ok=True)
    atomic_write_text(d / f"{step}.jsonl", "".join(json.dumps(e, ensure_ascii=False) + "\n"
                                                   for e in entries.values()))
    for p in d.glob(f"{step}.*.jsonl"):
        p.unlink(missing_ok=True)
    return entries


def read_state(exp: Path) -> dict[str, Any]:
    try:
        return json.loads((state_dir(exp) / "state.json").read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}


def write_state(exp: Path, state: dict[str, Any]) -> None:
    atomic_write_text(state_dir(exp) / "state.json", json.dumps(state, ensure_ascii=False, indent=1) + "\n")


SUMMARY_FILE = "summary.json"


def write_summary(exp: Path, data: dict[str, Any]) -> None:
    """The last run's summary (kept/skipped with reasons, duration), for screens that show it later."""
    atomic_write_text(state_dir(exp) / SUMMARY_FILE, json.dumps(data, ensure_ascii=False, indent=1) + "\n")


def read_summary(exp: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((state_dir(exp) / SUMMARY_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


class FolderBusyError(GsvError):
    """Another formatting run is writing the same experiment folder."""


class RunLock:
    """An exclusive lock on the experiment folder for one run (released when the process dies)."""

    def __init__(self, exp: Path) -> None:
        self.path = state_dir(exp) / "run.lock"
        self._fd: int | None = None

    def __enter__(self) -> RunLock:
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise FolderBusyError(f"another formatting run is writing {self.path.parent.parent}",
                                  "wait for it to finish (gsv jobs list) or cancel it") from None
        self._fd = fd
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing releases the lock
            self._fd = None
