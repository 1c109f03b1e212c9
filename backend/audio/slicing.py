"""Slicing a batch of recordings into a clips folder: the work under the ``slice`` stage.

Each file is decoded to 32 kHz mono, cut by the official slicer (:mod:`.slicer`), loudness-mixed
and written as ``<name>_<start>_<end>.wav``; files run in parallel processes, a file that cannot be
used is skipped with its reason and the rest go on. The summary (``<clips folder>.slice.json``)
counts the clips, the whole folder's speech, and says what a person should know before the ASR.
"""

from __future__ import annotations

import concurrent.futures as cf
import functools
import os
import re
import shutil
import signal
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..progress import Reporter
from .slice_params import SliceParams

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


@dataclass(frozen=True)
class ClipSettings:
    """How each file is cut and its clips mixed (sent to every worker process)."""

    slicer: SliceParams
    peak: float = 0.9  # the official ``_max``
    alpha: float = 0.25
    resampler: str = "ffmpeg"
    replace: bool = False  # re-slice files whose clips are already there (earlier clips backed up)


def summary_path(out_dir: Path) -> Path:
    """``<clips folder>.slice.json`` beside the clips folder."""
    out_dir = Path(out_dir)
    return out_dir.with_name(out_dir.name + ".slice.json")


@dataclass
class FileResult:
    path: str
    clips: list[tuple[str, float]] = field(default_factory=list)  # (file name, seconds)
    source_seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    replaced: int = 0


def expand_inputs(inputs: list[Path], key: Callable[[Path], str], clash: Callable[[Path, str, Path], str]
                  ) -> tuple[list[Path], list[tuple[str, str]]]:
    """Expand folders (sorted, non-recursive, hidden files left out) → (files, skipped). Two
    inputs with the same ``key`` (what they would be written as) clash: the second is skipped with
    ``clash(file, key, first)`` as its reason; the same file named twice is taken once."""
    files: list[Path] = []
    for p in inputs:
        p = Path(p)
        if p.is_dir():
            files.extend(sorted(c for c in p.iterdir() if not c.name.startswith(".") and not c.is_dir()))
        else:
            files.append(p)
    seen: dict[str, Path] = {}
    unique: list[Path] = []
    skipped: list[tuple[str, str]] = []
    for f in files:
        k = key(f)
        if k in seen:
            if seen[k].resolve() != f.resolve():
                skipped.append((str(f), clash(f, k, seen[k])))
            continue
        seen[k] = f
        unique.append(f)
    return unique, skipped


def list_inputs(inputs: list[Path]) -> tuple[list[Path], list[tuple[str, str]]]:
    """The slicer's inputs: two files that would make the same clip names (names that differ only
    in characters a .list cannot hold included) clash."""
    from .slicer import clip_prefix

    return expand_inputs(inputs, lambda f: clip_prefix(f.name),
                         lambda f, k, first: f"makes the same clip names as {first}; their clips would collide")


def existing_clips(out_dir: Path, source_name: str) -> list[Path]:
    """Clips of ``source_name`` already in ``out_dir`` (by the official naming pattern)."""
    if not out_dir.is_dir():
        return []
    from .slicer import clip_prefix

    pat = re.compile(re.escape(clip_prefix(source_name)) + r"_\d{10}_\d{10}\.wav")
    return sorted(c for c in out_dir.iterdir() if pat.fullmatch(c.name))


def slice_file(path: str, out_dir: str, settings: ClipSettings, backup_dir: str,
               on_progress: Callable[[float], None] | None = None) -> FileResult:
    """Slice one file into ``out_dir``. Never raises for a bad file: the reason goes in ``error``.

    Runs in a worker process, so everything it needs travels in its arguments.
    """
    from .io import TARGET_SR, AudioError, load_audio, save_wav_int16, sync_folder
    from .slicer import Slicer, clip_name, normalize_clip

    result = FileResult(path=path)
    src, out = Path(path), Path(out_dir)
    try:
        earlier = existing_clips(out, src.name)
        if earlier and not settings.replace:
            result.error = (f"already sliced: {len(earlier)} clips of {src.name} are in {out} "
                            "(use --replace to re-slice; the earlier clips are then backed up)")
            return result
        audio = load_audio(src, TARGET_SR, resampler=settings.resampler, on_progress=on_progress)
        result.warnings.extend(audio.warnings)
        result.source_seconds = audio.duration
        clips = Slicer(TARGET_SR, settings.slicer).slice(audio.samples)
        if earlier:
            dest = Path(backup_dir)
            dest.mkdir(parents=True, exist_ok=True)
            for c in earlier:
                shutil.move(str(c), str(dest / c.name))
            result.replaced = len(earlier)
        out.mkdir(parents=True, exist_ok=True)
        silent = 0
        for clip in clips:
            pcm = normalize_clip(clip.samples, settings.peak, settings.alpha)
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


def _decoding(report: Reporter, k: int, total: int, label: str, frac: float) -> None:
    """File ``k`` is ``frac`` decoded: progress in files, decoding counted as 90 % of a file."""
    report.progress(round(k + 0.9 * frac, 3), total, unit="files", label=label)


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


def slice_files(files: list[Path], out_dir: Path, settings: ClipSettings, backup: Path, workers: int | None,
                report: Reporter) -> list[FileResult]:
    """Slice every file into ``out_dir`` (in ``workers`` processes; None: one per core, at most
    8), reporting each file's warnings and the progress in files. Results in input order; a file
    that cannot be used has its reason in ``error`` and costs only itself."""
    total = len(files)
    results: list[FileResult] = []
    workers = min(workers or default_workers(), total)

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
            decoded = _throttled(functools.partial(_decoding, report, k, total, label))
            done(slice_file(str(f), str(out_dir), settings, str(backup), decoded))
    else:
        report.progress(0, total, unit="files", label=f"slicing in {workers} processes")
        pool = cf.ProcessPoolExecutor(max_workers=workers, initializer=_worker_init)
        try:
            futures = {pool.submit(slice_file, str(f), str(out_dir), settings, str(backup)): f for f in files}
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
    return results


def build_summary(out_dir: Path, settings_record: dict[str, Any], max_length: float | None,
                  results: list[FileResult], skipped: list[tuple[str, str]]) -> dict[str, Any]:
    """The run's summary (``<clips folder>.slice.json``): clips, durations, the whole folder's
    totals, what was skipped and why, and the warnings a person should read."""
    durations = [d for r in results for _, d in r.clips]
    limit = max_length or DEFAULT_MAX_LENGTH
    folder_clips, folder_seconds = folder_totals(Path(out_dir))
    summary: dict[str, Any] = {
        "out_dir": str(out_dir),
        "sample_rate": SAMPLE_RATE,
        "params": settings_record,
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


def histogram(durations: list[float]) -> dict[str, list[int]]:
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
