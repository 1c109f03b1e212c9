"""What a screen (or any other caller) needs from cleaning, in a few calls.

- :func:`clean_dir` / :func:`default_slice_input`: where a project's cleaned recordings go, and
  which folder the slicer reads by default (``clean/`` when it holds files, else ``raw/``) with
  the sentence that says so.
- :func:`submit_clean`: queue a clean job for a project (all of its ``raw/`` recordings unless
  files are named), returning the job record; its progress is ``chunks`` of the current file.
- :func:`submit_preview`: queue a job that renders a 10-second excerpt through the chain; the job's
  artifacts are the original excerpt (role ``original``) and the cleaned one (role ``cleaned``),
  ready for the listening bridge.
- :func:`choices`: each step's models (default first) with whether their files are here.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from ..stages.clean import CLEAN_DIR_NAME, PREVIEW_DIR_NAME, Params, check


def clean_dir(project: Any) -> Path:
    return Path(project.root) / CLEAN_DIR_NAME


def default_slice_input(project: Any) -> tuple[Path, str]:
    """The folder the slicer reads when none is named, and why."""
    d = clean_dir(project)
    if d.is_dir() and any(not p.name.startswith(".") and p.is_file() for p in d.iterdir()):
        return d, f"slicing the cleaned recordings in {d} (name raw/ to slice the originals)"
    return Path(project.raw_dir), f"slicing the recordings in {project.raw_dir}"


def project_params(project: Any, inputs: list[Path] | None = None, **settings: Any) -> Params:
    """Params for cleaning a project's recordings; ``settings`` are any other Params fields."""
    return Params(inputs=list(inputs) if inputs else [Path(project.raw_dir)], out_dir=clean_dir(project),
                  project=project.name, backup_dir=Path(project.trash_dir) / "replaced-clean", **settings)


def submit_clean(workspace: Any, project_name: str, params: Params | None = None, *,
                 gpus: list[str] | None = None, after: str | None = None) -> Any:
    """Queue the clean job; ``params`` defaults to :func:`project_params`. Raises the stage's
    named errors (unknown model, missing input, no step chosen) before anything is queued."""
    from ..jobs.manager import JobManager

    project = workspace.open_project(project_name)
    params = params or project_params(project)
    check(params)
    return JobManager(workspace.jobs_dir).submit("clean", params, project=project.name, gpus=gpus, after=after)


def submit_preview(workspace: Any, project_name: str, recording: Path, start_s: float, params: Params | None = None,
                   *, seconds: float = 10.0, gpus: list[str] | None = None) -> Any:
    """Queue a job cleaning ``seconds`` of ``recording`` from ``start_s`` into ``<project>/clean-preview``."""
    from ..jobs.manager import JobManager

    project = workspace.open_project(project_name)
    base = params or project_params(project)
    preview = replace(base, inputs=[Path(recording)], out_dir=Path(project.root) / PREVIEW_DIR_NAME,
                      excerpt_start=float(start_s), excerpt_seconds=float(seconds), replace=True)
    check(preview)
    return JobManager(workspace.jobs_dir).submit("clean", preview, project=project.name, gpus=gpus)


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
