"""Stage ``checkup``: score every exported model of a project and recommend a GPT/SoVITS pair.

``gsv checkup --project NAME [--sentences FILE] [--limit N] [--seed S] [--ref WAV --ref-text TEXT]
[--asr-engine faster-whisper|funasr] [--asr-model M] [--sv CKPT] [--no-likeness] [--device …]``

Each SoVITS export speaks the evaluation sentences with the latest GPT export, then each other GPT
export with the best SoVITS; every take is transcribed by the project's ASR engine and scored
(CER or WER, skipped and repeated words, runaway or truncated generations, likeness to the
voice). Writes ``checkups/<time>.json``, ``checkups/<time>.md`` and the takes in
``checkups/<time>/``. See docs/checkup.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..asr.base import ENGINES
from ..checkup.options import CheckupOptions
from ..infer.device import PRECISIONS
from ..infer.params import MAX_SECONDS_PROBLEM, MAX_TOKENS, seconds_to_tokens
from ..progress import Reporter
from .base import StageSpec

STAGE = StageSpec(name="checkup", help="score every exported model (CER/WER, skips, repeats, likeness) and "
                                       "recommend a GPT/SoVITS pair", uses_gpu=True)


@dataclass
class Params(CheckupOptions):
    project: str
    project_root: Path
    language: str
    out: Path  # checkups/<time>.json
    reference: dict[str, str] = field(default_factory=dict)
    sentences_file: Path | None = None
    limit: int | None = None  # first N built-in sentences (quick checkups, tests, the benchmark)


def report_path(project: Any) -> Path:
    """A new ``checkups/<time>.json`` of the project (never an existing one)."""
    from ..checkup.report import REPORT_DIR

    stamp = time.strftime("%Y%m%d-%H%M%S")
    folder = Path(project.root) / REPORT_DIR
    out, n = folder / f"{stamp}.json", 1
    while out.exists() or out.with_suffix("").exists():
        n += 1
        out = folder / f"{stamp}-{n}.json"
    return out


def params_for(project: Any, **options: Any) -> Params:
    """Params for ``project`` with the project's defaults (its language, reference clip and ASR
    engine from config.toml); ``options`` override any field."""
    from ..checkup.project_inputs import reference_of
    from ..config import load_config

    options = {k: v for k, v in options.items() if v is not None}
    reference = options.pop("reference", None) or reference_of(project)
    engine = options.pop("asr_engine", None) or load_config().asr_engine_for(project.language)
    params = Params(project=project.name, project_root=Path(project.root), language=project.language,
                    out=options.pop("out", None) or report_path(project), reference=reference,
                    asr_engine=engine, **options)
    check(params)
    return params


def check(params: Params) -> None:
    from ..checkup.evaluate import CheckupError
    from ..checkup.normalize import LANGUAGES

    if params.language not in LANGUAGES:
        raise CheckupError(f"no scoring rule for language {params.language!r}", f"use one of {', '.join(LANGUAGES)}")
    if params.limit is not None and params.limit < 1:
        raise CheckupError(f"--limit must be at least 1, got {params.limit}", "e.g. --limit 10")
    if params.sentences_file is not None and not Path(params.sentences_file).is_file():
        raise CheckupError(f"sentence file {params.sentences_file} does not exist", "check the path")
    if not 1 <= params.max_tokens <= MAX_TOKENS:
        raise CheckupError(MAX_SECONDS_PROBLEM, "change --max-seconds")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--project", required=True, help="the project whose exports to check")
    parser.add_argument("--sentences", type=Path, default=None, metavar="FILE",
                        help="more evaluation sentences, one per line (UTF-8), added to the built-in set")
    parser.add_argument("--limit", type=int, default=None, help="use only the first N built-in sentences")
    parser.add_argument("--seed", type=int, default=1234, help="sentence i is spoken with seed+i (default %(default)s)")
    parser.add_argument("--ref", type=Path, default=None, metavar="WAV",
                        help="reference clip (default: the project's chosen reference)")
    parser.add_argument("--ref-text", default=None, help="what the reference says")
    parser.add_argument("--asr-engine", choices=ENGINES, default=None,
                        help="default: config.toml asr_engine for the project's language")
    parser.add_argument("--asr-model", default=None, help="ASR model name or local folder (default: the engine's)")
    parser.add_argument("--asr-device", choices=("auto", "cpu", "cuda"), default="auto")
    parser.add_argument("--sv", type=Path, default=None,
                        help="speaker-verification checkpoint (default: the pretrained one, fetched if missing)")
    parser.add_argument("--no-likeness", dest="likeness", action="store_false",
                        help="skip the likeness measure (no speaker-verification model needed)")
    parser.add_argument("--hubert", type=Path, help="chinese-hubert-base folder (default: the pretrained one)")
    parser.add_argument("--bert", type=Path, help="chinese-roberta-wwm-ext-large folder (default: the pretrained one)")
    parser.add_argument("--device", default="auto", help="synthesis device: auto, cpu, cuda, cuda:N")
    parser.add_argument("--precision", choices=PRECISIONS, default="auto")
    parser.add_argument("--max-seconds", type=float, default=60.0, help="longest speech per piece (default 60)")


def params_from_args(args: argparse.Namespace, workspace: Any) -> Params:
    project = workspace.open_project(args.project)
    reference = None
    if args.ref is not None:
        reference = {"audio_path": str(Path(args.ref).expanduser().absolute()), "text": args.ref_text or "",
                     "language": project.language}

    def absolute(p: Path | None) -> Path | None:
        return Path(p).expanduser().absolute() if p is not None else None

    return params_for(project, reference=reference, sentences_file=absolute(args.sentences), limit=args.limit,
                      seed=args.seed, asr_engine=args.asr_engine, asr_model=args.asr_model,
                      asr_device=args.asr_device, sv=absolute(args.sv), likeness=args.likeness,
                      hubert=absolute(args.hubert), bert=absolute(args.bert), device=args.device,
                      precision=args.precision, max_tokens=seconds_to_tokens(args.max_seconds))


def project_of(params: Params) -> str | None:
    return params.project


def expected_outputs(params: Params) -> list[Path]:
    return [Path(params.out), Path(params.out).with_suffix(".md")]


def run(params: Params, report: Reporter) -> None:
    from ..checkup.evaluate import Checkup, Evaluation
    from ..checkup.project_inputs import transcript_clips
    from ..checkup.sentences import evaluation_set
    from ..workspace import Project

    check(params)
    project = Project.load(Path(params.project_root))
    clips = transcript_clips(project)
    sentences = evaluation_set(params.language, params.sentences_file, exclude={t for _, t, _ in clips},
                               limit=params.limit)
    report.info(f"{len(sentences)} sentences, reference {Path(params.reference['audio_path']).name}")
    shared = {f.name: getattr(params, f.name) for f in dataclasses.fields(CheckupOptions)}
    ev = Evaluation(project_root=Path(params.project_root), language=params.language, sentences=sentences,
                    reference=dict(params.reference), out=Path(params.out), **shared)

    def progress(done: int, total: int, label: str) -> None:
        report.progress(done, total, unit="takes", label=label)

    result = Checkup(ev, info=report.info, progress=progress).run(project, [a for a, _, _ in clips])
    result.save(Path(params.out))
    report.artifact(params.out, role="checkup")
    report.artifact(Path(params.out).with_suffix(".md"), role="checkup-summary")
    best = result.best
    report.summary({"report": str(params.out), "pairs": len(result.pairs),
                    "recommended": {"label": best.label, "gpt": best.gpt, "sovits": best.sovits} if best else None,
                    "reason": result.reason})
    if best is not None:
        report.info(f"recommended: {best.label} — {result.reason}")
