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
from ..jobs.events import Reporter
from ._training_args import absolute, add_shared, check_shared, default_batch_size
from .base import StageSpec

STAGE = StageSpec(name="train-sovits", help="fine-tune SoVITS on the project's formatted dataset (official 1Ba)",
                  uses_gpu=True)



@dataclass
class Params:
    exp_dir: Path
    weights_dir: Path
    exp_name: str
    version: str = "v2"
    project: str | None = None
    batch_size: int | None = None  # None: from the GPU's memory (official rule) or the RAM on CPU
    epochs: int = 8
    text_lr_weight: float = 0.4
    save_every: int = 4
    save_latest_only: bool = True
    restart: bool = False
    fp16: bool = True
    s2g_path: Path | None = None
    s2d_path: Path | None = None
    pretrained_dir: Path | None = None
    gpus: list[str] = field(default_factory=list)
    cpu_procs: int = 1  # DDP over CPU processes (gloo) when no GPU is leased: for trying multi-process runs
    num_workers: int | None = None
    learning_rate: float = 1e-4
    seed: int = 1234
    repeat_to: int = 100
    metric_interval: float = 1.0
    segment_size: int = 20480


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_shared(parser, epochs=8, epochs_help="total epochs (default 8)", save_every=4,
               batch_help="clips per step per GPU (default: GPU memory in GB / 2, halved without fp16; "
                          "batch 2 fits in 6 GB)",
               cpu_procs_help="without GPUs: train with N CPU processes (DDP over gloo); default 1",
               workers_help="data-loading processes (default 4 on GPU, 0 on CPU)")
    parser.add_argument("--text-lr-weight", type=float, default=0.4,
                        help="learning-rate factor of the text modules (default 0.4, official range 0.2–0.6)")
    parser.add_argument("--s2g", type=Path, dest="s2g_path", default=None, help="base generator .pth (override)")
    parser.add_argument("--s2d", type=Path, dest="s2d_path", default=None, help="base discriminator .pth (override)")
    parser.add_argument("--learning-rate", type=float, default=1e-4, help=argparse.SUPPRESS)
    parser.add_argument("--segment-size", type=int, default=20480, help=argparse.SUPPRESS)


def params_from_args(args: argparse.Namespace, workspace: Any) -> Params:
    project = workspace.open_project(args.project)
    version = args.version or project.version
    check_shared(args, batch_example=2)
    if not 0.0 < args.text_lr_weight <= 1.0:
        raise GsvError(f"--text-lr-weight must be in (0, 1], got {args.text_lr_weight}", "the default is 0.4")
    return Params(exp_dir=project.exp_dir, weights_dir=project.sovits_weights_dir(version), exp_name=project.name,
                  version=version, project=project.name, batch_size=args.batch_size, epochs=args.epochs,
                  text_lr_weight=args.text_lr_weight, save_every=args.save_every,
                  save_latest_only=args.save_latest_only, restart=args.restart, fp16=args.fp16,
                  s2g_path=absolute(args.s2g_path), s2d_path=absolute(args.s2d_path),
                  pretrained_dir=absolute(args.pretrained_dir), gpus=list(args.job_gpus or []),
                  cpu_procs=args.cpu_procs, num_workers=args.num_workers, learning_rate=args.learning_rate,
                  seed=args.seed, repeat_to=args.repeat_to, metric_interval=args.metric_interval,
                  segment_size=args.segment_size)


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
    s2g, s2d = _pretrained(params)
    batch = params.batch_size or default_batch_size(cuda, params.fp16)
    workers = params.num_workers if params.num_workers is not None else (min(4, max(0, (os.cpu_count() or 1) - 1))
                                                                         if cuda else 0)
    settings = SoVITSTrainSettings(
        exp_dir=str(params.exp_dir), weights_dir=str(params.weights_dir), exp_name=params.exp_name,
        version=params.version, pretrained_s2G=str(s2g), pretrained_s2D=str(s2d), batch_size=batch,
        epochs=params.epochs, text_lr_weight=params.text_lr_weight, save_every=params.save_every,
        save_latest_only=params.save_latest_only, learning_rate=params.learning_rate, fp16=params.fp16,
        seed=params.seed, num_workers=workers, repeat_to=params.repeat_to, metric_interval_s=params.metric_interval,
        segment_size=params.segment_size, gpu_numbers="-".join(params.gpus) or "0")
    hint = f"gsv train-sovits --project {params.project}" if params.project else "gsv train-sovits"
    settings, plan = prepare(settings, nprocs, restart=params.restart, command_hint=hint)
    for note in plan.restart_notes():
        report.info(note)
    if plan.resuming:
        report.info(f"continuing the run in {settings.ckpt_dir} after epoch {plan.checkpoint.epoch} "
                    f"(step {plan.start_step}); --restart starts over")
    Path(params.weights_dir).mkdir(parents=True, exist_ok=True)
    run_training("backend.train.sovits:train_worker", settings.to_json(), report, nprocs=nprocs, force_cpu=not cuda)
