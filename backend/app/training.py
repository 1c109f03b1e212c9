"""Training mode's requests: base models, format, and SoVITS/GPT training with "train both".

"Train both" is a plan, not a screen's bookkeeping: on one GPU the GPT job is queued to run
after the SoVITS job succeeds (a chained job, so it starts even with the TUI closed); with two
or more GPUs they run side by side, one GPU each.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import GsvError
from ..workspace import VERSIONS
from .forms import FieldSpec, field_spec
from .summaries import FormatSummary, read_format_summary

if TYPE_CHECKING:
    from ..jobs.record import JobRecord
    from ..stages import format as format_stage
    from .core import Application

TRAIN_STAGES = ("train-sovits", "train-gpt")
FORMAT_VERSIONS = VERSIONS  # what the Format action offers


def parse_gpus(text: str) -> list[str] | None:
    """``""``/``auto`` → None (the configured or visible GPUs), ``cpu`` → [], ``0,1`` → ["0", "1"]."""
    t = text.strip().lower()
    if t in ("", "auto"):
        return None
    if t in ("cpu", "none"):
        return []
    ids = [g.strip() for g in t.replace(" ", ",").split(",") if g.strip()]
    if not all(g.isdigit() for g in ids):
        raise GsvError(f"GPU list {text!r} is not understood", "write GPU ids like 0 or 0,1; cpu for none")
    return ids


# --- base models ------------------------------------------------------------------------------
@dataclass(frozen=True)
class BaseModelsState:
    version: str
    missing: tuple[str, ...]  # repo paths of the files not found
    total: int


def base_models_state(version: str) -> BaseModelsState:
    from .. import pretrained

    found = pretrained.status(version)
    return BaseModelsState(version, tuple(f.path for f, p in found if p is None), len(found))


def fetch_models_request(app: "Application", version: str) -> Any:
    """The ``fetch-models`` Params for the version the project trains."""
    from ..stages import fetch_models

    project = app.require_project()
    return fetch_models.Params(versions=[version], project=project.name)


# --- format -----------------------------------------------------------------------------------
def format_request(app: "Application", version: str, gpus: list[str] | None,
                   allow_pypinyin: bool = False) -> "tuple[format_stage.Params, list[str]]":
    """The ``format`` Params for the open project and the GPUs it leases (None: the defaults);
    ``allow_pypinyin``: v2+ Chinese without G2PW is read with pypinyin instead of refused."""
    from ..stages import format as format_stage

    project = app.require_project()
    if gpus is None:  # as `gsv format` without --gpus: config.toml gpus, else every visible GPU
        gpus = app.default_gpus()
    params = format_stage.Params(list_path=project.transcript_path, exp_dir=project.exp_dir, version=version,
                                 project=project.name, extra_dirs=[project.clips_dir], gpus=list(gpus),
                                 allow_pypinyin=allow_pypinyin)
    format_stage.check(params)
    return params, list(gpus)


def last_formatting(app: "Application") -> FormatSummary | None:
    project = app.require_project()
    return read_format_summary(project.exp_dir)


# --- training ---------------------------------------------------------------------------------
@dataclass
class TrainSettings:
    """What the Training form asks for; None = the stage's declared default."""

    sovits_epochs: int | None = None
    sovits_save_every: int | None = None
    gpt_epochs: int | None = None
    gpt_save_every: int | None = None
    batch_size: int | None = None  # None: auto (from the GPU's memory)
    dpo: bool = False
    gpus: list[str] | None = None  # None: the configured or visible GPUs


@dataclass
class TrainJob:
    stage: str
    params: Any  # the stage's Params
    gpus: list[str]


@dataclass
class TrainPlan:
    """The jobs of one request; ``chained``: each waits for the one before it to succeed."""

    jobs: list[TrainJob] = field(default_factory=list)
    chained: bool = False

    @property
    def dpo(self) -> bool:
        return any(getattr(j.params, "dpo", False) for j in self.jobs)


def train_fields() -> dict[str, FieldSpec]:
    """The form's numbers, keyed by form id, with the stages' declared defaults."""
    from ..stages import train_gpt, train_sovits

    return {"sovits-epochs": field_spec(train_sovits.Params, "epochs"),
            "sovits-save": field_spec(train_sovits.Params, "save_every"),
            "gpt-epochs": field_spec(train_gpt.Params, "epochs"),
            "gpt-save": field_spec(train_gpt.Params, "save_every"),
            "train-batch": field_spec(train_sovits.Params, "batch_size", blank_is_none=True)}


def _train_params(app: "Application", stage: str, s: TrainSettings, gpus: list[str]) -> Any:
    from ..stages import train_gpt, train_sovits

    p = app.require_project()
    given = lambda **kw: {k: v for k, v in kw.items() if v is not None}  # noqa: E731 - None: the default
    if stage == "train-sovits":
        params: Any = train_sovits.Params(
            exp_dir=p.exp_dir, weights_dir=p.sovits_weights_dir(p.version), exp_name=p.name, version=p.version,
            project=p.name, batch_size=s.batch_size, gpus=list(gpus),
            **given(epochs=s.sovits_epochs, save_every=s.sovits_save_every))
    else:
        params = train_gpt.Params(
            exp_dir=p.exp_dir, weights_dir=p.gpt_weights_dir(p.version), exp_name=p.name, version=p.version,
            project=p.name, batch_size=s.batch_size, dpo=s.dpo, gpus=list(gpus),
            **given(epochs=s.gpt_epochs, save_every=s.gpt_save_every))
    problems = params.problems()
    if problems:
        raise GsvError("invalid training settings: " + "; ".join(problems), "change the values named")
    return params


def train_requests(app: "Application", which: str, settings: TrainSettings) -> TrainPlan:
    """``which``: sovits, gpt or both. Both on one GPU chain GPT after SoVITS; on two, side by side."""
    gpus = settings.gpus if settings.gpus is not None else app.default_gpus()
    if which != "both":
        stage = f"train-{which}"
        return TrainPlan([TrainJob(stage, _train_params(app, stage, settings, gpus), list(gpus))])
    if len(gpus) >= 2:  # one GPU each, side by side
        return TrainPlan([TrainJob("train-sovits", _train_params(app, "train-sovits", settings, gpus[:1]), gpus[:1]),
                          TrainJob("train-gpt", _train_params(app, "train-gpt", settings, gpus[1:2]), gpus[1:2])])
    return TrainPlan([TrainJob(s, _train_params(app, s, settings, gpus), list(gpus)) for s in TRAIN_STAGES],
                     chained=True)


def submit_plan(app: "Application", plan: TrainPlan) -> "list[JobRecord]":
    """Queue every job of ``plan`` (chained ones after their predecessor). Blocks briefly: call
    it from a worker thread. GsvError when the first is refused; later refusals raise too, after
    the jobs already queued stay queued."""
    records: list[JobRecord] = []
    for job in plan.jobs:
        after = records[-1].id if plan.chained and records else None
        records.append(app.submit(job.stage, job.params, gpus=job.gpus, after=after))
    return records


def resume_request(app: "Application", job_id: str) -> "JobRecord":
    """Start the stage of a finished training job again with its settings (it continues from
    its last checkpoint)."""
    rec = app.jobs.get(job_id)
    return app.submit(rec.stage, dict(rec.params), gpus=list(rec.gpus))
