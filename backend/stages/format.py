"""Stage ``format``: a reviewed transcript becomes the official experiment folder (WebUI step 1A).

``gsv format --project NAME [--version v1|v2|v2Pro|v2ProPlus] [--only text|ssl|semantic] [--gpus 0,1]
[--allow-pypinyin]``

Runs text+BERT, then HuBERT+32 kHz wavs (+ speaker embeddings for v2Pro/v2ProPlus), then semantic
tokens, into ``<project>/exp`` (the official ``logs/<exp>`` layout, see :mod:`backend.format.layout`).
On GPUs the clips are split across the leased GPUs (``--procs-per-gpu`` processes each, fp16 as
the official scripts use it); on the CPU one process unless ``--cpu-workers`` says more. Re-running
is cheap: finished clips are kept, changed clips are redone, a killed run resumes (see
:mod:`backend.format.journal`). Every skipped clip is reported with its reason in the summary.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import GsvError
from ..jobs.events import Reporter
from ..workspace import VERSIONS
from .base import StageSpec, add_param_option, param, param_info, range_problems

STAGE = StageSpec(name="format", help="make the training folder from the transcript: phones+BERT, HuBERT+wav32k, "
                                      "semantic tokens (official 1A)", uses_gpu=True)

ONLY = ("text", "ssl", "semantic")


class FormatParamsError(GsvError):
    """The format stage cannot run as asked."""


@dataclass
class Params:
    list_path: Path
    exp_dir: Path
    version: str = param("v2", choices=VERSIONS, help="model version")
    only: str | None = param(None, choices=ONLY, none="all three in order", help="run one step")
    project: str | None = None
    wav_dir: Path | None = param(None, none="the paths in the .list",
                                 help="audio folder: clip = <folder>/<base name of the .list path> (the official rule)")
    extra_dirs: list[Path] = field(default_factory=list)
    gpus: list[str] = field(default_factory=list)  # the job's GPUs (CUDA_VISIBLE_DEVICES inside the job)
    procs_per_gpu: int = param(1, low=1, help="worker processes per GPU")
    cpu_workers: int = param(1, low=1, help="worker processes without a GPU")
    half: bool = param(True, help="float32 on GPU too (fp16 by default, like the official is_half)")
    bert_dir: Path | None = param(None, none="the pretrained one", help="Chinese BERT folder (override)")
    hubert_dir: Path | None = param(None, none="the pretrained one", help="HuBERT folder (override)")
    s2g_path: Path | None = param(None, flag="--s2g", none="the pretrained one", help="base SoVITS G .pth (override)")
    sv_path: Path | None = param(None, flag="--sv-model", none="the pretrained one",
                                 help="speaker model .ckpt (override)")
    pretrained_dir: Path | None = param(None, none="HF cache",
                                        help="folder with the official pretrained_models layout")
    allow_pypinyin: bool = param(False, help="without the G2PW model (offline), read v2+ Chinese polyphones with "
                                             "pypinyin instead of refusing (differs from the official WebUI; "
                                             "recorded in the exp folder)")

    def problems(self) -> list[str]:
        """Every value formatting cannot use, one sentence each."""
        return range_problems(self)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--project", help="format this project's transcript into its exp folder")
    where.add_argument("--list", type=Path, dest="list_path", help="a .list file (then --exp is required)")
    parser.add_argument("--exp", type=Path, default=None, help="experiment folder to write (with --list)")
    parser.add_argument("--version", choices=VERSIONS, default=None, help="model version (default: the project's)")
    for name in ("only", "wav_dir", "procs_per_gpu", "cpu_workers"):
        add_param_option(parser, Params, name)
    parser.add_argument("--fp32", dest="half", action="store_false", help=param_info(Params, "half").help)
    for name in ("pretrained_dir", "bert_dir", "hubert_dir", "s2g_path", "sv_path", "allow_pypinyin"):
        add_param_option(parser, Params, name)


def _abs(p: Path | None) -> Path | None:
    return None if p is None else Path(p).expanduser().absolute()


def params_from_args(args: argparse.Namespace, workspace: Any) -> Params:
    project = workspace.open_project(args.project) if args.project else None
    if project is not None:
        list_path, exp_dir, extra = project.transcript_path, project.exp_dir, [project.clips_dir]
    else:
        if args.exp is None:
            raise FormatParamsError("--list needs --exp", "name the experiment folder to write, e.g. --exp logs/myvoice")
        list_path, exp_dir, extra = _abs(args.list_path), _abs(args.exp), []
    version = args.version or (project.version if project else "v2")
    params = Params(list_path=list_path, exp_dir=exp_dir, version=version, only=args.only,
                    project=project.name if project else None, wav_dir=_abs(args.wav_dir), extra_dirs=extra,
                    gpus=list(getattr(args, "job_gpus", None) or []), procs_per_gpu=args.procs_per_gpu,
                    cpu_workers=args.cpu_workers, half=args.half, bert_dir=_abs(args.bert_dir),
                    hubert_dir=_abs(args.hubert_dir), s2g_path=_abs(args.s2g_path), sv_path=_abs(args.sv_path),
                    pretrained_dir=_abs(args.pretrained_dir), allow_pypinyin=args.allow_pypinyin)
    check(params)
    return params


def check(params: Params) -> None:
    problems = params.problems()
    if problems:
        raise FormatParamsError("invalid format parameters: " + "; ".join(problems), "change the values named")
    if not Path(params.list_path).is_file():
        raise FormatParamsError(f"transcript not found: {params.list_path}",
                                "run `gsv asr` first (and review it), or give the .list with --list")


def project_of(params: Params) -> str | None:
    return params.project


def expected_outputs(params: Params) -> list[Path]:
    from ..format import layout

    exp = Path(params.exp_dir)
    wanted = {"text": [exp / layout.NAME2TEXT], "ssl": [exp / layout.HUBERT_DIR, exp / layout.WAV32K_DIR],
              "semantic": [exp / layout.NAME2SEMANTIC]}
    if params.only:
        return wanted[params.only]
    return [p for ps in wanted.values() for p in ps]


def devices(params: Params, report: Reporter | None = None) -> list[str]:
    """Worker devices: each job GPU ``procs_per_gpu`` times when CUDA works, else CPU workers.

    Inside a job ``CUDA_VISIBLE_DEVICES`` holds exactly the leased GPUs, so they are ``cuda:0…n-1``.
    """
    if params.gpus:
        import torch

        if torch.cuda.is_available():
            n = min(len(params.gpus), torch.cuda.device_count())
            return [f"cuda:{i}" for i in range(n) for _ in range(params.procs_per_gpu)]
        if report is not None:
            report.warning(f"GPU {','.join(params.gpus)} asked for, but CUDA is not available here: "
                           "formatting on the CPU")
    return ["cpu"] * params.cpu_workers


def _models(params: Params, steps: list[str]) -> dict[str, Path | None]:
    """Model paths for the steps: the overrides, else the version's pretrained files."""
    from .. import pretrained

    need = {"text": ("bert", params.bert_dir), "ssl": ("hubert", params.hubert_dir),
            "sv": ("sv", params.sv_path), "semantic": ("s2G", params.s2g_path)}
    found: dict[str, Path | None] = {"bert": params.bert_dir, "hubert": params.hubert_dir,
                                     "sv": params.sv_path, "s2G": params.s2g_path}
    missing_roles = [need[s][0] for s in steps if need[s][1] is None]
    if missing_roles:
        found.update(pretrained.require(params.version, missing_roles, params.pretrained_dir))
    return found


def run(params: Params, report: Reporter) -> None:
    from ..format.runner import FormatOptions, run_format, steps_for

    check(params)
    steps = steps_for(params.version, params.only)
    models = _models(params, steps)
    devs = devices(params, report)
    threads = max(1, (os.cpu_count() or 1) // len(devs)) if devs[0] == "cpu" else None
    report.info(f"formatting for {params.version} on {', '.join(devs)}: steps {', '.join(steps)}")
    opts = FormatOptions(list_path=params.list_path, exp_dir=params.exp_dir, version=params.version,
                         only=params.only, wav_dir=params.wav_dir, extra_dirs=list(params.extra_dirs),
                         bert_dir=models["bert"], hubert_dir=models["hubert"], s2g_path=models["s2G"],
                         sv_path=models["sv"], devices=devs, half=params.half, threads=threads,
                         allow_pypinyin=params.allow_pypinyin)
    summary = run_format(opts, report)
    if summary.kept == 0 and params.only in (None, "semantic"):
        raise FormatParamsError(f"no clip survived formatting ({len(summary.skipped)} skipped)",
                                "see the skipped clips and their reasons above")
