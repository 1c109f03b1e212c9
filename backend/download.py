"""One HTTP download that survives a broken connection: resumed from a ``.part`` file.

Big files (the full language-ID model, cleaning models) come over SSH sessions and flaky links, so
a second attempt must go on where the first stopped instead of starting again. The bytes go to
``<dest>.part`` (created like any new file, so it follows the umask), a ``Range`` request asks for
the rest, and only a whole file that the caller's check accepts is renamed to ``dest``: nothing
half-downloaded or tampered ever sits under the real name.
"""

from __future__ import annotations

import hashlib
import os
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

ProgressFn = Callable[[str, int, int | None], None]
"""Called as (file name, bytes done, bytes total or None when the server does not say)."""

BLOCK = 1 << 20


class DownloadError(OSError):
    """The transfer failed; the message says how."""


class DownloadRejectedError(DownloadError):
    """The whole file arrived but is not the file asked for (its checksum differs)."""


def offline() -> bool:
    """Whether downloads are off: ``HF_HUB_OFFLINE``, the switch every download of ours obeys
    (the hub's, the text data's, the cleaning models')."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def part_path(dest: Path) -> Path:
    return dest.with_name(dest.name + ".part")


def download_resumable(url: str, dest: Path, on_progress: ProgressFn | None = None,
                       accept: Callable[[Path], str | None] | None = None, timeout: float = 60,
                       label: str | None = None) -> Path:
    """Fetch ``url`` into ``dest``, resuming ``<dest>.part`` when an earlier attempt left one.

    ``accept(part)`` returns None for a good file or the reason it is not (a checksum that differs);
    a rejected file is deleted so that the next attempt starts clean. Progress is labelled ``label``
    (default: the file's name). Raises :class:`DownloadError`
    (an ``OSError``), or :class:`DownloadRejectedError` for a file ``accept`` refused.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = part_path(dest)
    label = label or dest.name
    done = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={done}-"} if done else {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - fixed URLs
            if done and response.status != 206:  # the server ignored the range: start over
                done = 0
            length = response.headers.get("Content-Length")
            total = done + int(length) if length is not None else None
            with open(part, "ab" if done else "wb") as out:
                while block := response.read(BLOCK):
                    out.write(block)
                    done += len(block)
                    if on_progress is not None:
                        on_progress(label, done, total)
                out.flush()
                os.fsync(out.fileno())
    except urllib.error.HTTPError as exc:
        if exc.code != 416 or not done:  # 416 with a part file: it is whole already
            raise DownloadError(f"{url}: HTTP {exc.code} {exc.reason}") from exc
        total = done
    except OSError as exc:  # connection refused or reset, timeout, disk full: the part file stays
        raise DownloadError(f"{url}: {exc}") from exc
    if total is not None and done != total:
        raise DownloadError(f"{url}: got {done} of {total} bytes (the connection ended early; run again to resume)")
    reason = accept(part) if accept is not None else None
    if reason is not None:
        part.unlink(missing_ok=True)
        raise DownloadRejectedError(f"{dest.name}: {reason}")
    os.replace(part, dest)
    return dest


def file_digest(path: Path, algorithm: str) -> str:
    """Hex digest of a file read in blocks; ``gitblob`` is git's object id of the file's content
    (what a repository at a pinned commit publishes for every file)."""
    if algorithm == "gitblob":
        hasher = hashlib.sha1(f"blob {path.stat().st_size}\0".encode())
    else:
        hasher = hashlib.new(algorithm)
    with open(path, "rb") as f:
        while block := f.read(BLOCK):
            hasher.update(block)
    return hasher.hexdigest()
