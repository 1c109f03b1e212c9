"""Training mode (key 3): format the dataset, then fine-tune SoVITS and GPT, and watch them train.

From top to bottom: whether the version's pretrained base models are here (``f`` fetches them as
a job, :mod:`..widgets.base_models`); the Format action (:mod:`gsv_tui.widgets.format_panel`); the
training settings and start buttons (:mod:`..widgets.train_form`: "Train both" on one GPU queues GPT
after SoVITS); the followed training job (:mod:`..widgets.train_monitor`: epoch, step, ETA, GPU
memory, live loss curve, log tail) read from the job's events file by a worker thread; the exported
weights (:mod:`..widgets.weights_list`), from which a GPT + SoVITS pair goes to the Inference screen.

The followed job is the one just started, else the project's running (or queued, or latest)
training job. Cancel stops it (the job system's TERM → grace → KILL); Resume starts the same stage
with the same settings again — the trainers continue from their last checkpoint, and a finished
run says so and asks for more epochs.
"""

from __future__ import annotations

import threading
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Select, Static

from backend.app import training as requests
from backend.errors import GsvError

from .. import keymap
from ..commands import PaletteCommand
from ..jobwatch import JobsSnapshot, JobView
from ..keymap import KeySpec
from ..messages import JobRefused, JobSubmitted
from ..train_events import TRAIN_STAGES, TrainState
from ..widgets.base_models import BaseModels
from ..widgets.format_panel import FormatPanel
from ..widgets.train_form import TrainForm
from ..widgets.train_monitor import TrainMonitor
from ..widgets.weights_list import WeightsList, names
from .base import ModeScreen

KEYS = keymap.define("training", "Training screen", [
    KeySpec("training.fetch", "f", "fetch_models", "Fetch models",
            help="Download the chosen version's pretrained base models as a job (resumes partial files)"),
    KeySpec("training.format", "ctrl+r", "format", "Format", priority=True,
            help="Format the transcript for training (text+BERT, HuBERT+wav32k, tokens) as a job"),
    KeySpec("training.both", "b", "train('both')", "Train both",
            help="Fine-tune SoVITS, then GPT (queued after it on one GPU)"),
    KeySpec("training.sovits", "s", "train('sovits')", "SoVITS", help="Fine-tune SoVITS with these settings"),
    KeySpec("training.gpt", "g", "train('gpt')", "GPT", help="Fine-tune GPT with these settings"),
    KeySpec("training.cancel", "c", "cancel", "Cancel", help="Cancel the training job shown"),
    KeySpec("training.resume", "r", "resume", "Resume",
            help="Start the shown training job's stage again: it continues from its last checkpoint"),
    KeySpec("training.send", "i", "send_to_inference", "To inference",
            help="Open Inference with the chosen GPT + SoVITS weights (enter on a row chooses it)"),
])

TAIL_INTERVAL = 0.5
_TAIL_LOCK = threading.Lock()  # one events reader at a time (the cursor is shared)


class _TrainEvents(Message):
    def __init__(self, job_id: str, events: list[dict[str, Any]]) -> None:
        super().__init__()
        self.job_id, self.events = job_id, events


