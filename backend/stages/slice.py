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
import concurrent.futures as cf
import json
import os
import re
import shutil
import signal
import time
import traceback
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from ..audio.slice_params import SliceParams
from ..errors import GsvError
from ..fsutil import atomic_write_text
from ..progress import Reporter
from .base import StageSpec, add_param_option, param, param_default, range_problems

STAGE = StageSpec(name="slice", help="cut recordings into 32 kHz clips at their pauses (the official slicer)")

SAMPLE_RATE = 32000
# Default maximum clip length, seconds. The official slicer has none: unbroken speech becomes one
# clip of any length, and long clips are a known cause of out-of-memory in GPT training (which
# also drops anything over 54 s). With the WebUI defaults normal speech gives clips of 4–15 s, so
# 20 s touches only unusually long stretches, keeps every clip inside one Whisper window (30 s)
# and well inside the trainers' 54 s limit.
DEFAULT_MAX_LENGTH = 20.0
HISTOGRAM_EDGES = (0, 2, 4, 6, 8, 10, 15, 20, 30)  # seconds; the last bin is open (≥ 30 s)
SHORT_CLIP_S = 2.0
MAX_DEFAULT_WORKERS = 8
RECOMMENDED_TOTAL_S = (60.0, 1800.0)


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


def summary_path(out_dir: Path) -> Path:
    """``<clips folder>.slice.json`` beside the clips folder."""
    out_dir = Path(out_dir)
    return out_dir.with_name(out_dir.name + ".slice.json")


# --- CLI ----------------------------------------------------------------------------------------

def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("inputs", nargs="+", type=Path, metavar="INPUT",
                        help="audio/video files or folders of them")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--project", help="write the clips to this project's clips folder")
    where.add_argument("--out", type=Path, help="write the clips to this folder")
    for name in SLICER_FIELDS + ("resampler", "workers"):
        add_param_option(parser, Params, name, **({"metavar": "MAX"} if name == "peak" else {}))
    parser.add_argument("--replace", action="store_true",
                        help="re-slice files already sliced into the folder (earlier clips are backed up)")


