"""Stage ``train-sovits``: fine-tune the SoVITS model of a project's formatted dataset (official 1Ba).

``gsv train-sovits --project NAME [--batch-size N] [--epochs 8] [--text-lr-weight 0.4]
[--save-every 4] [--[no-]save-latest-only] [--version v2] [--restart] [--gpus 0,1]``

Starts from the version's pretrained s2G/s2D (``gsv models fetch VERSION``) and the project's
``exp`` folder (``gsv format``). Every ``--save-every`` epochs and always at the last epoch it
exports ``<project>_e<E>_s<S>.pth`` into the project's SoVITS weights folder (official format, the
WebUI loads it) and writes a resumable checkpoint into ``exp/logs_s2_<version>/``. Running the same
command again after a crash, ``kill -9`` or a reboot continues from the last checkpoint (optimiser
state included); when that run had already finished, it says so and asks for more ``--epochs``
(or ``--restart``, which moves the old checkpoints and exports aside into ``old-<time>/``). Several GPUs (``--gpus 0,1``) train
with DDP under torchrun, one process per GPU; ``--batch-size`` is per GPU.

The job succeeds only when the final export exists. Progress events carry step, epoch, every loss
term, learning rate, samples/s, ETA and GPU memory (see :mod:`backend.train.common`).
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import GsvError
from ..progress import Reporter
from ..train.defaults import SOVITS
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
from .base import StageSpec, add_param_option, param, range_problems

STAGE = StageSpec(name="train-sovits", help="fine-tune SoVITS on the project's formatted dataset (official 1Ba)",
                  uses_gpu=True)



@dataclass
class Params:
    exp_dir: Path
    weights_dir: Path
    exp_name: str
    version: str = "v2"
    project: str | None = None
    batch_size: int | None = batch_size_param()
    epochs: int = param(SOVITS.epochs, low=1, help="total epochs")
    save_every: int = save_every_param(SOVITS.save_every)
    save_latest_only: bool = save_latest_only_param(SOVITS.save_latest_only)
    restart: bool = False
    fp16: bool = param(SOVITS.fp16, help="no fp16 mixed precision on the GPU (float32 throughout)")
    text_lr_weight: float = param(SOVITS.text_lr_weight, low=0, low_open=True, high=1,
                                  help="learning-rate factor of the text modules (official range 0.2–0.6)")
    s2g_path: Path | None = param(None, flag="--s2g", help="base generator .pth (override)", none="pretrained")
    s2d_path: Path | None = param(None, flag="--s2d", help="base discriminator .pth (override)", none="pretrained")
    pretrained_dir: Path | None = param(None, none="HF cache",
                                        help="folder with the official pretrained_models layout")
    gpus: list[str] = field(default_factory=list)
    cpu_procs: int = param(1, low=1, help="without GPUs: train with N CPU processes (DDP over gloo)")
    num_workers: int | None = param(None, low=0, flag="--workers", none="4 on GPU, 0 on CPU",
                                    help="data-loading processes")
    seed: int = param(SOVITS.seed, hidden=True)
    repeat_to: int = param(SOVITS.repeat_to, low=0, hidden=True)
    metric_interval: float = param(SOVITS.metric_interval_s, low=0, hidden=True)
    learning_rate: float = param(SOVITS.learning_rate, low=0, low_open=True, hidden=True)
    segment_size: int = param(SOVITS.segment_size, low=1, hidden=True)

    def problems(self) -> list[str]:
        """Every value the trainer cannot use, one sentence each (the CLI, the TUI and the job refuse them)."""
        return range_problems(self)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_shared(parser, Params)
    for name in ("text_lr_weight", "s2g_path", "s2d_path", "learning_rate", "segment_size"):
        add_param_option(parser, Params, name)


def params_from_args(args: argparse.Namespace, workspace: Any) -> Params:
    project = workspace.open_project(args.project)
    version = args.version or project.version
    params = Params(exp_dir=project.exp_dir, weights_dir=project.sovits_weights_dir(version), exp_name=project.name,
                    version=version, project=project.name, restart=args.restart, gpus=list(args.job_gpus or []),
                    text_lr_weight=args.text_lr_weight, s2g_path=absolute(args.s2g_path),
                    s2d_path=absolute(args.s2d_path), learning_rate=args.learning_rate,
                    segment_size=args.segment_size, **shared_values(args))
    check(params)
    return params


def project_of(params: Params) -> str | None:
    return params.project


def final_export(params: Params) -> Path | None:
    """The last epoch's export if the run in ``exp_dir`` finished at ``params.epochs``."""
    from ..train.common import CheckpointStore

    try:
        ck = CheckpointStore(Path(params.exp_dir) / f"logs_s2_{params.version}").latest()
    except GsvError:
        return None
    if ck is None or not ck.finished or ck.epoch != params.epochs:
        return None
    prefix = f"{params.exp_name}_e{params.epochs}_s{ck.step}.pth"
    return next((Path(e) for e in reversed(ck.exports) if Path(e).name == prefix), None)


def expected_outputs(params: Params) -> list[Path]:
    found = final_export(params)
    return [found if found is not None else Path(params.weights_dir) / f"{params.exp_name}_e{params.epochs}_s<step>.pth"]


def _pretrained(params: Params) -> tuple[Path, Path]:
    if params.s2g_path is not None and params.s2d_path is not None:
        return params.s2g_path, params.s2d_path
    from ..pretrained import require

    found = require(params.version, ["s2G", "s2D"], params.pretrained_dir)
    return params.s2g_path or found["s2G"], params.s2d_path or found["s2D"]


def run(params: Params, report: Reporter) -> None:
    import torch

    from ..train.distributed import run_training
    from ..train.sovits import SoVITSTrainSettings, prepare

    cuda = bool(params.gpus) and torch.cuda.is_available()
    nprocs = max(1, torch.cuda.device_count()) if cuda else params.cpu_procs
    if not cuda:
        report.warning("training on the CPU: expect it to be very slow (a GPU is strongly recommended)")
    check(params)
    s2g, s2d = _pretrained(params)
    batch = params.batch_size if params.batch_size is not None else default_batch_size(cuda, params.fp16)
    workers = params.num_workers if params.num_workers is not None else (min(4, max(0, (os.cpu_count() or 1) - 1))
                                                                         if cuda else 0)
    settings = SoVITSTrainSettings(**settings_values(
        params, SoVITSTrainSettings, pretrained_s2G=str(s2g), pretrained_s2D=str(s2d), batch_size=batch,
        num_workers=workers))
    hint = f"gsv train-sovits --project {params.project}" if params.project else "gsv train-sovits"
    settings, plan = prepare(settings, nprocs, restart=params.restart, command_hint=hint)
    for note in plan.restart_notes():
        report.info(note)
    if plan.checkpoint is not None:  # resuming
        report.info(f"continuing the run in {settings.ckpt_dir} after epoch {plan.checkpoint.epoch} "
                    f"(step {plan.start_step}); --restart starts over")
    Path(params.weights_dir).mkdir(parents=True, exist_ok=True)
    run_training("backend.train.sovits:train_worker", settings.to_json(), report, nprocs=nprocs, force_cpu=not cuda)
