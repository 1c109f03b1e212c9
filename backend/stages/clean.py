"""Stage ``clean``: recordings in, cleaned vocals out, before slicing.

  gsv clean [INPUT...] (--project NAME | --out DIR) [--separate NAME | --no-separate]
            [--dereverb [NAME]] [--denoise [NAME]] [--models-dir DIR] [--chunk-seconds S] [--replace]
  gsv clean --list-models

A chain of optional steps, always in this order: vocals/music separation (on by default),
de-reverb/de-echo, denoise. Each INPUT is a file or a folder (its files, sorted, not recursive);
with ``--project`` and no INPUT the project's ``raw/`` recordings are cleaned into its ``clean/``
folder, which the slicer then reads by default. Outputs are ``<input name>.wav`` at the models'
rate (44.1 kHz, stereo, 16-bit); the originals are never touched.

Long recordings are processed a chunk at a time (progress: chunks done / total) in bounded
memory. A file that fails is reported with its reason and the rest go on. A file already cleaned
is kept (so a cancelled or killed batch resumes where it stopped) unless ``--replace`` is given;
the earlier output is then moved to a backup folder. ``--excerpt START`` cleans only
``--excerpt-seconds`` (10) of one file into a preview folder, with the original excerpt beside it
for listening. The run ends with a summary (per file: seconds, loudness before and after) written
beside the output folder as ``<folder>.clean.json``. See docs/cleaning.md.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
import traceback
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..clean.catalogue import DEFAULTS
from ..clean.project import CLEAN_DIR_NAME, PREVIEW_DIR_NAME
from ..errors import GsvError
from ..fsutil import atomic_write_text
from ..progress import Reporter
from .base import StageSpec

STAGE = StageSpec(name="clean", help="separate vocals from music, remove reverb/echo and noise before slicing "
                                     "(audio-separator models)", uses_gpu=True)



class CleanError(GsvError):
    """The clean stage cannot run as asked."""


@dataclass
class Params:
    inputs: list[Path]
    out_dir: Path
    project: str | None = None
    separate: str | None = DEFAULTS["separate"]  # step 1, vocals/music separation; None = skip
    dereverb: str | None = None  # step 2, de-reverb/de-echo; off unless asked (it can dull dry speech)
    denoise: str | None = None  # step 3, denoise; off unless asked (the official WebUI hides it as unstable)
    models_dir: Path | None = None  # None: $GSV_CLEAN_MODELS_DIR or <workspace>/models/clean
    device: str = "auto"  # auto | cpu | cuda
    chunk_seconds: float = 60.0
    overlap_seconds: float = 1.0
    replace: bool = False
    backup_dir: Path | None = None  # where replaced outputs go (default: beside the output folder)
    excerpt_start: float | None = None  # seconds; set: preview mode (one file, a short excerpt)
    excerpt_seconds: float = 10.0
    allow_download: bool = True  # fetch missing models (never when HF_HUB_OFFLINE is set)

    def steps(self) -> list[tuple[str, str]]:
        """(step, model name) for each chosen step, in chain order."""
        return [(s, n) for s, n in (("separate", self.separate), ("dereverb", self.dereverb),
                                    ("denoise", self.denoise)) if n]

    def chunking(self):
        from ..clean.chain import Chunking

        return Chunking(self.chunk_seconds, self.overlap_seconds)

    def problems(self) -> list[str]:
        out = []
        if not self.steps():
            out.append("no step chosen (separation, de-reverb and denoise are all off)")
        if self.device not in ("auto", "cpu", "cuda"):
            out.append(f"device ({self.device!r}) must be auto, cpu or cuda")
        if self.chunk_seconds <= 2 * self.overlap_seconds or self.overlap_seconds < 0:
            out.append(f"chunk ({self.chunk_seconds:g} s) must be longer than twice the overlap "
                       f"({self.overlap_seconds:g} s)")
        if self.excerpt_start is not None and (self.excerpt_start < 0 or self.excerpt_seconds <= 0):
            out.append("the excerpt needs a start ≥ 0 and a length > 0")
        return out


def summary_path(out_dir: Path) -> Path:
    from ..clean.loudness import report_path

    return report_path(out_dir)


def output_name(src: Path) -> str:
    return f"{src.stem}.wav"


# --- CLI ----------------------------------------------------------------------------------------

def add_arguments(parser: argparse.ArgumentParser) -> None:
    d = Params(inputs=[], out_dir=Path())
    parser.add_argument("inputs", nargs="*", type=Path, metavar="INPUT",
                        help="recordings or folders of them (default with --project: its raw/ folder)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--project", help="clean into this project's clean/ folder (the slicer then reads it)")
    where.add_argument("--out", type=Path, help="write the cleaned files to this folder")
    parser.add_argument("--separate", default=d.separate, metavar="MODEL",
                        help="vocals/music separation model (default %(default)s)")
    parser.add_argument("--no-separate", action="store_true", help="skip the separation step")
    parser.add_argument("--dereverb", nargs="?", const=DEFAULTS["dereverb"], default=None, metavar="MODEL",
                        help=f"remove reverb/echo (no MODEL: {DEFAULTS['dereverb']})")
    parser.add_argument("--denoise", nargs="?", const=DEFAULTS["denoise"], default=None, metavar="MODEL",
                        help=f"remove noise (no MODEL: {DEFAULTS['denoise']})")
    parser.add_argument("--models-dir", type=Path, default=None,
                        help="folder of the cleaning models (default: $GSV_CLEAN_MODELS_DIR or <home>/models/clean)")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default=d.device)
    parser.add_argument("--chunk-seconds", type=float, default=d.chunk_seconds,
                        help="seconds the networks see at once; memory grows with it (default %(default)s)")
    parser.add_argument("--overlap-seconds", type=float, default=d.overlap_seconds,
                        help="cross-fade at chunk seams (default %(default)s)")
    parser.add_argument("--replace", action="store_true",
                        help="clean again files already cleaned (the earlier outputs are backed up)")
    parser.add_argument("--excerpt", type=float, default=None, metavar="START",
                        help="preview: clean only --excerpt-seconds of one file from START seconds")
    parser.add_argument("--excerpt-seconds", type=float, default=d.excerpt_seconds)
    parser.add_argument("--list-models", action="store_true", help="list the models of each step and exit")


def params_from_args(args: argparse.Namespace, workspace: Any) -> Params:
    if args.list_models:
        _print_models(_models_dir_of(args.models_dir, workspace))
        raise SystemExit(0)
    backup = None
    inputs = [Path(p).expanduser().absolute() for p in args.inputs]
    if args.project:
        project = workspace.open_project(args.project)
        name = project.name
        preview = args.excerpt is not None
        out_dir = project.root / (PREVIEW_DIR_NAME if preview else CLEAN_DIR_NAME)
        backup = project.trash_dir / "replaced-clean"
        if not inputs:
            inputs = [project.raw_dir]
    elif args.out:
        out_dir, name = args.out.expanduser().absolute(), None
    else:
        raise CleanError("say where the cleaned files go", "add --project NAME or --out DIR")
    params = Params(inputs=inputs, out_dir=Path(out_dir).absolute(), project=name,
                    separate=None if args.no_separate else args.separate, dereverb=args.dereverb,
                    denoise=args.denoise,
                    models_dir=_models_dir_of(args.models_dir, workspace),
                    device=args.device, chunk_seconds=args.chunk_seconds, overlap_seconds=args.overlap_seconds,
                    replace=args.replace, backup_dir=backup, excerpt_start=args.excerpt,
                    excerpt_seconds=args.excerpt_seconds)
    check(params)
    return params


def _models_dir_of(override: Path | None, workspace: Any) -> Path:
    """Fixed when the job is queued: the job runs without this command's ``--home``."""
    from ..clean.fetch import models_dir

    return models_dir(override, getattr(workspace, "root", None)).absolute()


