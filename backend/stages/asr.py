"""Stage ``asr``: a folder of clips in, the official ``.list`` transcript out.

``gsv asr [INPUT_DIR] (--project NAME | --out DIR) [--engine faster-whisper|funasr] [--model …]
[--language auto|zh|en|ja|ko|yue] [--precision …] [--device cpu|cuda]``

With ``--project`` the input defaults to the project's clips and the transcript goes to
``transcripts/clips.list``; the engine defaults to the user's choice for the project's language
(config.toml ``asr_engine``; FunASR for Chinese, Faster-Whisper otherwise, as the guide advises).
Clips that fail are listed with their reason in the summary and the sidecar; the rest go on.
An existing ``.list`` is never overwritten in place without a backup (see :mod:`backend.asr.output`).
"""

from __future__ import annotations

import argparse
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..asr.base import ASR_LANGUAGES, ENGINES, AsrError, AsrOptions
from ..asr.output import ON_EXISTING
from ..progress import Reporter
from .base import StageSpec

STAGE = StageSpec(name="asr", help="transcribe clips into the official .list (Faster-Whisper or FunASR)", uses_gpu=True)


@dataclass
class Params:
    input_dir: Path
    out_dir: Path
    engine: str = "faster-whisper"
    model: str | None = None
    language: str = "auto"
    precision: str | None = None
    device: str = "auto"
    vad: bool = True
    batch_size: int = 8
    on_existing: str = "merge"
    project: str | None = None

    def options(self) -> AsrOptions:
        return AsrOptions(engine=self.engine, model=self.model, language=self.language, precision=self.precision,
                          device=self.device, vad=self.vad, batch_size=self.batch_size)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input_dir", nargs="?", type=Path, help="folder of clips (default with --project: its clips)")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--project", help="project whose clips to transcribe into transcripts/clips.list")
    where.add_argument("--out", type=Path, help="folder for <input folder name>.list")
    parser.add_argument("--engine", choices=ENGINES, default=None,
                        help="default: config.toml asr_engine for the language (FunASR for zh/yue, else Faster-Whisper)")
    parser.add_argument("--model", default=None,
                        help="faster-whisper: medium, medium.en, large-v2, large-v3 (default), large-v3-turbo; "
                             "funasr: paraformer-zh (default; zh), uniasr-yue (default for yue), sensevoice, "
                             "fun-asr-nano (zh/en/ja/ko/yue); or a local model folder")
    parser.add_argument("--language", choices=ASR_LANGUAGES, default=None,
                        help="default: the project's language, else auto (the detected language is written)")
    parser.add_argument("--precision", choices=("float16", "float32", "int8"), default=None,
                        help="faster-whisper compute type (default: float16 on GPU, int8 on CPU)")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    parser.add_argument("--no-vad", dest="vad", action="store_false", help="turn the voice-activity filter off")
    parser.add_argument("--batch-size", type=int, default=8, help="clips recognised together (1 = one at a time)")
    parser.add_argument("--on-existing", choices=ON_EXISTING, default="merge",
                        help="when the .list exists: merge (keep its lines, add new clips; default), "
                             "new (write a new file beside it), overwrite (keep a .bak)")


def params_from_args(args: argparse.Namespace, workspace: Any) -> Params:
    from ..config import load_config

    project = workspace.open_project(args.project) if args.project else None
    input_dir = args.input_dir or (project.clips_dir if project else None)
    if input_dir is None:
        raise AsrError("no input folder given", "name the folder of clips, or use --project NAME")
    input_dir = Path(input_dir).expanduser().absolute()
    if not input_dir.is_dir():
        raise AsrError(f"{input_dir} is not a folder", "give the folder of sliced clips")
    out_dir = project.transcripts_dir if project else Path(args.out).expanduser().absolute()
    language = args.language or (project.language if project else "auto")
    engine = args.engine or load_config().asr_engine_for(language)
    if args.batch_size < 1:
        raise AsrError(f"--batch-size must be at least 1, got {args.batch_size}", "use e.g. --batch-size 8")
    return Params(input_dir=input_dir, out_dir=out_dir, engine=engine, model=args.model, language=language,
                  precision=args.precision, device=args.device, vad=args.vad, batch_size=args.batch_size,
                  on_existing=args.on_existing, project=project.name if project else None)


def project_of(params: Params) -> str | None:
    return params.project


def expected_outputs(params: Params) -> list[Path]:
    from ..asr.output import list_path_for

    # "new" writes a time-stamped name; the sidecar always sits next to the list it describes
    return [] if params.on_existing == "new" else [list_path_for(params.input_dir, params.out_dir)]


def run(params: Params, report: Reporter) -> None:
    from ..asr import make_engine
    from ..asr.output import (
        check_folder,
        find_clips,
        line_for,
        plan,
        safe_clip_names,
        untrainable_reason,
        write_list,
        write_sidecar,
    )

    check_folder(params.input_dir)
    clips, skipped = find_clips(params.input_dir)
    clips, renamed = safe_clip_names(clips)
    for old, new in renamed:
        report.warning(f"renamed {old.name!r} to {new.name!r}: a .list line cannot hold '|' or line breaks")
    target = plan(params.input_dir, params.out_dir, params.on_existing)
    todo = [c for c in clips if c.name not in target.already_listed]
    if target.already_listed:
        report.info(f"{target.list_path.name} exists: keeping its {len(target.already_listed)} lines, "
                    f"transcribing {len(todo)} new clips")
    if not clips:
        report.warning(f"no audio files in {params.input_dir}")
    report.progress(0, len(todo), "clips", label="loading model")

    def on_download(done: int, total: int | None, label: str) -> None:
        report.progress(done, total, "bytes", label=label)

    engine = make_engine(params.options(), on_download) if todo else None
    speaker = params.input_dir.name
    lines, results, failed = [], [], [(p, why) for p, why in skipped]
    started = time.monotonic()
    for i, result in enumerate(engine.transcribe(todo) if engine else ()):
        why = untrainable_reason(result)
        if why:
            failed.append((result.path, why))
            report.warning(f"{result.path.name}: {why}")
        else:
            lines.append(line_for(result, speaker))
            results.append(result)
        report.progress(i + 1, len(todo), "clips", label=result.path.name)
    params.out_dir.mkdir(parents=True, exist_ok=True)
    write_list(target, lines)
    report.artifact(target.list_path, role="transcript")
    sidecar = write_sidecar(target.list_path, results, failed, {
        "engine": params.engine, "model": params.model, "language": params.language,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")})
    report.artifact(sidecar, role="asr-sidecar")
    elapsed = time.monotonic() - started
    report.summary({"list": str(target.list_path), "transcribed": len(lines), "kept": len(target.already_listed),
                    "failed": [{"path": str(p), "reason": why} for p, why in failed],
                    "seconds": round(elapsed, 2), "options": asdict(params.options())})
    if todo and not lines:
        raise AsrError(f"no clip of {params.input_dir} could be transcribed", "see the reasons listed above")