def params_from_args(args: argparse.Namespace, workspace: Any) -> Params:
    backup = None
    if args.project:
        project = workspace.open_project(args.project)
        out_dir, name = project.clips_dir, project.name
        backup = project.trash_dir / "replaced-clips"
    else:
        out_dir, name = args.out, None
    params = Params(inputs=[Path(p).expanduser().absolute() for p in args.inputs],
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


# --- the work -----------------------------------------------------------------------------------

@dataclass
class FileResult:
    path: str
    clips: list[tuple[str, float]] = field(default_factory=list)  # (file name, seconds)
    source_seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    replaced: int = 0


def list_inputs(inputs: list[Path]) -> tuple[list[Path], list[tuple[str, str]]]:
    """Expand folders (sorted, non-recursive, hidden files left out); refuse name clashes.

    Two inputs with the same file name would write the same clip names, so the second is
    skipped with that reason.
    """
    files: list[Path] = []
    skipped: list[tuple[str, str]] = []
    for p in inputs:
        p = Path(p)
        if p.is_dir():
            files.extend(sorted(c for c in p.iterdir() if not c.name.startswith(".") and not c.is_dir()))
        else:
            files.append(p)
    from ..audio.slicer import clip_prefix

    seen: dict[str, Path] = {}
    unique: list[Path] = []
    for f in files:
        key = clip_prefix(f.name)  # names that differ only in characters a .list cannot hold clash too
        if key in seen:
            if seen[key].resolve() != f.resolve():
                skipped.append((str(f), f"makes the same clip names as {seen[key]}; their clips would collide"))
            continue
        seen[key] = f
        unique.append(f)
    return unique, skipped


def already_sliced(params: Params) -> list[tuple[str, int]]:
    """Inputs whose clips are already in the output folder: (file name, clip count)."""
    files, _ = list_inputs(params.inputs)
    out = Path(params.out_dir)
    found = [(f.name, len(existing_clips(out, f.name))) for f in files]
    return [(name, n) for name, n in found if n]


def existing_clips(out_dir: Path, source_name: str) -> list[Path]:
    """Clips of ``source_name`` already in ``out_dir`` (by the official naming pattern)."""
    if not out_dir.is_dir():
        return []
    from ..audio.slicer import clip_prefix

    pat = re.compile(re.escape(clip_prefix(source_name)) + r"_\d{10}_\d{10}\.wav")
    return sorted(c for c in out_dir.iterdir() if pat.fullmatch(c.name))


def slice_file(path: str, out_dir: str, params: Params, backup_dir: str,
               on_progress: Callable[[float], None] | None = None) -> FileResult:
    """Slice one file into ``out_dir``. Never raises for a bad file: the reason goes in ``error``.

    Runs in a worker process, so everything it needs travels in its arguments.
    """
    from ..audio.io import TARGET_SR, AudioError, load_audio, save_wav_int16, sync_folder
    from ..audio.slicer import Slicer, clip_name, normalize_clip

    result = FileResult(path=path)
    src, out = Path(path), Path(out_dir)
    try:
        earlier = existing_clips(out, src.name)
        if earlier and not params.replace:
            result.error = (f"already sliced: {len(earlier)} clips of {src.name} are in {out} "
                            "(use --replace to re-slice; the earlier clips are then backed up)")
            return result
        audio = load_audio(src, TARGET_SR, resampler=params.resampler, on_progress=on_progress)
        result.warnings.extend(audio.warnings)
        result.source_seconds = audio.duration
        clips = Slicer(TARGET_SR, params.slice_params()).slice(audio.samples)
        if earlier:
            dest = Path(backup_dir)
            dest.mkdir(parents=True, exist_ok=True)
            for c in earlier:
                shutil.move(str(c), str(dest / c.name))
            result.replaced = len(earlier)
        out.mkdir(parents=True, exist_ok=True)
        silent = 0
        for clip in clips:
            pcm = normalize_clip(clip.samples, params.peak, params.alpha)
            if not pcm.any():  # nothing but digital silence: useless for training
                silent += 1
                continue
            name = clip_name(src.name, clip.start, clip.end)
            save_wav_int16(out / name, pcm, TARGET_SR, durable=False)
            result.clips.append((name, len(pcm) / TARGET_SR))
        if result.clips:
            sync_folder(out)  # once per file: an fsync per clip would cost more than the slicing
        if silent:
            result.warnings.append(f"{silent} fully silent clip(s) left out")
        if not result.clips:
            result.warnings.append("no speech found: every frame is below the threshold"
                                   if audio.samples.any() else "the file is digital silence")
    except AudioError as e:
        result.error = e.why
    except MemoryError:
        result.error = "not enough memory to decode it (split the file first)"
    except OSError as e:
        result.error = f"cannot write clips: {e}"
    except Exception as e:  # a bug must cost one file, not the batch; the log keeps the traceback
        traceback.print_exc()
        result.error = f"unexpected error ({type(e).__name__}: {e}); see the job log"
    return result


def _throttled(fn: Callable[[float], None], every: float = 0.5) -> Callable[[float], None]:
    """``fn`` called at most once per ``every`` seconds."""
    last = [0.0]

    def call(frac: float) -> None:
        now = time.monotonic()
        if now - last[0] >= every:
            last[0] = now
            fn(frac)

    return call


def _worker_init() -> None:
    """Worker processes die on SIGTERM (a cancelled job) instead of inheriting the job runner's
    handler, which would turn it into an exception caught by the pool and go on slicing."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in a terminal reaches the main process


def default_workers() -> int:
    """One process per usable core, at most 8: each holds a whole decoded file in memory."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_DEFAULT_WORKERS))


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
    results: list[FileResult] = []
    workers = min(params.workers or default_workers(), total)

    def done(r: FileResult) -> None:
        results.append(r)
        name = Path(r.path).name
        if r.error:
            report.warning(f"skipped {r.path}: {r.error}")
        else:
            for w in r.warnings:
                report.warning(f"{name}: {w}")
            if r.replaced:
                report.info(f"{name}: {r.replaced} earlier clips moved to {backup}")
        report.progress(len(results), total, unit="files", label=name)

    if workers <= 1:
        for k, f in enumerate(files):
            label = f"slicing {f.name}"
            report.progress(k, total, unit="files", label=label)
            # A long recording takes a while: show how far its decoding is, as a fraction of a file.
            decoded = _throttled(lambda frac, k=k, label=label: report.progress(
                round(k + 0.9 * frac, 3), total, unit="files", label=label))
            done(slice_file(str(f), str(out_dir), params, str(backup), decoded))
    else:
        report.progress(0, total, unit="files", label=f"slicing in {workers} processes")
        pool = cf.ProcessPoolExecutor(max_workers=workers, initializer=_worker_init)
        try:
            futures = {pool.submit(slice_file, str(f), str(out_dir), params, str(backup)): f for f in files}
            for fut in cf.as_completed(futures):
                try:
                    r = fut.result()
                except cf.process.BrokenProcessPool:
                    r = FileResult(path=str(futures[fut]), error="the worker process died (out of memory?)")
                done(r)
        except BaseException:  # cancelled (the job's SIGTERM) or failed: start nothing more
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown()
    order = {str(f): k for k, f in enumerate(files)}
    results.sort(key=lambda r: order[r.path])
    summary = build_summary(params, results, skipped)
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


def build_summary(params: Params, results: list[FileResult], skipped: list[tuple[str, str]]) -> dict[str, Any]:
    durations = [d for r in results for _, d in r.clips]
    limit = params.max_length or DEFAULT_MAX_LENGTH
    folder_clips, folder_seconds = folder_totals(Path(params.out_dir))
    summary: dict[str, Any] = {
        "out_dir": str(params.out_dir),
        "sample_rate": SAMPLE_RATE,
        "params": {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(params).items()
                   if k not in ("inputs", "out_dir", "backup_dir", "workers")},
        "clips": len(durations),
        "seconds": round(sum(durations), 3),
        "histogram": histogram(durations),
        "short_clips": sum(d < SHORT_CLIP_S for d in durations),
        "long_clips": sum(d > limit + 1e-9 for d in durations),
        "max_length": limit,
        "folder": {"clips": folder_clips, "seconds": round(folder_seconds, 3)},
        "files": [{"path": r.path, "clips": len(r.clips), "seconds": round(sum(d for _, d in r.clips), 3),
                   "source_seconds": round(r.source_seconds, 3), "warnings": r.warnings,
                   "replaced": r.replaced}
                  for r in results if not r.error],
        "skipped": [{"path": r.path, "reason": r.error} for r in results if r.error]
        + [{"path": p, "reason": why} for p, why in skipped],
    }
    summary["warnings"] = dataset_warnings(summary)
    return summary


def histogram(durations: list[float]) -> dict[str, list[float]]:
    """Clip counts per duration bin; ``edges`` in seconds, the last bin open-ended."""
    counts = [0] * len(HISTOGRAM_EDGES)
    for d in durations:
        k = max(i for i, e in enumerate(HISTOGRAM_EDGES) if d >= e) if d >= 0 else 0
        counts[k] += 1
    return {"edges": list(HISTOGRAM_EDGES), "counts": counts}


def folder_totals(out_dir: Path) -> tuple[int, float]:
    """All clips now in the folder (earlier runs included): count and seconds, from file sizes."""
    n, seconds = 0, 0.0
    if out_dir.is_dir():
        for c in out_dir.iterdir():
            if c.suffix.lower() == ".wav" and c.is_file():
                n += 1
                seconds += max(0, c.stat().st_size - 44) / (2 * SAMPLE_RATE)
    return n, seconds


def dataset_warnings(summary: dict[str, Any]) -> list[str]:
    """What a person should know before transcribing, one sentence each."""
    out = []
    total = summary["folder"]["seconds"]
    lo, hi = RECOMMENDED_TOTAL_S
    if total < lo:
        out.append(f"only {total:.0f} s of speech in the clips folder: 1–30 minutes is recommended")
    elif total > hi:
        out.append(f"{total / 60:.0f} min of speech in the clips folder: 1–30 minutes is recommended "
                   "(more mostly adds training time)")
    if summary["short_clips"]:
        out.append(f"{summary['short_clips']} clip(s) shorter than {SHORT_CLIP_S:g} s (hard to transcribe, little to learn from)")
    if summary["long_clips"]:
        out.append(f"{summary['long_clips']} clip(s) longer than {summary['max_length']:g} s "
                   "(risk of out-of-memory in GPT training)")
    if summary["skipped"]:
        out.append(f"{len(summary['skipped'])} file(s) skipped (see the list)")
    return out