def _print_models(models_dir: Path | None) -> None:
    from ..clean.fetch import models_dir as resolve
    from ..clean.project import choices

    for step, rows in choices(models_dir).items():  # each step's default first
        print(f"{step}:")
        for row in rows:
            mark = "*" if row["name"] == DEFAULTS[step] else " "
            print(f"  {mark} {row['name']:<22} {'here' if row['here'] else '    '}  {row['arch']:<8} {row['about']}")
    print(f"(* default; models folder: {resolve(models_dir)})")


def check(params: Params) -> None:
    """Raise :class:`CleanError` for invalid parameters, unknown models or inputs that do not exist."""
    problems = params.problems()
    if problems:
        raise CleanError("invalid clean parameters: " + "; ".join(problems), "change the values named")
    if not params.inputs:
        raise CleanError("no inputs given", "name at least one recording or folder")
    missing = [str(p) for p in params.inputs if not Path(p).exists()]
    if missing:
        raise CleanError(f"input not found: {', '.join(missing)}", "check the path (quote it if it has spaces)")
    resolve_models(params)  # unknown names fail here, before a job is queued
    out = Path(params.out_dir).resolve()
    for p in params.inputs:
        p = Path(p).resolve()
        if p == out or (p.is_file() and p.parent == out):
            raise CleanError(f"{p} is in the output folder itself", "clean recordings from another folder")
    if params.excerpt_start is not None and len(list_inputs(params.inputs)[0]) != 1:
        raise CleanError("a preview excerpt is taken from one file", "name exactly one recording with --excerpt")


