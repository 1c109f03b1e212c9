"""The voice checkup as the TUI asks for it: chain one after training, run one now, read the
latest report as plain rows, and the project setting that turns the chaining off.

The report itself (ranking, files) belongs to :mod:`backend.checkup`; here it becomes
:class:`CheckupView` — formatted enough for a table, with every take's wav path to play — so the
screens never touch the report's JSON or its classes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import GsvError
from .core import describe

if TYPE_CHECKING:
    from ..jobs.record import JobRecord
    from .core import Application

STAGE = "checkup"


# --- the project setting ------------------------------------------------------------------------
def after_training(app: "Application") -> bool:
    """Whether the open project chains a checkup after each training plan (default: yes)."""
    from ..checkup import checkup_after_training

    return app.project is not None and checkup_after_training(app.project)


def set_after_training(app: "Application", on: bool) -> None:
    """Store the choice in the project's ``project.toml`` (``[settings] checkup_after_training``)."""
    from ..checkup import CHECKUP_AFTER_TRAINING

    project = app.require_project()
    project.settings[CHECKUP_AFTER_TRAINING] = bool(on)
    project.save()


# --- queuing ------------------------------------------------------------------------------------
def submit(app: "Application", *, after: str | None = None, gpus: list[str] | None = None) -> "JobRecord":
    """Queue a checkup of the open project (``after``: a job it waits for; ``gpus``: the ids it
    leases, default as ``gsv checkup``). GsvError (a CheckupError) when it cannot run, e.g. the
    project has no reference clip."""
    from ..stages import checkup as stage

    params = stage.params_for(app.require_project())
    return app.submit(stage.STAGE.name, params, gpus=app.default_gpus() if gpus is None else gpus, after=after)


def submit_checkup(workspace: Any, project_name: str, *, after: str | None = None, gpus: list[str] | None = None,
                   **options: Any) -> Any:
    """Queue a checkup of the project as a job and return its record. ``after``: a job id to wait
    for (run only if it succeeds); ``gpus``: ids to lease (default: as ``gsv checkup``);
    ``options``: any field of :class:`backend.stages.checkup.Params` (limit, asr_model, …)."""
    from ..jobs.gpus import default_gpus
    from ..jobs.manager import JobManager
    from ..stages import checkup as stage

    project = workspace.open_project(project_name)
    params = stage.params_for(project, **options)
    return JobManager(workspace.jobs_dir).submit(stage.STAGE.name, params, gpus=default_gpus(True) if gpus is None
                                                 else gpus, after=after)


@dataclass(frozen=True)
class ChainedCheckup:
    """What chaining a checkup after a training plan did: the queued job, or why there is none."""

    job: "JobRecord | None" = None
    skipped: str = ""  # "": queued (or the setting is off and ``off`` is true)
    off: bool = False


def chain_after(app: "Application", last_job: str, gpus: list[str]) -> ChainedCheckup:
    """Queue a checkup behind ``last_job`` when the project wants one. ``gpus``: every GPU of the
    plan, so a checkup behind side-by-side runs also waits for the other run to free its GPU.
    A checkup that cannot be queued never stops training: the reason comes back instead."""
    if not after_training(app):
        return ChainedCheckup(off=True)
    try:
        return ChainedCheckup(job=submit(app, after=last_job, gpus=list(gpus)))
    except GsvError as e:
        return ChainedCheckup(skipped=describe(e, sep=" — "))


# --- reading the latest report ------------------------------------------------------------------
@dataclass(frozen=True)
class TakeView:
    """One evaluation take: what it should have said, what the ASR heard, and its flags."""

    path: Path
    sentence: str
    heard: str
    error_rate: float
    skips: int
    repeats: int
    pace: str | None  # None, "runaway", "truncated", "token cap"

    @property
    def flagged(self) -> bool:
        return bool(self.skips or self.repeats or self.pace)

    def describe(self, unit: str) -> str:
        flags = [f"{self.skips} skipped" if self.skips else "", f"{self.repeats} repeated" if self.repeats else "",
                 self.pace or ""]
        flag_text = ", ".join(f for f in flags if f)
        return (f"{unit.upper()} {self.error_rate:.0%}" + (f" ({flag_text})" if flag_text else "")
                + f" · said: {self.sentence} · heard: {self.heard or '(nothing)'}")


@dataclass(frozen=True)
class CheckupRow:
    """One scored GPT/SoVITS pair, with its takes worst first (flagged, then by error rate)."""

    label: str
    gpt: str
    sovits: str
    recommended: bool
    median_error: float | None
    skip_share: float | None
    repeat_share: float | None
    runaways: int
    truncations: int
    likeness_ref: float | None
    likeness_train: float | None
    takes: tuple[TakeView, ...]

    @property
    def pair(self) -> dict[str, str]:
        """The weights, as the Inference form takes them."""
        return {"gpt": self.gpt, "sovits": self.sovits}


@dataclass(frozen=True)
class CheckupView:
    """The latest checkup report of a project, its pairs best first."""

    path: Path
    created: str
    unit: str  # cer | wer
    reason: str
    rows: tuple[CheckupRow, ...]


def _take_view(report: Any, take: Any) -> TakeView:
    sentences = report.sentences
    text = sentences[take.sentence] if 0 <= take.sentence < len(sentences) else ""
    return TakeView(report.take_path(take), text, take.transcript, take.error_rate, int(take.scores.get("skips", 0)),
                    int(take.scores.get("repeats", 0)), take.pace)


def latest(app: "Application") -> CheckupView | None:
    """The open project's newest readable checkup report as rows, or None (no project, no report)."""
    from ..checkup import latest_report

    if app.project is None:
        return None
    report = latest_report(app.project)
    if report is None or report.path is None:
        return None
    best = report.best
    rows = []
    for pair, s in report.rows():
        takes = sorted((_take_view(report, t) for t in pair.takes), key=lambda t: (not t.flagged, -t.error_rate))
        rows.append(CheckupRow(pair.label, pair.gpt, pair.sovits, pair is best, s["median_error"], s["skip_share"],
                               s["repeat_share"], s["runaways"], s["truncations"], s["likeness_ref"],
                               s["likeness_train"], tuple(takes)))
    return CheckupView(report.path, report.created, report.unit, report.reason, tuple(rows))
