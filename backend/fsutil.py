"""Atomic file writes: a reader (or a crash) sees the old content or the new, never half.

File modes: ``tempfile.mkstemp`` creates 0600 files, and a rename carries that mode onto the
target — a WebUI or tool running as another user (Docker, a shared box) could then no longer
read a ``.list`` or an export. So the temp file is created with ``0666`` filtered by the umask
(what any program's new file gets), and a file that is replaced keeps its own mode.
"""

from __future__ import annotations

import json
import os
import secrets
import stat
from pathlib import Path
from typing import Any

NEW_FILE_MODE = 0o666  # before the umask, as open() and shell redirections use
TEMP_STEM_BYTES = 200  # of the target's name in a temp name (".<name>.<8 hex>.tmp" must fit 255)


def open_temp_beside(path: Path, private: bool = False) -> tuple[int, Path]:
    """Create ``.<name>.<random>.tmp`` next to ``path`` for writing; returns (fd, temp path).

    The mode is the one ``path`` would get as a new file (umask applied by the kernel), or the
    mode of the existing ``path`` so that replacing it changes nothing but its content; with
    ``private`` it is 0600 from its first byte (a secret must never be readable by others, even
    for the moment a chmod after the rename would leave).
    """
    try:
        keep: int | None = None if private else stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        keep = None
    # a name near the file system's 255-byte limit leaves no room for the temp name's additions
    stem = path.name.encode("utf-8", "surrogateescape")[:TEMP_STEM_BYTES].decode("utf-8", "ignore")
    for _ in range(100):
        tmp = path.with_name(f".{stem}.{secrets.token_hex(4)}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0),
                         0o600 if private else NEW_FILE_MODE)
        except FileExistsError:
            continue
        if keep is not None:
            try:
                os.fchmod(fd, keep)
            except OSError:  # a file system without modes (e.g. some mounts): content still counts
                pass
        return fd, tmp
    raise FileExistsError(f"no free temp name beside {path}")


def fsync_folder(folder: Path) -> None:
    """Make a rename inside ``folder`` durable (best effort: not every system allows it)."""
    try:
        dfd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes, private: bool = False) -> None:
    """Write ``data`` to ``path`` via a temp file in the same folder, fsync, then ``os.replace``
    (``private``: readable by the owner only, see :func:`open_temp_beside`)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = open_temp_beside(path, private)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    fsync_folder(path.parent)


def atomic_write_text(path: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> None:
    atomic_write_bytes(path, text.encode(encoding))


def read_json_file(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """A small JSON file holding an object (a summary, a report, a job's side file), or None when
    it is absent, unreadable, damaged or not an object."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError, RecursionError):
        return None
    return data if isinstance(data, dict) else None
