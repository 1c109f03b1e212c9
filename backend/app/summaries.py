"""What a finished slice or format run left behind, as typed values a screen can show.

Both runs write their summary as JSON (``<clips>.slice.json``; ``summary.json`` in the experiment
folder's state). Reading it here, once, means a screen never guesses keys with ``.get``: a file
that is missing, unreadable or from another program reads as None.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..fsutil import read_json_file


@dataclass(frozen=True)
class SlicedFile:
    path: str
    clips: int = 0
    seconds: float = 0.0
    source_seconds: float = 0.0
    warnings: tuple[str, ...] = ()
    from_cleaning: bool = False  # sliced from a cleaned folder: the two levels below apply
    rms_db_original: float | None = None  # before cleaning (RMS dBFS; None: unknown)
    rms_db_cleaned: float | None = None  # after cleaning (-inf: digital silence)

    @property
    def emptied(self) -> bool:
        """The cleaning left little of it (far quieter than its original, or near silent)."""
        from ..clean.loudness import emptied

        return self.from_cleaning and emptied(self.rms_db_original, self.rms_db_cleaned)


def _level(v: Any) -> float | None:
    return float(v) if isinstance(v, (int, float)) else None


def level_text(v: float | None) -> str:
    """A level as the summaries show it: ``-23.4``, ``silent`` (-inf) or ``unknown`` (None)."""
    from ..clean.loudness import db_text

    return db_text(v)


@dataclass(frozen=True)
class Skipped:
    """An input (slicing) or a clip (formatting) left out, with the reason."""

    item: str
    reason: str
    step: str = ""


@dataclass(frozen=True)
class SliceSummary:
    clips: int
    seconds: float
    histogram_edges: tuple[float, ...] = ()
    histogram_counts: tuple[int, ...] = ()
    folder_clips: int | None = None
    folder_seconds: float = 0.0
    files: tuple[SlicedFile, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def recorded_seconds(self) -> float:
        return sum(f.source_seconds for f in self.files)

    @property
    def cleaned_files(self) -> tuple[SlicedFile, ...]:
        """The files sliced from a cleaned folder (each with its level before and after)."""
        return tuple(f for f in self.files if f.from_cleaning)

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> "SliceSummary":
        hist = d.get("histogram") or {}
        folder = d.get("folder") or {}
        return cls(
            clips=int(d.get("clips", 0)), seconds=float(d.get("seconds", 0.0)),
            histogram_edges=tuple(hist.get("edges", ())), histogram_counts=tuple(hist.get("counts", ())),
            folder_clips=folder.get("clips"), folder_seconds=float(folder.get("seconds", 0.0)),
            files=tuple(SlicedFile(str(f.get("path", "")), int(f.get("clips", 0)), float(f.get("seconds", 0.0)),
                                   float(f.get("source_seconds") or 0.0), tuple(f.get("warnings") or ()),
                                   "rms_db_cleaned" in f, _level(f.get("rms_db_original")),
                                   _level(f.get("rms_db_cleaned")))
                        for f in d.get("files") or ()),
            skipped=tuple(Skipped(str(s.get("path", "")), str(s.get("reason", ""))) for s in d.get("skipped") or ()),
            warnings=tuple(d.get("warnings") or ()))


@dataclass(frozen=True)
class FormatStep:
    name: str
    done: int = 0
    reused: int = 0


@dataclass(frozen=True)
class FormatSummary:
    kept: int
    seconds: float
    version: str = ""
    steps: tuple[FormatStep, ...] = ()
    skipped: tuple[Skipped, ...] = field(default=())

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> "FormatSummary":
        return cls(kept=int(d.get("kept", 0)), seconds=float(d.get("seconds", 0.0)), version=str(d.get("version", "")),
                   steps=tuple(FormatStep(str(s.get("name", "")), int(s.get("done", 0)), int(s.get("reused", 0)))
                               for s in d.get("steps") or ()),
                   skipped=tuple(Skipped(str(s.get("item", "")), str(s.get("reason", "")), str(s.get("step", "")))
                                 for s in d.get("skipped") or ()))


def read_slice_summary(clips_dir: Path) -> SliceSummary | None:
    """The summary of the last slicing into ``clips_dir``, or None (missing or unreadable)."""
    from ..stages.slice import summary_path

    data = read_json_file(summary_path(clips_dir))
    if data is None or "clips" not in data:
        return None
    try:
        return SliceSummary.from_json(data)
    except (TypeError, ValueError, AttributeError):
        return None


def read_format_summary(exp_dir: Path) -> FormatSummary | None:
    """The summary of the last formatting into ``exp_dir``, or None."""
    from ..format.journal import read_summary

    data = read_summary(exp_dir)
    if data is None:
        return None
    try:
        return FormatSummary.from_json(data)
    except (TypeError, ValueError, AttributeError):
        return None
