"""Command-line options both trainers share (``gsv train-sovits`` and ``gsv train-gpt``).

Not a stage (the leading underscore keeps it out of stage discovery): each trainer adds these,
then its own options (all declared on its ``Params``), and refuses what ``Params.problems`` names
with :func:`check`.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from ..errors import GsvError
from ..workspace import VERSIONS
from .base import add_param_option, param, param_info

SHARED_OPTIONS = ("batch_size", "epochs", "save_every", "save_latest_only", "fp16", "pretrained_dir", "cpu_procs",
                  "num_workers", "seed", "repeat_to", "metric_interval")
"""The Params fields both trainers declare and expose the same way on the command line."""


def batch_size_param() -> Any:
    """``batch_size`` as both trainers declare it (None = auto from the device's memory)."""
    return param(None, low=1, none="auto", label="batch",
                 help="clips per step per GPU (auto: GPU memory in GB / 2, halved without fp16; RAM GB / 4 on the CPU)")


def save_every_param(default: int) -> Any:
    return param(default, low=1, label="save every",
                 help="export weights and save a checkpoint every N epochs (the last epoch is always saved)")


def save_latest_only_param(default: bool) -> Any:
    return param(default, help="keep only the newest resumable checkpoint (exports are all kept)")


def add_shared(parser: argparse.ArgumentParser, params_cls: type) -> None:
    """The options both trainers share; defaults, limits and help come from ``params_cls``."""
    parser.add_argument("--project", required=True, help="the project whose exp folder to train on")
    parser.add_argument("--version", choices=VERSIONS, default=None, help="model version (default: the project's)")
    parser.add_argument("--restart", action="store_true",
                        help="start over from the base model (old checkpoints are moved to an old-* folder)")
    for name in SHARED_OPTIONS:
        if name == "fp16":  # the switch turns it off: --fp32
            parser.add_argument("--fp32", dest="fp16", action="store_false",
                                help=param_info(params_cls, "fp16").help.replace("%", "%%"))
        else:
            add_param_option(parser, params_cls, name)


def shared_values(args: argparse.Namespace) -> dict[str, Any]:
    """The shared options as Params keyword arguments."""
    out = {name: getattr(args, name) for name in SHARED_OPTIONS}
    out["pretrained_dir"] = absolute(out["pretrained_dir"])
    return out


def settings_values(params: Any, settings_cls: type, **resolved: Any) -> dict[str, Any]:
    """The trainer settings a stage's Params fixes: every field both declare, by name (paths as
    strings; ``metric_interval`` → ``metric_interval_s``; the GPU ids as the official
    ``gpu_numbers``), so a knob added to both travels without being listed here. ``resolved``:
    what the run decided itself (the batch size for "auto", the base model paths)."""
    import dataclasses

    wanted = {f.name for f in dataclasses.fields(settings_cls)}
    out: dict[str, Any] = {}
    for f in dataclasses.fields(params):
        value = getattr(params, f.name)
        if f.name in wanted:
            out[f.name] = str(value) if isinstance(value, Path) else value
    out["metric_interval_s"] = params.metric_interval
    out["gpu_numbers"] = "-".join(params.gpus) or "0"
    out.update(resolved)
    return out


def check(params: Any) -> None:
    """A named error for every value a trainer cannot use (the rules live in ``Params.problems``)."""
    problems = params.problems()
    if problems:
        raise GsvError("invalid training settings: " + "; ".join(problems), "change the values named")


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
