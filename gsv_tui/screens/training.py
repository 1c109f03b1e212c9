"""Training mode (key 3): format the dataset, then fine-tune SoVITS and GPT, and watch them train.

At the top, always in view: the followed training job (:mod:`..widgets.train_monitor`: epoch, step,
ETA, GPU memory, live loss curve, log tail) read from the job's events file by a worker thread.
Below it, scrolling: whether the version's pretrained base models are here (``f`` fetches them as a
job, :mod:`..widgets.base_models`); the Format action (:mod:`gsv_tui.widgets.format_panel`); the
training settings and start buttons (:mod:`..widgets.train_form`: "Train both" on one GPU queues GPT
after SoVITS); the exported weights (:mod:`..widgets.weights_list`), from which a GPT + SoVITS pair
goes to the Inference screen.

First in the scrolling part, so it is in view at 80×24: the latest voice checkup
(:mod:`..widgets.checkup_table`) — the pairs it scored, the recommended one first — and the state
of a checkup job (one is queued behind every training plan unless the switch beside it is off).
``u`` sends the highlighted pair to Inference, ``t`` plays its evaluation takes one by one, ``k``
runs a checkup now.

The followed job is the one just started, else the project's running (or queued, or latest)
training job. Cancel asks, then stops it (the job system's TERM → grace → KILL); Resume starts the
same stage with the same settings again — the trainers continue from their last checkpoint. A run
that already finished cannot be resumed into anything, so ``r``, ``s`` and ``g`` then ask how to go
on (:mod:`.run_choice`): more epochs, start over (the old run is kept in ``old-<time>/``), or a new
run from one of the project's exports.
"""

from __future__ import annotations

import threading
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Select, Static

from backend.app import checkup as checkups
from backend.app import training as requests
from backend.errors import GsvError

from .. import keymap
from ..commands import PaletteCommand
from ..jobwatch import JobsSnapshot, JobView
from ..messages import JobRefused, JobSubmitted
from ..train_events import TrainState
from ..widgets.base_models import BaseModels
from ..widgets.checkup_table import CheckupPanel
from ..widgets.format_panel import FormatPanel
from ..widgets.train_form import TrainForm
from ..widgets.train_monitor import TrainMonitor
from ..widgets.weights_list import WeightsList, names
from .base import ModeScreen
from .confirm import ConfirmScreen
from .run_choice import STAGE_NAMES, RunChoice, RunChoiceScreen

KEYS = keymap.bindings("training")

TAIL_INTERVAL = 0.5


def _asked_epochs(settings: requests.TrainSettings, stage: str) -> int:
    """The total epochs the form asks of ``stage`` (its blank field: the stage's default)."""
    asked = settings.sovits_epochs if stage == "train-sovits" else settings.gpt_epochs
    key = "sovits-epochs" if stage == "train-sovits" else "gpt-epochs"
    return asked if asked is not None else int(requests.train_fields()[key].default)
_TAIL_LOCK = threading.Lock()  # one events reader at a time (the cursor is shared)


