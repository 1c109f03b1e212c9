"""Where a project's cleaned recordings live, which folder the slicer reads by default, and the
models each step offers — what screens and the slicer need from cleaning without the stage.

- :func:`clean_dir` / :func:`default_slice_input`: ``clean/`` when it holds files, else ``raw/``,
  with the sentence that says which.
- :func:`choices`: each step's models (default first) with whether their files are here.

Queuing a clean job or its 10-second preview is the application layer's
(:mod:`backend.app.clean`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

CLEAN_DIR_NAME = "clean"  # in a project: <project>/clean/
PREVIEW_DIR_NAME = "clean-preview"


def clean_dir(project: Any) -> Path:
    return Path(project.root) / CLEAN_DIR_NAME


def default_slice_input(project: Any) -> tuple[Path, str]:
    """The folder the slicer reads when none is named, and why."""
    d = clean_dir(project)
    if d.is_dir() and any(not p.name.startswith(".") and p.is_file() for p in d.iterdir()):
        return d, f"slicing the cleaned recordings in {d} (name raw/ to slice the originals)"
    return Path(project.raw_dir), f"slicing the recordings in {project.raw_dir}"


def choices(models_dir: Path | None = None) -> dict[str, list[dict[str, Any]]]:
    """Per step, its models (the default first) as rows: name, arch, file, here, about."""
    from .catalogue import DEFAULTS, STEPS, models_for
    from .fetch import describe, local_models
    from .fetch import models_dir as resolve

    d = resolve(models_dir)
    own = local_models(d)
    out = {}
    for step in STEPS:
        ms = sorted([*(m for m in own if m.step == step), *models_for(step)], key=lambda m: m.name != DEFAULTS[step])
        out[step] = describe(ms, d)
    return out
