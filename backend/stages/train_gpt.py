"""Stage ``train-gpt``: fine-tune the GPT (stage 1) on a project's formatted dataset (official 1Bb).

``gsv train-gpt --project NAME [--batch-size N] [--epochs 15] [--save-every 5]
[--[no-]save-latest-only] [--dpo] [--version v2] [--restart] [--text-padding official|right]``

Starts from the version's pretrained ``s1*.ckpt`` (``gsv models fetch VERSION``) and the project's
``exp`` folder (``gsv format``: ``2-name2text.txt``, ``3-bert/``, ``6-name2semantic.tsv``). Every
``--save-every`` epochs and always at the last epoch it exports ``<project>-e<E>.ckpt`` into the
project's GPT weights folder (official format: the WebUI loads it) and writes a resumable
checkpoint into ``exp/logs_s1_<version>/``. Running the same command again after a crash,
``kill -9`` or a reboot continues from the last checkpoint (optimiser state, LR schedule, RNG and
the leftover accumulated gradients included); when that run had finished, it says so and asks
for more ``--epochs`` (or ``--restart``: old checkpoints and exports move to ``old-<time>/``). ``--dpo`` adds the experimental DPO loss (needs a very
clean, labelled dataset and at least 12 GB of GPU memory; the batch is halved). The job succeeds
only when the final export exists.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import GsvError
from ..progress import Reporter
from ..train.defaults import GPT
from ._training_args import (
    absolute,
    add_shared,
    batch_size_param,
    check,
    default_batch_size,
    save_every_param,
    save_latest_only_param,
    settings_values,
    shared_values,
)
from .base import StageSpec, add_param_option, param, param_info, range_problems

STAGE = StageSpec(name="train-gpt", help="fine-tune the GPT on the project's formatted dataset (official 1Bb)",
                  uses_gpu=True)

DPO_WARNING = ("DPO training is experimental: it needs a very clean, carefully labelled dataset and at least "
               "12 GB of GPU memory (the batch size is halved)")


@dataclass
class Params:
    exp_dir: Path
    weights_dir: Path
    exp_name: str
    version: str = "v2"
    project: str | None = None
    batch_size: int | None = batch_size_param()
    epochs: int = param(GPT.epochs, low=1, help="total epochs; the guide suggests 10")
    save_every: int = save_every_param(GPT.save_every)
    save_latest_only: bool = save_latest_only_param(GPT.save_latest_only)
    restart: bool = False
    fp16: bool = param(GPT.fp16, help="no fp16 mixed precision on the GPU (float32 throughout)")
    dpo: bool = param(False, help="experimental DPO training (" + DPO_WARNING + ")", label="DPO")
    text_padding: str = param(GPT.text_padding, choices=("official", "right"),
                              help="text padding mask: the official one (a left-pad mask on right-padded phones) "
                                   "or the real pad positions (see docs/training.md)")
    s1_path: Path | None = param(None, flag="--s1", help="base GPT .ckpt (override)", none="pretrained")
    pretrained_dir: Path | None = param(None, none="HF cache",
                                        help="folder with the official pretrained_models layout")
    gpus: list[str] = field(default_factory=list)
    cpu_procs: int = param(1, low=1, help="without GPUs: train with N CPU processes (DDP over gloo)")
    num_workers: int | None = param(None, low=0, flag="--workers", none="0: the data is small and in memory",
                                    help="data-loading processes")
    seed: int = param(GPT.seed, hidden=True)
    repeat_to: int = param(GPT.repeat_to, low=0, hidden=True)
    metric_interval: float = param(GPT.metric_interval_s, low=0, hidden=True)

    def problems(self) -> list[str]:
        """Every value the trainer cannot use, one sentence each (the CLI, the TUI and the job refuse them)."""
        return range_problems(self)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_shared(parser, Params)
    parser.add_argument("--dpo", action="store_true", help=param_info(Params, "dpo").help)
    for name in ("text_padding", "s1_path"):
        add_param_option(parser, Params, name)


def params_from_args(args: argparse.Namespace, workspace: Any) -> Params:
    project = workspace.open_project(args.project)
    version = args.version or project.version
    if args.s1_path is not None and not Path(args.s1_path).is_file():
        raise GsvError(f"--s1 {args.s1_path}: no such file", "give the path of a GPT .ckpt")
    params = Params(exp_dir=project.exp_dir, weights_dir=project.gpt_weights_dir(version), exp_name=project.name,
                    version=version, project=project.name, restart=args.restart, gpus=list(args.job_gpus or []),
                    dpo=args.dpo, text_padding=args.text_padding, s1_path=absolute(args.s1_path),
                    **shared_values(args))
    check(params)
    return params


def project_of(params: Params) -> str | None:
    return params.project


def final_export_path(params: Params) -> Path:
    return Path(params.weights_dir) / f"{params.exp_name}-e{params.epochs}.ckpt"


def expected_outputs(params: Params) -> list[Path]:
    return [final_export_path(params)]


def _pretrained(params: Params) -> Path:
    if params.s1_path is not None:
        return params.s1_path
    from ..pretrained import require

    return require(params.version, ["s1"], params.pretrained_dir)["s1"]


def run(params: Params, report: Reporter) -> None:
    import torch

    from ..train.distributed import run_training
    from ..train.gpt import GPTTrainSettings, prepare

    check(params)
    cuda = bool(params.gpus) and torch.cuda.is_available()
    nprocs = max(1, torch.cuda.device_count()) if cuda else params.cpu_procs
    if params.dpo:
        report.warning(DPO_WARNING)
    if not cuda:
        report.warning("training on the CPU: expect it to be very slow (a GPU is strongly recommended)")
    batch = params.batch_size if params.batch_size is not None else default_batch_size(cuda, params.fp16)
    settings = GPTTrainSettings(**settings_values(
        params, GPTTrainSettings, pretrained_s1=str(_pretrained(params)), batch_size=batch,
        num_workers=params.num_workers or 0))
    hint = f"gsv train-gpt --project {params.project}" if params.project else "gsv train-gpt"
    settings, plan = prepare(settings, restart=params.restart, command_hint=hint)
    for note in plan.restart_notes():
        report.info(note)
    if plan.checkpoint is not None:  # resuming
        report.info(f"continuing the run in {settings.ckpt_dir} after epoch {plan.checkpoint.epoch} "
                    f"(optimiser step {plan.start_step}); --restart starts over")
    Path(params.weights_dir).mkdir(parents=True, exist_ok=True)
    run_training("backend.train.gpt:train_worker", settings.to_json(), report, nprocs=nprocs, force_cpu=not cuda)
    if not final_export_path(params).is_file():
        raise GsvError(f"training ended without writing {final_export_path(params)}",
                       "see the job log; run the same command again to resume")