def resolve_models(params: Params) -> list:
    from ..clean.catalogue import lookup
    from ..clean.fetch import local_models, models_dir

    own = local_models(models_dir(params.models_dir))
    return [lookup(name, step, own) for step, name in params.steps()]


def project_of(params: Params) -> str | None:
    return params.project


def expected_outputs(params: Params) -> list[Path]:
    if params.excerpt_start is not None:
        src = list_inputs(params.inputs)[0][0]
        return [Path(params.out_dir) / f"{src.stem}.cleaned.wav"]
    return [summary_path(params.out_dir)]


# --- the work -----------------------------------------------------------------------------------

def list_inputs(inputs: list[Path]) -> tuple[list[Path], list[tuple[str, str]]]:
    """The recordings to clean: two that would be written under the same name clash."""
    from ..audio.slicing import expand_inputs

    return expand_inputs(inputs, output_name,
                         lambda f, k, first: f"would be written as {k}, like {first.name}; rename one of them")


class _Chain:
    """The chosen steps' models, loaded on first use (a batch with nothing left to do loads none)."""

    def __init__(self, params: Params, work_dir: Path, report: Reporter) -> None:
        self.params, self.work_dir, self.report = params, work_dir, report
        self._steps: list | None = None

    @property
    def loaded(self) -> bool:
        return self._steps is not None

    def steps(self) -> list:
        if self._steps is None:
            from ..clean.fetch import fetch, models_dir, require
            from ..clean.runner import StepRunner, require_runner
            from ..infer.device import resolve_device
            from ..pretrained import offline, progress_to

            models = resolve_models(self.params)
            directory = models_dir(self.params.models_dir)
            if self.params.allow_download and not offline():
                fetch(models, directory, progress_to(self.report))
            require(models, directory)
            require_runner()
            device = resolve_device(self.params.device)
            self.report.info(f"chain: {' → '.join(f'{m.step} ({m.name})' for m in models)} on {device}")
            self._steps = [StepRunner(m, directory, self.work_dir / m.step, device) for m in models]
        return self._steps


