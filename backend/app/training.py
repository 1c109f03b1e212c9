"""Training mode's requests: base models, format, and SoVITS/GPT training with "train both".

"Train both" is a plan, not a screen's bookkeeping: on one GPU the GPT job is queued to run
after the SoVITS job succeeds (a chained job, so it starts even with the TUI closed); with two
or more GPUs they run side by side, one GPU each. Behind the plan's last job a checkup is queued
(:mod:`.checkup`) unless the project turned ``checkup_after_training`` off; it leases every GPU of
the plan, so behind side-by-side runs it starts only once both have freed theirs.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import GsvError
from ..workspace import VERSIONS
from .forms import FieldSpec, field_spec

if TYPE_CHECKING:
    from ..jobs.record import JobRecord
    from ..stages import format as format_stage
    from .checkup import ChainedCheckup
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
    copy_hint: str = ""  # where to copy the missing files by hand (no network)


def base_models_state(version: str) -> BaseModelsState:
    from .. import pretrained

    found = pretrained.status(version)
    missing = tuple(f.path for f, p in found if p is None)
    hint = pretrained.copy_hint(missing[0]) if missing else ""
    return BaseModelsState(version, missing, len(found), hint)


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


# --- training ---------------------------------------------------------------------------------
@dataclass
class TrainSettings:
    """What the Training form asks for; None = the stage's declared default."""

    sovits_epochs: int | None = None
    sovits_save_every: int | None = None
    text_lr_weight: float | None = None  # SoVITS: learning-rate factor of the text modules
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
            "sovits-text-lr": field_spec(train_sovits.Params, "text_lr_weight"),
            "gpt-epochs": field_spec(train_gpt.Params, "epochs"),
            "gpt-save": field_spec(train_gpt.Params, "save_every"),
            "train-batch": field_spec(train_sovits.Params, "batch_size", blank_is_none=True)}


def _train_params(app: "Application", stage: str, s: TrainSettings, gpus: list[str], **extra: Any) -> Any:
    """The stage's Params from the form's settings; ``extra``: fields the form does not show
    (``restart``, a base export)."""
    from ..stages import train_gpt, train_sovits
    from ..stages._training_args import check

    p = app.require_project()
    given = lambda **kw: {k: v for k, v in kw.items() if v is not None}  # noqa: E731 - None: the default
    if stage == "train-sovits":
        params: Any = train_sovits.Params(
            exp_dir=p.exp_dir, weights_dir=p.sovits_weights_dir(p.version), exp_name=p.name, version=p.version,
            project=p.name, batch_size=s.batch_size, gpus=list(gpus),
            **given(epochs=s.sovits_epochs, save_every=s.sovits_save_every, text_lr_weight=s.text_lr_weight), **extra)
    else:
        params = train_gpt.Params(
            exp_dir=p.exp_dir, weights_dir=p.gpt_weights_dir(p.version), exp_name=p.name, version=p.version,
            project=p.name, batch_size=s.batch_size, dpo=s.dpo, gpus=list(gpus),
            **given(epochs=s.gpt_epochs, save_every=s.gpt_save_every), **extra)
    check(params)
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


@dataclass
class PlanSubmission:
    """The jobs one plan queued: its training jobs, then the checkup chained behind them."""

    records: "list[JobRecord]"
    checkup: "ChainedCheckup | None" = None  # None: nothing was chained (a later refusal stopped it)


def submit_plan(app: "Application", plan: TrainPlan) -> PlanSubmission:
    """Queue every job of ``plan`` (chained ones after their predecessor), then — when the project
    wants one (``checkup_after_training``, on by default) — a checkup behind the last of them.
    Blocks briefly: call it from a worker thread. GsvError when the first is refused; later
    refusals raise too, after the jobs already queued stay queued. A checkup that cannot be
    queued never stops the training: ``checkup.skipped`` says why."""
    from .checkup import chain_after

    records: list[JobRecord] = []
    for job in plan.jobs:
        after = records[-1].id if plan.chained and records else None
        records.append(app.submit(job.stage, job.params, gpus=job.gpus, after=after))
    gpus = list(dict.fromkeys(g for job in plan.jobs for g in job.gpus))  # every GPU of the plan, once
    return PlanSubmission(records, chain_after(app, records[-1].id, gpus) if records else None)


def resume_request(app: "Application", job_id: str) -> "JobRecord":
    """Start the stage of a finished training job again with its settings (it continues from
    its last checkpoint)."""
    rec = app.jobs.get(job_id)
    return app.submit(rec.stage, dict(rec.params), gpus=list(rec.gpus))


