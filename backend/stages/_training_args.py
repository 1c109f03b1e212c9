"""Command-line options both trainers share (``gsv train-sovits`` and ``gsv train-gpt``).

Not a stage (the leading underscore keeps it out of stage discovery): each trainer adds these,
then its own options, and checks them with :func:`check_shared`.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from ..errors import GsvError
from ..workspace import VERSIONS


def add_shared(parser: argparse.ArgumentParser, *, epochs: int, epochs_help: str, save_every: int,
               batch_help: str, cpu_procs_help: str, workers_help: str) -> None:
    parser.add_argument("--project", required=True, help="the project whose exp folder to train on")
    parser.add_argument("--version", choices=VERSIONS, default=None, help="model version (default: the project's)")
    parser.add_argument("--batch-size", type=int, default=None, help=batch_help)
    parser.add_argument("--epochs", type=int, default=epochs, help=epochs_help)
    parser.add_argument("--save-every", type=int, default=save_every,
                        help=f"export weights and save a checkpoint every N epochs (default {save_every}; "
                             "the last epoch is always saved)")
    parser.add_argument("--save-latest-only", action=argparse.BooleanOptionalAction, default=True,
                        help="keep only the newest resumable checkpoint (default: yes; exports are all kept)")
    parser.add_argument("--restart", action="store_true",
                        help="start over from the base model (old checkpoints are moved to an old-* folder)")
    parser.add_argument("--fp32", dest="fp16", action="store_false", help="no fp16 mixed precision on the GPU")
    parser.add_argument("--pretrained-dir", type=Path, default=None,
                        help="folder with the official pretrained_models layout (default: HF cache)")
    parser.add_argument("--cpu-procs", type=int, default=1, help=cpu_procs_help)
    parser.add_argument("--workers", dest="num_workers", type=int, default=None, help=workers_help)
    parser.add_argument("--seed", type=int, default=1234, help=argparse.SUPPRESS)
    parser.add_argument("--repeat-to", type=int, default=100, help=argparse.SUPPRESS)
    parser.add_argument("--metric-interval", type=float, default=1.0, help=argparse.SUPPRESS)


def check_shared(args: argparse.Namespace, batch_example: int) -> None:
    """Named errors for the shared numbers a trainer cannot use."""
    for name, value in (("--epochs", args.epochs), ("--save-every", args.save_every), ("--cpu-procs", args.cpu_procs)):
        if value < 1:
            raise GsvError(f"{name} must be at least 1, got {value}", f"e.g. {name} 4")
    if args.batch_size is not None and args.batch_size < 1:
        raise GsvError(f"--batch-size must be at least 1, got {args.batch_size}", f"e.g. --batch-size {batch_example}")


def absolute(p: Path | None) -> Path | None:
    return None if p is None else Path(p).expanduser().absolute()


def default_batch_size(cuda: bool, fp16: bool) -> int:
    """Official WebUI rule: GPU memory (GB, smallest GPU) // 2, halved without fp16; CPU: RAM GB // 4."""
    if cuda:
        import torch

        mem = min(torch.cuda.get_device_properties(i).total_memory for i in range(torch.cuda.device_count()))
        size = int(mem / 2**30 // 2)
        return max(1, size if fp16 else size // 2)
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return max(1, int(ram // 4))