def run(params: Params, report: Reporter) -> None:
    check(params)

    out_dir = Path(params.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    work_dir = out_dir.with_name(f".{out_dir.name}.work")
    shutil.rmtree(work_dir, ignore_errors=True)
    for pattern in (".*.partial", ".*.new"):  # left by a run that was killed mid-file
        for stale in out_dir.glob(pattern):
            stale.unlink(missing_ok=True)
    files, skipped = list_inputs(params.inputs)
    if not files:
        raise CleanError("no files to clean in " + ", ".join(str(p) for p in params.inputs),
                         "point at recordings or at a folder that holds them")
    chain = _Chain(params, work_dir, report)
    try:
        if params.excerpt_start is not None:
            _preview(params, files[0], chain, work_dir, report)
            return
        rows = _clean_batch(params, files, chain, work_dir, report)
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
    for path, why in skipped:
        rows.append({"input": path, "status": "skipped", "error": why})
    failed = [r for r in rows if r["status"] == "failed"]
    summary = {"created": datetime.now(UTC).isoformat(timespec="seconds"),
               "chain": [{"step": s, "model": n} for s, n in params.steps()], "out_dir": str(out_dir),
               "cleaned": sum(r["status"] == "cleaned" for r in rows),
               "kept": sum(r["status"] == "kept" for r in rows), "failed": len(failed), "files": rows}
    atomic_write_text(summary_path(out_dir), json.dumps(summary, ensure_ascii=False, indent=1))
    report.artifact(summary_path(out_dir), role="summary")
    report.summary({k: summary[k] for k in ("cleaned", "kept", "failed", "out_dir")})
    if failed and len(failed) == len(rows):
        raise CleanError(f"no file could be cleaned ({len(failed)} failed): {failed[0]['error']}",
                         f"see {summary_path(out_dir)} for each file's reason")


def _clean_batch(params: Params, files: list[Path], chain: _Chain, work_dir: Path,
                 report: Reporter) -> list[dict[str, Any]]:
    from ..clean.chain import clean_file

    out_dir = Path(params.out_dir)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    backup = (Path(params.backup_dir) if params.backup_dir else out_dir.with_name(f"{out_dir.name}.replaced")) / stamp
    rows: list[dict[str, Any]] = []
    from ..clean.loudness import read_report

    earlier = read_report(out_dir) or {}  # a kept file keeps what the run that cleaned it measured
    for i, src in enumerate(files, 1):
        dst = out_dir / output_name(src)
        row: dict[str, Any] = {"input": str(src), "output": str(dst)}
        if dst.exists() and not params.replace:
            report.info(f"[{i}/{len(files)}] {src.name}: already cleaned, kept (--replace cleans it again)")
            was = earlier.get(dst.name, {})
            rows.append({**row, "status": "kept",
                         **{k: was[k] for k in ("seconds", "chunks", "rms_db_before", "rms_db_after") if k in was}})
            continue
        report.info(f"[{i}/{len(files)}] {src.name}")
        t0 = time.monotonic()
        try:
            steps = chain.steps()

            def on_chunk(done: int, total: int, name: str = src.name) -> None:
                report.progress(done, total, unit="chunks", label=name)

            fresh = dst.with_name(f".{dst.name}.new")  # the earlier output stays until this one is whole
            got = clean_file(src, fresh, steps, work_dir, chunking=params.chunking(), on_chunk=on_chunk)
            if dst.exists():
                backup.mkdir(parents=True, exist_ok=True)
                shutil.move(str(dst), str(backup / dst.name))
                row["replaced_to"] = str(backup / dst.name)
            fresh.replace(dst)
        except GsvError as e:
            if not chain.loaded:  # the chain itself cannot start (no runner, no model): stop the batch
                raise
            report.warning(f"{src.name}: {e.message}")
            rows.append({**row, "status": "failed", "error": e.message})
            continue
        except Exception as e:
            if not chain.loaded:
                raise
            traceback.print_exc(file=sys.stderr)
            report.warning(f"{src.name}: failed: {type(e).__name__}: {e}")
            rows.append({**row, "status": "failed", "error": f"{type(e).__name__}: {e}"})
            continue
        report.artifact(dst, role="cleaned")
        rows.append({**row, "status": "cleaned", "seconds": round(got.seconds, 3), "chunks": got.chunks,
                     "rms_db_before": round(got.rms_db_before, 2), "rms_db_after": round(got.rms_db_after, 2),
                     "elapsed": round(time.monotonic() - t0, 2)})
    return rows


def _preview(params: Params, src: Path, chain: _Chain, work_dir: Path, report: Reporter) -> None:
    """The excerpt as it is and as cleaned, side by side, for listening before a batch."""
    from ..clean.chain import clean_file

    out_dir = Path(params.out_dir)
    start, length = params.excerpt_start or 0.0, params.excerpt_seconds
    chunking = params.chunking()
    if length <= chunking.chunk_seconds:  # one chunk: no seams in a preview
        from ..clean.chain import Chunking

        chunking = Chunking(max(length + 2 * chunking.overlap_seconds + 1, chunking.chunk_seconds),
                            chunking.overlap_seconds)
    original = out_dir / f"{src.stem}.original.wav"
    cleaned = out_dir / f"{src.stem}.cleaned.wav"
    clean_file(src, original, [], work_dir, chunking=chunking, start_s=start, max_s=length)
    got = clean_file(src, cleaned, chain.steps(), work_dir, chunking=chunking, start_s=start, max_s=length,
                     on_chunk=lambda d, t: report.progress(d, t, unit="chunks", label=src.name))
    report.artifact(original, role="original")
    report.artifact(cleaned, role="cleaned")
    report.summary({"original": str(original), "cleaned": str(cleaned), "seconds": round(got.seconds, 3),
                    "rms_db_before": round(got.rms_db_before, 2), "rms_db_after": round(got.rms_db_after, 2)})