class _Checkup(Message):
    """The latest checkup report, read by a worker thread (None: the project has none)."""

    def __init__(self, view: "checkups.CheckupView | None") -> None:
        super().__init__()
        self.view = view


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
    _checkups_done: frozenset[str] | None = None  # ids of succeeded checkup jobs seen (a new one: reload)

    def compose_body(self) -> ComposeResult:
        yield TrainMonitor(id="train-monitor")
        with VerticalScroll(id="training-scroll"):
            keys = (f"{self.key_text('training.checkup_send')}: to Inference · "
                    f"{self.key_text('training.checkup_play')}: play a take")
            yield CheckupPanel(keys=keys, id="checkup-panel")
            yield BaseModels(fetch_key=self.key_text("training.fetch"), id="base-models")
            yield FormatPanel(id="format-panel")
            yield TrainForm(id="train-form")
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
        self.query_one(TrainMonitor).clear("No training job yet: start one below.")
        panel = self.query_one(CheckupPanel)
        panel.set_after_training(checkups.after_training(self.application))
        panel.show_job(None)
        self._checkups_done = None
        self._load_checkup()

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
        form = self.query_one(TrainForm)
        if self.application.project is not None:
            try:
                settings = form.settings()
            except (GsvError, ValueError):
                settings = None  # the form says what is wrong when it starts
            stages = requests.TRAIN_STAGES if which == "both" else (f"train-{which}",)
            done = [run for run in (requests.finished_run(self.application, st) for st in stages)
                    if run is not None and settings is not None and _asked_epochs(settings, run.stage) <= run.epoch]
            if len(done) == 1 and which != "both":
                self._ask_how_to_go_on(done[0])
                return
            if done:
                names = " and ".join(STAGE_NAMES[r.stage] for r in done)
                keys = " / ".join(self.key_text(f"training.{r.stage.split('-')[1]}") for r in done)
                self.notify(f"The {names} run already finished: {keys} offers more epochs, starting over, or a "
                            "new run from an export.", severity="warning", markup=False, timeout=8)
                return
        form.start(which)

    def on_train_form_requested(self, message: TrainForm.Requested) -> None:
        self._submit_plan(message.plan)

    @work(thread=True, group="submit-job", name="train-submit")
    def _submit_plan(self, plan: requests.TrainPlan) -> None:
        """Queue the plan's jobs (the chained GPT job waits for SoVITS in the job store)."""
        try:
            submitted = requests.submit_plan(self.application, plan)
        except GsvError as e:
            self.post_message(JobRefused(plan.jobs[0].stage, e))
            return
        records = submitted.records
        for record in records:
            self.post_message(JobSubmitted(record.id, record.stage))
        if plan.chained and len(records) > 1:
            self.app.call_from_thread(self.notify, f"{records[1].stage} is queued after job {records[0].id} "
                                      f"({records[0].stage}).", markup=False)
        self._checkup_chained(submitted.checkup)
        self.gsv_app.poke_jobs()

    def _checkup_chained(self, checkup: "checkups.ChainedCheckup | None") -> None:
        """Say what became of the checkup behind a training request (from a worker thread)."""
        if checkup is not None and checkup.job is not None:
            self.post_message(JobSubmitted(checkup.job.id, checkup.job.stage))
        elif checkup is not None and checkup.skipped:
            self.app.call_from_thread(self.notify, f"No checkup after this training: {checkup.skipped}",
                                      severity="warning", markup=False, timeout=10)

    def on_job_submitted(self, message: JobSubmitted) -> None:  # the base class's notice runs too
        if message.stage == "fetch-models":
            self.query_one(BaseModels).follow(message.job_id)
            return
        if message.stage == "format":
            self.query_one(FormatPanel).follow(message.job_id)
            return
        if message.stage not in requests.TRAIN_STAGES:
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
        self._show_checkup_job(snapshot)
        mine = [j for j in snapshot.jobs if j.stage in requests.TRAIN_STAGES and project is not None and j.project == project.name]
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
            job = self._job
            if job is not None and job.state == "finished" and job.reason and self._reason_shown != job.id:
                self._reason_shown = job.id
                self._state.log.append(f"{job.status}: {job.reason}")
            self._show_monitor()

    def _follow(self, job_id: str, stage: str) -> None:
        self.followed = job_id
        self._state = TrainState(job_id=job_id, stage=stage)
        self._cursor = None
        self._show_monitor()

    def _show_monitor(self) -> None:
        if self._state is None:
            return
        job = self._job if self._job is not None and self._job.id == self.followed else None
        self.query_one(TrainMonitor).show(self._state, job.status if job else None,
                                          running=job is not None and job.state == "running")

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
        self._show_monitor()
        if len(self._state.weights) != self._weights_seen:
            self._weights_seen = len(self._state.weights)
            self.query_one(WeightsList).load(self.application)

    # --- cancel / resume -------------------------------------------------------------------------
    def action_cancel(self) -> None:
        job = self._job
        if self.followed is None or job is None:
            self.notify("No training job to cancel.", severity="warning")
            return
        if job.state == "finished":
            self.notify(f"Job {job.id} already finished ({job.status}); nothing to cancel.", severity="warning",
                        markup=False)
            return
        what = ("It is running: its processes are stopped; the last checkpoint is kept, so r resumes from it."
                if job.state == "running" else "It is queued: it will never start.")

        def answered(yes: bool | None) -> None:
            if yes:
                self._cancel(job.id)

        self.app.push_screen(ConfirmScreen(f"Cancel job {job.id} ({job.stage})?\n{what}", yes_label="Cancel job"),
                             answered)

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
        stage = self._state.stage if self._state is not None else None
        run = requests.finished_run(self.application, stage) if stage in requests.TRAIN_STAGES else None
        if run is not None:
            self._ask_how_to_go_on(run)
            return
        self._pinned = None
        self._resume(self.followed)

    def _ask_how_to_go_on(self, run: requests.FinishedRun) -> None:
        """A finished run: more epochs, start over, or a new run from an export (asked in a dialog)."""
        bases = requests.base_exports(self.application, run.stage)

        def answered(choice: RunChoice | None) -> None:
            if choice is None:
                return
            try:
                settings = self.query_one(TrainForm).settings()
                if choice.way == "more":
                    plan = requests.more_epochs_request(self.application, run, choice.epochs or 0, settings)
                else:
                    plan = requests.start_over_request(self.application, run.stage, settings, base=choice.base)
            except (GsvError, ValueError) as e:
                self.show_error(e, title="not started")
                return
            if choice.way != "more":
                self.notify(f"The old {STAGE_NAMES[run.stage]} run is kept: its exports move to old-<time>/ in "
                            f"{run.weights_dir}.", markup=False, timeout=10)
            self._pinned = None
            self._submit_plan(plan)

        self.app.push_screen(RunChoiceScreen(run, bases), answered)

    @work(thread=True, group="submit-job", name="train-resume")
    def _resume(self, job_id: str) -> None:
        try:
            record = requests.resume_request(self.application, job_id)
        except GsvError as e:
            self.post_message(JobRefused("resume", e))
            return
        self.post_message(JobSubmitted(record.id, record.stage))
        self._checkup_chained(checkups.chain_after(self.application, record.id, list(record.gpus)))
        self.gsv_app.poke_jobs()

    # --- the checkup -----------------------------------------------------------------------------
    def _show_checkup_job(self, snapshot: JobsSnapshot) -> None:
        """Show the project's checkup job (running, else queued, else the latest); reload the
        report when a checkup job has succeeded since the last look."""
        project = self.application.project
        mine = [j for j in snapshot.jobs if j.stage == checkups.STAGE and project is not None
                and j.project == project.name]
        job = next((j for j in mine if j.state == "running"), None) \
            or next((j for j in mine if j.state == "queued"), None) \
            or max(mine, key=lambda j: j.created or 0.0, default=None)
        self.query_one(CheckupPanel).show_job(job)
        done = frozenset(j.id for j in mine if j.outcome == "succeeded")
        if self._checkups_done is not None and done - self._checkups_done:
            self._load_checkup()
        self._checkups_done = done

    @work(thread=True, group="checkup-read", exclusive=True, name="checkup-read")
    def _load_checkup(self) -> None:
        self.post_message(_Checkup(checkups.latest(self.application)))

    def on__checkup(self, message: _Checkup) -> None:
        self.query_one(CheckupPanel).show_report(message.view)

    def on_checkup_panel_after_training_changed(self, message: CheckupPanel.AfterTrainingChanged) -> None:
        try:
            checkups.set_after_training(self.application, message.on)
        except GsvError as e:
            self.show_error(e)
            self.query_one(CheckupPanel).set_after_training(checkups.after_training(self.application))
            return
        self.notify("A checkup will follow each training run." if message.on
                    else "No checkup after training (k still runs one).", markup=False, timeout=4)

    async def action_checkup_send(self) -> None:
        row = self.query_one(CheckupPanel).current()
        if row is None:
            self.notify("No checkup report yet: one runs after training, or press "
                        f"{self.key_text('training.checkup')}.", severity="warning", markup=False)
            return
        await self._send_pair(row.pair)

    def action_checkup_play(self) -> None:
        take = self.query_one(CheckupPanel).next_take()
        if take is None:
            self.notify("No checkup takes to play yet.", severity="warning", markup=False)
            return
        result = self.player.play(take.path, info={"title": take.path.name, "text": take.sentence})
        if result.notice:
            self.notify(result.notice, severity="warning" if not result.ok else "information", markup=False)


    def action_checkup_now(self) -> None:
        if self.application.project is None:
            self.notify("Open a project first (key p).", severity="warning", markup=False)
            return
        self._submit_checkup()

    @work(thread=True, group="submit-job", name="checkup-submit")
    def _submit_checkup(self) -> None:
        try:
            record = checkups.submit(self.application)
        except GsvError as e:
            self.post_message(JobRefused(checkups.STAGE, e))
            return
        self.post_message(JobSubmitted(record.id, record.stage))
        self.gsv_app.poke_jobs()

    def on_unmount(self) -> None:
        self.stop_playback()

    # --- weights → inference ---------------------------------------------------------------------
    async def action_send_to_inference(self) -> None:
        wl = self.query_one(WeightsList)
        wl.load(self.application)
        pair = wl.pair()
        if not pair:
            self.notify("No exported weights yet: train first.", severity="warning")
            return
        await self._send_pair(pair)

    async def _send_pair(self, pair: dict[str, str]) -> None:
        """Open Inference with ``pair`` ({"gpt": path, "sovits": path}) chosen in its weights lists."""
        await self.app.switch_mode("inference")
        screen = self.app.screen
        form = getattr(screen, "form", None)
        if form is not None:  # only the weights change: the text and reference typed there stay
            for kind, path in pair.items():
                form.add_weights(kind, path)
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
        yield PaletteCommand("Run a checkup", "score every export and recommend a GPT/SoVITS pair (a job)",
                             self.action_checkup_now)
