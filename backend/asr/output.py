"""Writing ASR results as the official ``.list`` (and our confidence sidecar), never losing edits.

A ``.list`` a person has already reviewed is precious. When one exists where we would write:

- ``merge`` (default): its lines are kept exactly as they are; only clips it does not list yet are
  transcribed and appended. The previous file is kept as ``<name>.list.bak``.
- ``new``: the results go to ``<name>-<timestamp>.list`` next to it; nothing existing is touched.
- ``overwrite``: everything is transcribed again; the previous file is kept as ``<name>.list.bak``.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from ..fsutil import atomic_write_bytes, atomic_write_text
from ..transcripts.flags import sidecar_path
from ..transcripts.listfile import Clip, ListStyle, parse_bytes, render
from ..transcripts.listfile import clean_text as clean_field
from .base import TRAINABLE, AsrError, ClipResult

ON_EXISTING = ("merge", "new", "overwrite")
AUDIO_EXTENSIONS = {".wav", ".flac", ".ogg", ".mp3", ".m4a", ".aac", ".opus", ".webm", ".mp4", ".mkv", ".mov"}


@dataclass
class Target:
    """Where this run writes and which clips it still has to transcribe."""

    list_path: Path
    existing: bytes | None  # the file's bytes when merging into it
    already_listed: set[str]  # basenames of clips the existing file lists


def list_path_for(input_dir: Path, out_dir: Path) -> Path:
    """``<out>/<input folder name>.list``, as the official tools name it."""
    return out_dir / f"{input_dir.name}.list"


def find_clips(input_dir: Path) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Audio files of the folder in name order, and the other files with why they are skipped."""
    if not input_dir.is_dir():
        raise AsrError(f"{input_dir} is not a folder", "give the folder of sliced clips")
    clips, skipped = [], []
    for p in sorted(input_dir.iterdir()):
        if p.name.startswith(".") or p.is_dir():
            continue
        if p.suffix.lower() in AUDIO_EXTENSIONS:
            clips.append(p)
        else:
            skipped.append((p, "not an audio file"))
    return clips, skipped


def plan(input_dir: Path, out_dir: Path, on_existing: str) -> Target:
    if on_existing not in ON_EXISTING:
        raise AsrError(f"unknown --on-existing {on_existing!r}", f"use one of {', '.join(ON_EXISTING)}")
    path = list_path_for(input_dir, out_dir)
    if not path.exists() or on_existing == "overwrite":
        return Target(path, None, set())
    if on_existing == "new":
        stamp = time.strftime("%Y%m%d-%H%M%S")
        return Target(path.with_name(f"{input_dir.name}-{stamp}.list"), None, set())
    data = path.read_bytes()
    listed = {_basename(r.path) for r in parse_bytes(data).rows if isinstance(r, Clip)}
    return Target(path, data, listed)


def _basename(p: str) -> str:
    return p.replace("\\", "/").rsplit("/", 1)[-1]


def safe_clip_names(clips: list[Path]) -> tuple[list[Path], list[tuple[Path, Path]]]:
    """Rename clips whose names a ``.list`` cannot hold (``|``, line breaks) to safe names.

    The path is the one field of a line that cannot be escaped: the WebUI, the formatter and our
    reader all split at ``|`` and at line breaks. Returns the clips as they are named now and the
    renames made (old, new). The folder itself must be safe (see :func:`check_folder`).
    """
    from ..filenames import is_list_safe, safe_name
    from ..transcripts.audio import unique_path

    out, renamed = [], []
    for p in clips:
        if is_list_safe(p.name):
            out.append(p)
            continue
        name = safe_name(p.stem, p.suffix)
        new = unique_path(p.parent, name[: -len(p.suffix)] if p.suffix else name, p.suffix)
        p.rename(new)
        renamed.append((p, new))
        out.append(new)
    return out, renamed


def check_folder(folder: Path) -> None:
    """Refuse a clips folder whose path a ``.list`` line cannot hold (before any work is done)."""
    from ..filenames import is_list_safe

    if not is_list_safe(str(folder.absolute())):
        raise AsrError(f"the path of {folder!s:.200} holds a '|' or a line break, which a .list line cannot hold",
                       "rename the folder (or a folder above it) and run again")


def line_for(result: ClipResult, speaker: str) -> Clip:
    """One official line: ``path|speaker|LANG|text`` with fields that cannot break the format."""
    from ..filenames import is_list_safe

    lang = (result.language or "").upper()
    path = str(result.path)
    if not is_list_safe(path):  # safe_clip_names and check_folder make this unreachable
        raise AsrError(f"{path!r} cannot be written to a .list line", "rename the clip without '|' or line breaks")
    return Clip(path, clean_field(speaker), clean_field(lang), clean_field(result.text))


def untrainable_reason(result: ClipResult) -> str | None:
    if result.error:
        return result.error
    if result.language not in TRAINABLE:
        return (f"detected language {result.language!r} cannot be trained "
                f"(GPT-SoVITS reads {', '.join(TRAINABLE)}); set --language to transcribe it anyway")
    return None


def write_list(target: Target, clips: list[Clip]) -> None:
    """Write (or append to) the .list atomically; keep the previous file as ``.bak``."""
    if target.existing is not None:
        parsed = parse_bytes(target.existing)
        rows, style = parsed.rows, parsed.style
    else:
        rows, style = [], ListStyle()
    rows = [*rows, *(Clip(c.path, c.speaker, c.lang, c.text, None, style.newline) for c in clips)]
    if target.list_path.exists():
        atomic_write_bytes(target.list_path.with_name(target.list_path.name + ".bak"), target.list_path.read_bytes())
    atomic_write_bytes(target.list_path, render(rows, style))


def write_sidecar(list_path: Path, results: list[ClipResult], failed: list[tuple[Path, str]], meta: dict) -> Path:
    """``<name>.list.asr.json``: per-clip confidence for the review screen's worst-first order."""
    path = sidecar_path(list_path)
    old: dict = {}
    if path.is_file():
        try:
            old = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            old = {}
    clips = dict(old.get("clips", {})) if isinstance(old.get("clips"), dict) else {}
    for r in results:
        clips[str(r.path)] = {"avg_logprob": r.avg_logprob, "no_speech_prob": r.no_speech_prob,
                              "compression_ratio": r.compression_ratio, "language": r.language}
    data = {**meta, "clips": clips, "failed": {str(p): why for p, why in failed}}
    atomic_write_text(path, json.dumps(data, ensure_ascii=False, indent=1))
    return path
