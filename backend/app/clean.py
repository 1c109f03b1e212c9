"""Cleaning requests (the Dataset screen's Clean panel): which models each step offers, whether
the runner is installed (and the job that installs it), the ``clean`` job and its 10-second
preview for the open project, and which folder the slicer reads when no input is named.

The TUI goes through here rather than the stage so that it never learns the stage's Params by
heart, and so that the panel and ``gsv clean`` share one set of defaults.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..jobs.record import JobRecord
    from ..stages import clean as clean_stage
    from ..stages import install_cleaner
    from .core import Application

STEP_TITLES = {"separate": "vocals/music separation", "dereverb": "de-reverb / de-echo", "denoise": "denoise"}
PREVIEW_SECONDS = 10.0


@dataclass(frozen=True)
class ModelChoice:
    """One model a step can use, as a list shows it."""

    name: str
    arch: str
    here: bool  # its file is in the models folder (else the job downloads it first)
    about: str


@dataclass(frozen=True)
class StepChoice:
    """One step of the chain with its models, the default first, and whether it is on by default."""

    step: str
    title: str
    models: tuple[ModelChoice, ...]
    on_by_default: bool


@dataclass(frozen=True)
class CleanSettings:
    """The panel's choices: a model name per step, None where the step is off."""

    separate: str | None = None
    dereverb: str | None = None
    denoise: str | None = None


@dataclass(frozen=True)
class RunnerState:
    """Whether the separation runner is installed and, if not, the sentence and command that fix it."""

    available: bool
    message: str = ""
    fix: str = ""


def step_choices() -> tuple[StepChoice, ...]:
    """Each step of the chain, in order, with the models the backend knows for it."""
    from ..clean.project import choices
    from ..stages.clean import Params

    defaults = Params(inputs=[], out_dir=Path())
    rows = choices()
    return tuple(StepChoice(step, STEP_TITLES.get(step, step),
                            tuple(ModelChoice(r["name"], r["arch"], bool(r["here"]), r["about"]) for r in models),
                            getattr(defaults, step, None) is not None)
                 for step, models in rows.items())


def runner_state() -> RunnerState:
    """Looked up afresh each call (the import caches dropped), so an install that a job has just
    finished shows without restarting."""
    from ..clean.runner import RunnerMissingError, require_runner

    try:
        require_runner()
    except RunnerMissingError as e:
        return RunnerState(False, e.message, e.fix or "")
    return RunnerState(True)


def runner_install_request(app: "Application", python: Path | None = None, find_links: tuple[Path, ...] = (),
                           no_index: bool = False) -> "install_cleaner.Params":
    """The ``install-cleaner`` Params (default: this interpreter, the declared list, the package
    index), checked: a GsvError when the environment is not writable or has no pip."""
    from ..clean import install
    from ..stages.install_cleaner import Params, check

    project = app.project  # the lists are written out, so the job's record says what it installed
    params = Params(python=python, requirements=list(install.RUNNER_DEPS), no_deps=list(install.RUNNER),
                    find_links=list(find_links), no_index=no_index,
                    project=project.name if project is not None else None)
    check(params)
    return params


def submit_runner_install(app: "Application") -> "JobRecord":
    """Queue the job that installs the runner (pip's progress in ``bytes``, its steps as messages)."""
    return app.submit("install-cleaner", runner_install_request(app))


def project_params(project: Any, inputs: list[Path] | None = None, **settings: Any) -> "clean_stage.Params":
    """Params for cleaning a project's recordings (all of ``raw/`` unless ``inputs`` are named)
    into its ``clean/``; ``settings`` are any other Params fields."""
    from ..clean.project import clean_dir
    from ..stages.clean import Params

    return Params(inputs=list(inputs) if inputs else [Path(project.raw_dir)], out_dir=clean_dir(project),
                  project=project.name, backup_dir=Path(project.trash_dir) / "replaced-clean", **settings)


def preview_params(project: Any, base: "clean_stage.Params", recording: Path, start_s: float,
                   seconds: float = PREVIEW_SECONDS) -> "clean_stage.Params":
    """``base`` narrowed to ``seconds`` of ``recording`` from ``start_s``, written to the project's
    ``clean-preview/`` (never its ``clean/``), checked."""
    from dataclasses import replace

    from ..clean.project import PREVIEW_DIR_NAME
    from ..stages.clean import check

    params = replace(base, inputs=[Path(recording)], out_dir=Path(project.root) / PREVIEW_DIR_NAME,
                     excerpt_start=float(start_s), excerpt_seconds=float(seconds), replace=True)
    check(params)
    return params


def clean_request(app: "Application", settings: CleanSettings) -> "clean_stage.Params":
    """The ``clean`` Params for every recording in the open project's ``raw/``, checked (a
    GsvError names a step with no model, an unknown model or an empty ``raw/``)."""
    from ..stages.clean import check

    project = app.require_project()
    params = project_params(project, separate=settings.separate, dereverb=settings.dereverb,
                            denoise=settings.denoise)
    check(params)
    return params


def submit_clean(app: "Application", settings: CleanSettings) -> "JobRecord":
    """Queue the clean job for the open project (a tracked job; progress in ``chunks``)."""
    return app.submit("clean", clean_request(app, settings))


def preview_recording(app: "Application", chosen: Path | None = None) -> Path | None:
    """The recording a preview renders: ``chosen`` when it is a file, else the first in ``raw/``."""
    if chosen is not None and chosen.is_file():
        return chosen
    project = app.require_project()
    raw = Path(project.raw_dir)
    files = sorted(p for p in raw.iterdir() if p.is_file() and not p.name.startswith(".")) if raw.is_dir() else []
    return files[0] if files else None


def preview_start(recording: Path, seconds: float = PREVIEW_SECONDS) -> float:
    """Where the excerpt starts: the middle of the recording (its start is often silence), or 0
    when the length cannot be read without decoding the whole file."""
    try:
        import soundfile

        length = soundfile.info(str(recording)).duration
    except Exception:  # noqa: BLE001 - any format soundfile cannot read: start at the beginning
        return 0.0
    return max(0.0, length / 2 - seconds / 2)


def submit_preview(app: "Application", settings: CleanSettings, recording: Path) -> "JobRecord":
    """Queue the 10-second preview of ``recording`` through the chosen chain."""
    project = app.require_project()
    base = project_params(project, separate=settings.separate, dereverb=settings.dereverb, denoise=settings.denoise)
    return app.submit("clean", preview_params(project, base, recording, preview_start(recording)))


def preview_files(app: "Application", recording: Path) -> tuple[Path, Path]:
    """Where the preview of ``recording`` is written: (original excerpt, cleaned excerpt)."""
    from ..clean.project import PREVIEW_DIR_NAME

    d = Path(app.require_project().root) / PREVIEW_DIR_NAME
    return d / f"{recording.stem}.original.wav", d / f"{recording.stem}.cleaned.wav"


def slice_input(app: "Application") -> tuple[Path, str] | None:
    """The folder the slicer reads when no input is named (``clean/`` when it holds files, else
    ``raw/``) and that folder's name inside the project; None without an open project."""
    from ..clean.project import default_slice_input

    project = app.project
    if project is None:
        return None
    folder, _ = default_slice_input(project)
    try:
        name = str(folder.relative_to(project.root)) + "/"
    except ValueError:
        name = str(folder)
    return folder, name
