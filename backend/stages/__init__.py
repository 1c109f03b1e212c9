"""Stages: one module per arrow of the pipeline (slice, asr, format_*, train_*, infer).

Each stage module defines ``STAGE`` (a :class:`~backend.stages.base.StageSpec`) and follows
the contract described in :mod:`backend.stages.base`. Modules here are discovered, not listed,
so adding a stage is adding a file. They must not import torch or other heavy libraries at
module level: the CLI imports every stage module to build its argument parser.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

from .base import StageSpec


def stage_modules() -> dict[str, ModuleType]:
    """Stage name -> module, for every module in this package that defines ``STAGE``."""
    out: dict[str, ModuleType] = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_") or info.name == "base":
            continue
        mod = importlib.import_module(f"{__name__}.{info.name}")
        spec = getattr(mod, "STAGE", None)
        if isinstance(spec, StageSpec):
            out[spec.name] = mod
    return out


def get_stage(name: str) -> ModuleType:
    mods = stage_modules()
    if name not in mods:
        raise KeyError(f"unknown stage {name!r}; known: {', '.join(sorted(mods))}")
    return mods[name]