# --- after a finished run: more epochs, start over, or continue from an export -------------------
CHECKPOINT_FOLDERS = {"train-sovits": "logs_s2_{version}", "train-gpt": "logs_s1_{version}"}
KIND_OF_STAGE = {"train-sovits": "sovits", "train-gpt": "gpt"}


@dataclass(frozen=True)
class FinishedRun:
    """A project's training run that reached its last epoch: resuming it would train nothing."""

    stage: str
    epoch: int
    step: int
    weights_dir: Path  # where its exports are (a restart moves them into old-<time>/ there)

    @property
    def suggested_epochs(self) -> int:
        """A total that trains on a little: as many epochs again, at most 4 more."""
        return self.epoch + max(1, min(self.epoch, 4))


def finished_run(app: "Application", stage: str) -> FinishedRun | None:
    """The open project's ``stage`` run when it has finished (from its checkpoint manifest), else None."""
    from ..train.common import CheckpointStore

    p = app.require_project()
    folder = p.exp_dir / CHECKPOINT_FOLDERS[stage].format(version=p.version)
    try:
        ck = CheckpointStore(folder).latest()
    except GsvError:
        return None  # a damaged manifest: the trainer itself says what to do when it starts
    if ck is None or not ck.finished:
        return None
    weights = p.sovits_weights_dir(p.version) if stage == "train-sovits" else p.gpt_weights_dir(p.version)
    return FinishedRun(stage, ck.epoch, ck.step, weights)


@dataclass(frozen=True)
class BaseExport:
    """One of the project's exports that a new run can start from (``old``: set aside by a restart)."""

    path: Path
    label: str
    epoch: int | None
    old: bool


def base_exports(app: "Application", stage: str) -> list[BaseExport]:
    """The project's exports of the stage's model, the current run's first (newest epoch first),
    then those of earlier runs that a restart moved into ``old-<time>/`` (newest run first)."""
    from ..infer.weights_choice import WEIGHTS_SUFFIX, epoch_of, project_weights

    p = app.require_project()
    kind = KIND_OF_STAGE[stage]
    out = [BaseExport(o.path, o.label, o.epoch, False) for o in project_weights(p, kind)]
    folder = p.sovits_weights_dir(p.version) if kind == "sovits" else p.gpt_weights_dir(p.version)
    suffix = WEIGHTS_SUFFIX[kind]
    old_runs = sorted((d for d in folder.glob("old-*") if d.is_dir()), key=lambda d: d.name, reverse=True) \
        if folder.is_dir() else []
    for run in old_runs:
        found = [(epoch_of(kind, f.name), f) for f in run.glob(f"*{suffix}") if f.is_file()]
        for epoch, f in sorted(found, key=lambda e: e[0] if e[0] is not None else -1, reverse=True):
            out.append(BaseExport(f, f"{run.name}/{f.name}" + (f" (epoch {epoch})" if epoch is not None else ""),
                                  epoch, True))
    return out


def more_epochs_request(app: "Application", run: FinishedRun, epochs: int, settings: TrainSettings) -> TrainPlan:
    """Train the finished run on to ``epochs`` in total (it continues from its last checkpoint)."""
    if epochs <= run.epoch:
        raise GsvError(f"the run already reached epoch {run.epoch}: {epochs} epochs would train nothing",
                       f"ask for more than {run.epoch}, e.g. {run.suggested_epochs}")
    more = replace(settings, sovits_epochs=epochs) if run.stage == "train-sovits" \
        else replace(settings, gpt_epochs=epochs)
    return _single(app, run.stage, more)


def start_over_request(app: "Application", stage: str, settings: TrainSettings,
                       base: Path | None = None) -> TrainPlan:
    """A new run from epoch 1: the old run's checkpoints and exports are moved (kept) into
    ``old-<time>/`` folders, in the checkpoint folder and the weights folder. ``base``: one of
    the project's exports to start from instead of the pretrained model."""
    extra: dict[str, Any] = {"restart": True}
    if base is not None:
        extra["s2g_path" if stage == "train-sovits" else "s1_path"] = Path(base)
    return _single(app, stage, settings, **extra)


def _single(app: "Application", stage: str, settings: TrainSettings, **extra: Any) -> TrainPlan:
    gpus = settings.gpus if settings.gpus is not None else app.default_gpus()
    return TrainPlan([TrainJob(stage, _train_params(app, stage, settings, gpus, **extra), list(gpus))])