class TrainingScreen(ModeScreen):
    MODE = "training"
    BINDINGS = KEYS
    AUTO_FOCUS = "#format-start"  # not a text field, so the mode keys (1–5) work on arrival
    DEFAULT_CSS = """
    TrainingScreen #training-scroll { height: 1fr; }
    TrainingScreen #weights-title { color: $text-muted; padding: 0 1; }
    """

    followed: str | None = None
    _pinned: str | None = None  # a job started here: followed even while another one runs
    _state: TrainState | None = None
    _cursor: Any = None
    _weights_seen: int = 0
    _job: JobView | None = None
    _reason_shown: str | None = None

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="training-scroll"):
            yield BaseModels(fetch_key=self.key_text("training.fetch"), id="base-models")
            yield FormatPanel(id="format-panel")
            yield TrainForm(id="train-form")
            yield TrainMonitor(id="train-monitor")
            yield Static("Exported weights (enter: choose · i: send the pair to Inference)", id="weights-title")
            yield WeightsList(id="weights-list")

    def on_mount(self) -> None:
        self.set_interval(TAIL_INTERVAL, self._tail)

    # --- project -------------------------------------------------------------------------------
    def on_project(self, project) -> None:  # noqa: ANN001 - Project | None
        self.query_one(FormatPanel).set_project(project, self.application)
        self.query_one(BaseModels).set_version(self.query_one(FormatPanel).version if project else None)
        self.query_one(TrainForm).set_application(self.application)
        self.query_one(WeightsList).load(self.application)
        self.followed, self._pinned, self._state, self._cursor = None, None, None, None
        self.query_one(TrainMonitor).clear("No training job yet: start one above.")

    # --- base models -----------------------------------------------------------------------------
    @on(Select.Changed, "#format-version")
    def _version_chosen(self, event: Select.Changed) -> None:
        base = self.query_one(BaseModels)
        if self.application.project is not None and isinstance(event.value, str) and event.value != base.version:
            base.set_version(event.value)  # a project opening sets it too: on_project checks that one

    def action_fetch_models(self) -> None:
        project = self.application.project
        if project is None:
            self.notify("Open a project first (key p): its version says which models it needs.", severity="warning")
            return
        version = self.query_one(FormatPanel).version
        state = self.query_one(BaseModels).state
        if state is not None and state.version == version and not state.missing:
            self.notify(f"All {state.total} base model files of {version} are here already.", markup=False)
            return
        self.submit_job("fetch-models", requests.fetch_models_request(self.application, version), gpus=[])

    # --- format ----------------------------------------------------------------------------------
    def action_format(self) -> None:
        self.query_one(FormatPanel).start()

    def on_format_panel_requested(self, message: FormatPanel.Requested) -> None:
        self.submit_job("format", message.params, gpus=message.gpus)

    # --- training jobs ---------------------------------------------------------------------------
    def action_train(self, which: str) -> None:
        self.query_one(TrainForm).start(which)

    def on_train_form_requested(self, message: TrainForm.Requested) -> None:
        self._submit_plan(message.plan)

    @work(thread=True, group="submit-job", name="train-submit")
    def _submit_plan(self, plan: requests.TrainPlan) -> None:
        """Queue the plan's jobs (the chained GPT job waits for SoVITS in the job store)."""
        try:
            records = requests.submit_plan(self.application, plan)
        except GsvError as e:
            self.post_message(JobRefused(plan.jobs[0].stage, e))
            return
        for record in records:
            self.post_message(JobSubmitted(record.id, record.stage))
        if plan.chained and len(records) > 1:
            self.app.call_from_thread(self.notify, f"{records[1].stage} is queued after job {records[0].id} "
                                      f"({records[0].stage}).", markup=False)
        self.gsv_app.poke_jobs()

    def on_job_submitted(self, message: JobSubmitted) -> None:  # the base class's notice runs too
        if message.stage == "fetch-models":
            self.query_one(BaseModels).follow(message.job_id)
            return
        if message.stage == "format":
            self.query_one(FormatPanel).follow(message.job_id)
            return
        if message.stage not in TRAIN_STAGES:
            return
        if self._pinned is None or message.stage == "train-sovits":
            self._pinned = message.job_id
            self._follow(message.job_id, message.stage)

    def on_jobs(self, snapshot: JobsSnapshot) -> None:
        base = self.query_one(BaseModels)
        if base.job_id is not None:
            base.show_job(snapshot.get(base.job_id))
        panel = self.query_one(FormatPanel)
        if panel.job_id is not None:
            panel.show_job(snapshot.get(panel.job_id))
        project = self.application.project
        mine = [j for j in snapshot.jobs if j.stage in TRAIN_STAGES and project is not None and j.project == project.name]
        pinned = snapshot.get(self._pinned) if self._pinned else None
        if pinned is not None and pinned.state == "finished":
            nxt = next((j for j in mine if j.state != "finished"), None)
            if nxt is not None:  # the chained GPT job starts after SoVITS: follow it
                self._pinned = nxt.id
                pinned = nxt
        choice = pinned or next((j for j in mine if j.state == "running"), None) \
            or next((j for j in mine if j.state == "queued"), None) \
            or max(mine, key=lambda j: j.created or 0.0, default=None)
        if choice is not None and choice.id != self.followed:
            self._follow(choice.id, choice.stage)
        self._job = snapshot.get(self.followed) if self.followed else None
        if self._state is not None:
            self.query_one(TrainMonitor).show(self._state, self._job.status if self._job else None)
            job = self._job
            if job is not None and job.state == "finished" and job.reason and self._reason_shown != job.id:
                self._reason_shown = job.id
                self._state.log.append(f"{job.status}: {job.reason}")
                self.query_one(TrainMonitor).show(self._state, job.status)

    def _follow(self, job_id: str, stage: str) -> None:
        self.followed = job_id
        self._state = TrainState(job_id=job_id, stage=stage)
        self._cursor = None
        self.query_one(TrainMonitor).show(self._state, None)

    def _tail(self) -> None:
        if self.followed is not None:
            self._read_events(self.followed)

    @work(thread=True, group="train-tail", name="train-tail")
    def _read_events(self, job_id: str) -> None:
        if not _TAIL_LOCK.acquire(blocking=False):
            return  # the previous read is still going; the next tick reads on
        try:
            self._read_locked(job_id)
        finally:
            _TAIL_LOCK.release()

    def _read_locked(self, job_id: str) -> None:
        from backend.app.jobs import EventCursor

        cursor = self._cursor
        if cursor is None or getattr(cursor, "job_id", None) != job_id:
            cursor = EventCursor(self.application.jobs.events_path(job_id))
            cursor.job_id = job_id  # type: ignore[attr-defined]
            self._cursor = cursor
        events = cursor.read_new()
        if events:
            self.post_message(_TrainEvents(job_id, events))

    def on__train_events(self, message: _TrainEvents) -> None:
        if self._state is None or message.job_id != self.followed:
            return
        for ev in message.events:
            self._state.apply(ev)
        self.query_one(TrainMonitor).show(self._state, self._job.status if self._job else None)
        if len(self._state.weights) != self._weights_seen:
            self._weights_seen = len(self._state.weights)
            self.query_one(WeightsList).load(self.application)

    # --- cancel / resume -------------------------------------------------------------------------
    def action_cancel(self) -> None:
        if self.followed is None:
            self.notify("No training job to cancel.", severity="warning")
            return
        self._cancel(self.followed)

    @work(thread=True, group="train-cancel", name="train-cancel")
    def _cancel(self, job_id: str) -> None:
        try:
            rec = self.application.cancel(job_id)
        except GsvError as e:
            self.app.call_from_thread(self.notify, f"cancel: {e.message}", severity="error", markup=False)
            return
        self.app.call_from_thread(self.notify, f"Job {job_id}: {rec.outcome or rec.state}.", markup=False)
        self.gsv_app.poke_jobs()

    def action_resume(self) -> None:
        if self.followed is None:
            self.notify("No training job to resume: start one.", severity="warning")
            return
        if self._job is not None and self._job.state != "finished":
            self.notify(f"Job {self.followed} is still {self._job.state}.", severity="warning")
            return
        self._pinned = None
        self._resume(self.followed)

    @work(thread=True, group="submit-job", name="train-resume")
    def _resume(self, job_id: str) -> None:
        try:
            record = requests.resume_request(self.application, job_id)
        except GsvError as e:
            self.post_message(JobRefused("resume", e))
            return
        self.post_message(JobSubmitted(record.id, record.stage))
        self.gsv_app.poke_jobs()

    # --- weights → inference ---------------------------------------------------------------------
    async def action_send_to_inference(self) -> None:
        wl = self.query_one(WeightsList)
        wl.load(self.application)
        pair = wl.pair()
        if not pair:
            self.notify("No exported weights yet: train first.", severity="warning")
            return
        await self.app.switch_mode("inference")
        screen = self.app.screen
        form = getattr(screen, "form", None)
        if form is not None:
            form.load(pair)
            screen.notify(f"Using {names(pair)}", markup=False)

    def palette_commands(self):  # noqa: ANN201 - Iterable[PaletteCommand]
        yield PaletteCommand("Fetch the pretrained base models", "download the chosen version's models as a job",
                             self.action_fetch_models)
        yield PaletteCommand("Format the dataset", "text+BERT, HuBERT+wav32k, semantic tokens as a job",
                             self.action_format)
        yield PaletteCommand("Train SoVITS and GPT", "GPT queued after SoVITS on one GPU",
                             lambda: self.action_train("both"))
        yield PaletteCommand("Train SoVITS", "fine-tune SoVITS as a job", lambda: self.action_train("sovits"))
        yield PaletteCommand("Train GPT", "fine-tune GPT as a job", lambda: self.action_train("gpt"))
        yield PaletteCommand("Cancel the training job", "stop the job shown", self.action_cancel)
        yield PaletteCommand("Resume training", "continue the shown job's stage from its checkpoint",
                             self.action_resume)
