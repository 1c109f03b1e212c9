"""The audio side of transcript review: finding clip files, their durations, and the new files
that merging and splitting write. Originals are never overwritten (the official labelling tool
overwrites the first file of a merge and the split source); files only move, idempotently, to
and from the trash, so an edit can be undone and a crash half-way can be replayed.
"""

from __future__ import annotations

import ntpath
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import GsvError


class ClipAudioError(GsvError):
    """A clip's audio cannot be read or edited as asked."""


def is_windows_path(p: str) -> bool:
    return "\\" in p or (len(p) > 2 and p[1] == ":" and p[0].isalpha())


def path_basename(p: str) -> str:
    return ntpath.basename(p) if is_windows_path(p) else os.path.basename(p)


def sibling_path_string(written: str, new_name: str) -> str:
    """``written`` with its file name replaced, keeping its separator style (a Windows-made
    list stays Windows-shaped)."""
    if is_windows_path(written):
        head = ntpath.dirname(written)
        return f"{head}\\{new_name}" if head else new_name
    head = os.path.dirname(written)
    return f"{head}/{new_name}" if head else new_name


class PathResolver:
    """Turns the path a line holds into a file here. Official lists hold paths relative to the
    WebUI's folder, absolute paths from another machine, or Windows paths; we try the path as
    written, then relative to the list, then the clip's name in the folders that held other
    clips (remembered, so ten thousand lookups stay a few stats each)."""

    def __init__(self, list_path: Path, extra_dirs: list[Path] | None = None) -> None:
        self.list_dir = list_path.parent
        self.extra_dirs = [d for d in (extra_dirs or [])]
        self._hits: list[Path] = []  # folders that resolved earlier clips, most recent first
        self._cache: dict[str, Path | None] = {}

    def resolve(self, written: str, speaker: str = "") -> Path | None:
        if written in self._cache:
            return self._cache[written]
        found = self._search(written, speaker)
        self._cache[written] = found
        return found

    def forget(self, written: str) -> None:
        self._cache.pop(written, None)

    def _search(self, written: str, speaker: str) -> Path | None:
        name = path_basename(written)
        if not is_windows_path(written):
            p = Path(written).expanduser()
            cands = [p] if p.is_absolute() else [self.list_dir / p, Path.cwd() / p]
            for c in cands:
                if c.is_file():
                    self._remember(c.parent)
                    return c
        dirs = list(self._hits) + [self.list_dir] + self.extra_dirs
        if speaker:
            dirs.append(self.list_dir.parent / speaker)
        seen: set[Path] = set()
        for d in dirs:
            if d in seen:
                continue
            seen.add(d)
            c = d / name
            if c.is_file():
                self._remember(d)
                return c
        return None

    def _remember(self, d: Path) -> None:
        if d in self._hits:
            self._hits.remove(d)
        self._hits.insert(0, d)
        del self._hits[4:]

    def folder_for_new(self, written: str, speaker: str = "") -> Path:
        """Where a file derived from this clip goes: beside it, or beside the list."""
        p = self.resolve(written, speaker)
        return p.parent if p is not None else self.list_dir


class DurationCache:
    """Clip durations from the file header (soundfile.info), keyed by path and mtime."""

    def __init__(self) -> None:
        self._d: dict[Path, tuple[int, float | None]] = {}

    def get(self, path: Path | None) -> float | None:
        if path is None:
            return None
        try:
            mtime = path.stat().st_mtime_ns
        except OSError:
            return None
        hit = self._d.get(path)
        if hit is not None and hit[0] == mtime:
            return hit[1]
        dur = read_duration(path)
        self._d[path] = (mtime, dur)
        return dur

    def peek(self, path: Path | None) -> float | None:
        """A known duration without touching the disk (for drawing rows)."""
        hit = self._d.get(path) if path is not None else None
        return hit[1] if hit else None

    def known(self, path: Path | None) -> bool:
        return path is not None and path in self._d


def read_duration(path: Path) -> float | None:
    import soundfile as sf

    try:
        info = sf.info(str(path))
    except Exception:
        return None
    return info.frames / info.samplerate if info.samplerate else None


def unique_path(folder: Path, stem: str, suffix: str, taken: tuple[Path, ...] = ()) -> Path:
    """A free ``folder/<stem><suffix>`` (``-2``, ``-3``… appended when taken), its name made safe
    for a ``.list`` and short enough for the file system (see :mod:`backend.filenames`).
    ``taken`` are paths this operation will write but has not written yet."""
    from ..filenames import safe_name

    name = safe_name(stem, suffix)
    base = name[: len(name) - len(suffix)] if suffix else name
    p = folder / name
    k = 2
    while p.exists() or p in taken:
        p = folder / f"{base}-{k}{suffix}"
        k += 1
    return p


def move_idempotent(src: Path, dst: Path) -> None:
    """Move ``src`` to ``dst`` unless that already happened (replaying after a crash)."""
    if src.exists() and not dst.exists():
        dst.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(src, dst)
        except OSError:  # another file system
            shutil.move(str(src), str(dst))


@dataclass
class _Audio:
    data: Any  # numpy array, frames × channels
    sr: int
    subtype: str


def _read(path: Path) -> _Audio:
    import soundfile as sf

    try:
        info = sf.info(str(path))
        data, sr = sf.read(str(path), always_2d=True, dtype="float32")
    except Exception as e:
        raise ClipAudioError(f"cannot read audio {path}: {e}",
                             "check the file exists and is a readable audio file") from None
    return _Audio(data, sr, info.subtype)


def _write_atomic(path: Path, data: "object", sr: int, subtype: str) -> None:
    """Write a wav via a temp file so a crash leaves no half file under the final name."""
    import soundfile as sf

    tmp = path.with_name(f".{path.name}.tmp")
    try:
        sf.write(str(tmp), data, sr, subtype=subtype if sf.check_format("WAV", subtype) else None,
                 format="WAV")
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def merge_audio(first: Path, second: Path, out: Path, gap_seconds: float = 0.0) -> None:
    """``first`` + optional silence + ``second`` into ``out`` at the first file's rate, width
    and channel count (the second is resampled / down- or up-mixed to match)."""
    import numpy as np

    a, b = _read(first), _read(second)
    bd = b.data
    if b.sr != a.sr:
        import soxr

        bd = soxr.resample(bd, b.sr, a.sr)
    ch = a.data.shape[1]
    if bd.shape[1] != ch:
        mono = bd.mean(axis=1, keepdims=True)
        bd = np.repeat(mono, ch, axis=1)
    gap = np.zeros((int(round(gap_seconds * a.sr)), ch), dtype=np.float32)
    _write_atomic(out, np.concatenate([a.data, gap, bd.astype(np.float32)]), a.sr, a.subtype)


def split_audio(src: Path, at_seconds: float, out_a: Path, out_b: Path) -> None:
    a = _read(src)
    n = a.data.shape[0]
    cut = int(at_seconds * a.sr)
    if not 0 < cut < n:
        raise ClipAudioError(f"cannot split {src.name} at {at_seconds:.2f} s: the clip is "
                             f"{n / a.sr:.2f} s long", "choose a time inside the clip")
    _write_atomic(out_a, a.data[:cut], a.sr, a.subtype)
    try:
        _write_atomic(out_b, a.data[cut:], a.sr, a.subtype)
    except BaseException:
        out_a.unlink(missing_ok=True)  # both halves or neither: no orphan clip
        raise
