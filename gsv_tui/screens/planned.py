"""Shared parts of the mode screens whose stages are not built yet."""

from __future__ import annotations

import importlib.util

from ..widgets.stage_preview import PlannedStage


def stage_installed(*modules: str) -> bool:
    """Whether any of ``backend.stages.<module>`` exists (found on disk, not imported)."""
    for m in modules:
        try:
            if importlib.util.find_spec(f"backend.stages.{m}") is not None:
                return True
        except (ImportError, ValueError):
            continue
    return False


def planned(command: str, does: str, *modules: str) -> PlannedStage:
    return PlannedStage(command=command, does=does, available=stage_installed(*modules))
