"""Stage `slice`: recordings in, 32 kHz mono 16-bit clips out, named and cut the official way.

  gsv slice INPUT... (--project NAME | --out DIR) [--threshold DB] [--min-length MS] ... [--max-length S]

Each INPUT is a file or a folder (its files, sorted, not recursive, like the official tool). Every
file is decoded to 32 kHz mono, cut at its pauses by the official algorithm, loudness-mixed like
the official tool and written as <file name>_<start>_<end>.wav (10-digit sample offsets). Files
are sliced in parallel, one process per core; a file that cannot be used is skipped with its reason
and the rest go on. The run ends with a summary, also written to <clips folder>.slice.json beside
the clips folder (not in it, so every file in the clips folder is a clip).

A file whose clips are already in the folder is skipped unless --replace is given; then its
earlier clips are first moved to a backup folder, never deleted. See docs/slicing.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..audio import slicing
from ..audio.slice_params import SliceParams
from ..audio.slicing import DEFAULT_MAX_LENGTH, ClipSettings, existing_clips, list_inputs, summary_path
from ..errors import GsvError
from ..fsutil import atomic_write_text
from ..progress import Reporter
from .base import StageSpec, add_param_option, param, param_default, range_problems

STAGE = StageSpec(name="slice", help="cut recordings into 32 kHz clips at their pauses (the official slicer)")

class SliceError(GsvError):
    """The slice stage cannot run as asked."""


_SLICER = SliceParams()  # the official WebUI's slicer defaults, declared with the slicer


@dataclass
class Params:
    inputs: list[Path]
    out_dir: Path
    project: str | None = None
    threshold: float = param(_SLICER.threshold, help="dB; quieter is a pause", label="threshold dB")
    min_length: int = param(_SLICER.min_length, help="ms; a cut needs this much audio since the previous one",
                            label="min_length ms")
    min_interval: int = param(_SLICER.min_interval, help="ms; shortest pause to cut at",
                              label="min_interval ms")
    hop_size: int = param(_SLICER.hop_size, help="ms; loudness step", label="hop_size ms")
    max_sil_kept: int = param(_SLICER.max_sil_kept, help="ms; silence kept at clip edges",
                              label="max_sil_kept ms")
    peak: float = param(0.9, help="peak of the normalised part of the loudness mix (the official `_max`)",
                        low=0, low_open=True, high=1, flag="--max", label="max (peak)")
    alpha: float = param(0.25, help="share of the normalised clip in the mix", low=0, high=1, label="alpha (mix)")
    max_length: float | None = param(DEFAULT_MAX_LENGTH, help="s; split longer clips at their quietest point, "
                                     "0 = never", label="max_length s (0=off)")
    workers: int | None = param(None, help="parallel processes", low=1, none="one per core, at most 8")
    replace: bool = False
    backup_dir: Path | None = None  # where replaced clips go (default: beside the clips folder)
    resampler: str = param("ffmpeg", help="ffmpeg: libswresample like the official tool, so the same cuts at any "
                           "input rate; soxr: another high-quality resampler", choices=("ffmpeg", "soxr"))

    def slice_params(self) -> SliceParams:
        return SliceParams(threshold=self.threshold, min_length=self.min_length,
                           min_interval=self.min_interval, hop_size=self.hop_size,
                           max_sil_kept=self.max_sil_kept, max_length=self.max_length)

    def settings(self) -> ClipSettings:
        return ClipSettings(self.slice_params(), peak=self.peak, alpha=self.alpha, resampler=self.resampler,
                            replace=self.replace)

    def problems(self) -> list[str]:
        """Every invalid value, one sentence each (what the CLI and the Dataset screen show)."""
        # the slicer's own rules (how its settings relate) and the ranges declared above
        return self.slice_params().problems() + range_problems(self)


SLICER_FIELDS = ("threshold", "min_length", "min_interval", "hop_size", "max_sil_kept", "peak", "alpha",
                 "max_length")
"""The slicer settings a person tunes, in the order the WebUI and the Dataset screen show them."""


def official_defaults_text() -> str:
    """The slicer defaults in one line, for messages (read from the declaration)."""
    return ", ".join(f"{name} {param_default(Params, name):g}" for name in SLICER_FIELDS[:5])


# --- CLI ----------------------------------------------------------------------------------------

def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("inputs", nargs="*", type=Path, metavar="INPUT",
                        help="audio/video files or folders of them (default with --project: its clean/ "
                             "recordings if any, else raw/)")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--project", help="write the clips to this project's clips folder")
    where.add_argument("--out", type=Path, help="write the clips to this folder")
    for name in SLICER_FIELDS + ("resampler", "workers"):
        add_param_option(parser, Params, name, **({"metavar": "MAX"} if name == "peak" else {}))
    parser.add_argument("--replace", action="store_true",
                        help="re-slice files already sliced into the folder (earlier clips are backed up)")


def params_from_args(args: argparse.Namespace, workspace: Any) -> Params:
    backup = None
    inputs = list(args.inputs)
    if args.project:
        project = workspace.open_project(args.project)
        out_dir, name = project.clips_dir, project.name
        backup = project.trash_dir / "replaced-clips"
        if not inputs:
            from ..clean.project import default_slice_input

            folder, why = default_slice_input(project)
            print(why, file=sys.stderr)
            inputs = [folder]
    else:
        out_dir, name = args.out, None
    params = Params(inputs=[Path(p).expanduser().absolute() for p in inputs],
                    out_dir=Path(out_dir).expanduser().absolute(), project=name,
                    threshold=args.threshold, min_length=args.min_length, min_interval=args.min_interval,
                    hop_size=args.hop_size, max_sil_kept=args.max_sil_kept, peak=args.peak, alpha=args.alpha,
                    max_length=args.max_length or None, workers=args.workers, replace=args.replace,
                    backup_dir=backup, resampler=args.resampler)
    check(params)
    return params


def check(params: Params) -> None:
    """Raise :class:`SliceError` for invalid parameters or inputs that do not exist."""
    problems = params.problems()
    if problems:
        raise SliceError("invalid slicer parameters: " + "; ".join(problems),
                         f"change the values named (the official defaults are {official_defaults_text()})")
    missing = [str(p) for p in params.inputs if not Path(p).exists()]
    if missing:
        raise SliceError(f"input not found: {', '.join(missing)}", "check the path (quote it if it has spaces)")
    if not params.inputs:
        raise SliceError("no inputs given", "name at least one audio file or folder")
    out = Path(params.out_dir).resolve()
    check_out_dir(out)
    for p in params.inputs:
        p = Path(p).resolve()
        if p == out or (p.is_file() and p.parent == out):
            raise SliceError(f"{p} is in the output folder itself; its clips would be mixed with it",
                             "slice recordings from another folder, or choose another --out")


def check_out_dir(out: Path) -> None:
    """The clips folder must be a folder we can create or write into — checked before the job
    starts, so a typo like ``--out /etc/passwd`` is a one-line error, not a crashed job."""
    if out.exists() and not out.is_dir():
        raise SliceError(f"--out {out} is a file, not a folder", "give a folder for the clips (it is created if missing)")
    existing = out
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise SliceError(f"--out {out}: {existing} is a file, not a folder", "give a folder for the clips")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise SliceError(f"cannot write the clips into {out}: {existing} is not writable",
                         "choose a folder you can write to")


def project_of(params: Params) -> str | None:
    return params.project


def expected_outputs(params: Params) -> list[Path]:
    return [summary_path(params.out_dir)]


def already_sliced(params: Params) -> list[tuple[str, int]]:
    """Inputs whose clips are already in the output folder: (file name, clip count)."""
    files, _ = list_inputs(params.inputs)
    out = Path(params.out_dir)
    found = [(f.name, len(existing_clips(out, f.name))) for f in files]
    return [(name, n) for name, n in found if n]


def run(params: Params, report: Reporter) -> None:
    check(params)
    out_dir = Path(params.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files, skipped = list_inputs(params.inputs)
    if not files:
        raise SliceError("no files to slice in " + ", ".join(str(p) for p in params.inputs),
                         "point at audio files or at a folder that holds them")
    for stale in out_dir.glob(".*.wav.tmp"):  # left by a run that was killed mid-write
        stale.unlink(missing_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    backup = Path(params.backup_dir) if params.backup_dir else out_dir.with_name(f"{out_dir.name}.replaced")
    backup = backup / stamp
    total = len(files)
    results = slicing.slice_files(files, out_dir, params.settings(), backup, params.workers, report)
    record = {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(params).items()
              if k not in ("inputs", "out_dir", "backup_dir", "workers")}
    summary = slicing.build_summary(out_dir, record, params.max_length, results, skipped)
    from ..clean.loudness import add_to_slice_rows

    # files of a cleaned folder: their level before and after cleaning; an emptied one is a warning
    summary["warnings"].extend(add_to_slice_rows(summary["files"]))
    for path, why in skipped:
        report.warning(f"skipped {path}: {why}")
    atomic_write_text(summary_path(out_dir), json.dumps(summary, ensure_ascii=False, indent=1))
    report.artifact(summary_path(out_dir), role="summary")
    report.summary(summary)
    if all(r.error for r in results):
        raise SliceError(f"none of the {total} input file(s) could be sliced "
                         f"(first reason: {Path(results[0].path).name}: {results[0].error})",
                         "check the skipped files listed in the summary")
    for w in summary["warnings"]:
        if "skipped" not in w:  # each skipped file was reported on its own already
            report.warning(w)
    report.info(f"{summary['clips']} clips, {summary['seconds'] / 60:.1f} min in {out_dir} "
                f"(summary: {summary_path(out_dir).name})")


def result_text(params: Params) -> str | None:
    """What ``gsv slice`` prints when the job has succeeded: the clips, and for the files of a
    cleaned folder their loudness before and after cleaning (read back from the summary)."""
    from ..clean.loudness import db_text, emptied

    try:
        summary = json.loads(summary_path(params.out_dir).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    lines = [f"{summary.get('clips', 0)} clips, {summary.get('seconds', 0) / 60:.1f} min in {params.out_dir}"]
    rows = [f for f in summary.get("files", ()) if "rms_db_cleaned" in f]
    if rows:
        width = max(_cells(Path(f["path"]).name) for f in rows)
        lines.append("loudness (RMS dBFS), original → cleaned:")
        for f in rows:
            before, after = f.get("rms_db_original"), f.get("rms_db_cleaned")
            flag = "   ⚠ emptied by the cleaning?" if emptied(before, after) else ""
            name = Path(f["path"]).name
            pad = " " * (width - _cells(name))
            lines.append(f"  {name}{pad}  {db_text(before):>7} → {db_text(after):>7}{flag}")
    return "\n".join(lines)


def _cells(text: str) -> int:
    """Terminal cells ``text`` takes: wide (CJK) characters take two, so the columns line up."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
