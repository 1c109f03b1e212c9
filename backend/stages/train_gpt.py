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
from ..jobs.events import Reporter
from ._training_args import absolute, add_shared, check_shared, default_batch_size
from .base import StageSpec

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
    batch_size: int | None = None  # None: GPU memory GB // 2 (official), RAM GB // 4 on CPU
    epochs: int = 15
    save_every: int = 5
    save_latest_only: bool = True
    dpo: bool = False
    restart: bool = False
    fp16: bool = True
    text_padding: str = "official"
    s1_path: Path | None = None
    pretrained_dir: Path | None = None
    gpus: list[str] = field(default_factory=list)
    cpu_procs: int = 1
    num_workers: int | None = None
    seed: int = 1234
    repeat_to: int = 100
    metric_interval: float = 1.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_shared(parser, epochs=15, epochs_help="total epochs (default 15; the guide suggests 10)", save_every=5,
               batch_help="clips per batch per GPU (default: GPU memory in GB / 2, halved without fp16)",
               cpu_procs_help="without GPUs: train with N CPU processes (gloo); default 1",
               workers_help="data-loading processes (default 0: the data is small and in memory)")
    parser.add_argument("--dpo", action="store_true", help="experimental DPO training (" + DPO_WARNING + ")")
    parser.add_argument("--text-padding", choices=("official", "right"), default="official",
                        help="text padding mask: the official one (default; a left-pad mask on right-padded "
                             "phones) or the real pad positions (see docs/training.md)")
    parser.add_argument("--s1", type=Path, dest="s1_path", default=None, help="base GPT .ckpt (override)")


def params_from_args(args: argparse.Namespace, workspace: Any) -> Params:
    project = workspace.open_project(args.project)
    version = args.version or project.version
    check_shared(args, batch_example=4)
    if args.s1_path is not None and not Path(args.s1_path).is_file():
        raise GsvError(f"--s1 {args.s1_path}: no such file", "give the path of a GPT .ckpt")
    return Params(exp_dir=project.exp_dir, weights_dir=project.gpt_weights_dir(version), exp_name=project.name,
                  version=version, project=project.name, batch_size=args.batch_size, epochs=args.epochs,
                  save_every=args.save_every, save_latest_only=args.save_latest_only, dpo=args.dpo,
                  restart=args.restart, fp16=args.fp16, text_padding=args.text_padding, s1_path=absolute(args.s1_path),
                  pretrained_dir=absolute(args.pretrained_dir), gpus=list(args.job_gpus or []),
                  cpu_procs=args.cpu_procs, num_workers=args.num_workers, seed=args.seed, repeat_to=args.repeat_to,
                  metric_interval=args.metric_interval)


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

    cuda = bool(params.gpus) and torch.cuda.is_available()
    nprocs = max(1, torch.cuda.device_count()) if cuda else params.cpu_procs
    if params.dpo:
        report.warning(DPO_WARNING)
    if not cuda:
        report.warning("training on the CPU: expect it to be very slow (a GPU is strongly recommended)")
    settings = GPTTrainSettings(
        exp_dir=str(params.exp_dir), weights_dir=str(params.weights_dir), exp_name=params.exp_name,
        pretrained_s1=str(_pretrained(params)), version=params.version,
        batch_size=params.batch_size or default_batch_size(cuda, params.fp16), epochs=params.epochs,
        save_every=params.save_every, save_latest_only=params.save_latest_only, dpo=params.dpo, fp16=params.fp16,
        seed=params.seed, num_workers=params.num_workers or 0, repeat_to=params.repeat_to,
        text_padding=params.text_padding, metric_interval_s=params.metric_interval,
        gpu_numbers="-".join(params.gpus) or "0")
    hint = f"gsv train-gpt --project {params.project}" if params.project else "gsv train-gpt"
    settings, plan = prepare(settings, restart=params.restart, command_hint=hint)
    for note in plan.restart_notes():
        report.info(note)
    if plan.resuming:
        report.info(f"continuing the run in {settings.ckpt_dir} after epoch {plan.checkpoint.epoch} "
                    f"(optimiser step {plan.start_step}); --restart starts over")
    Path(params.weights_dir).mkdir(parents=True, exist_ok=True)
    run_training("backend.train.gpt:train_worker", settings.to_json(), report, nprocs=nprocs, force_cpu=not cuda)
    if not final_export_path(params).is_file():
        raise GsvError(f"training ended without writing {final_export_path(params)}",
                       "see the job log; run the same command again to resume")
