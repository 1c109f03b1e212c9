"""Inference mode (key 4): speak new text in the voice — choose models, a reference, the text; generate.

Generation is an ``infer`` job (the TUI never loads a model): its progress shows under the
form, and each finished take lands in the project's ``outputs/`` with a record of its
parameters (``<take>.json``). The recent takes are listed to compare; a take can be played
(locally, or through the listening bridge when the app runs one), saved elsewhere, or loaded
back into the form (ctrl+g: its weights, parameters and seed; nothing starts until ctrl+r, so
any field can be changed first).

The weights a synthesis uses are the ones the GPT and SoVITS lists show — the form has no second,
hidden source (a typed path joins the list; see :class:`InferForm`).

Choosing the reference from elsewhere — the Transcripts screen's ``r`` key asks the application
layer to ``set_reference``; it stores the choice with the project and tells this screen at once
(no polling). On mount the screen shows the project's stored reference. Code that wants to hand
over a clip directly calls :meth:`InferenceScreen.use_reference` or posts :class:`UseReference`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Input, Label, ProgressBar, Select, Static

from backend.app import inference as requests
from backend.app import serve as serving
from backend.app.inference import lang_option, reference_note
from backend.errors import GsvError

from .. import keymap
from ..jobwatch import JobsSnapshot, JobView
from ..widgets.infer_form import InferForm
from ..widgets.job_bar import busy, idle_bar, settle
from ..widgets.serve_panel import ServePanel
from ..widgets.take_history import TakeHistory
from .base import ModeScreen
from .save_as import SaveAsScreen

if TYPE_CHECKING:
    from backend.app import Project

KEYS = keymap.bindings("inference")


class UseReference(Message):
    """Make ``audio_path`` (with its text and language) the reference of the Inference screen."""

    def __init__(self, audio_path: str, text: str | None = None, language: str | None = None) -> None:
        super().__init__()
        self.audio_path = audio_path
        self.text = text
        self.language = language


class _Lists(Message):
    def __init__(self, gpt: list[tuple[str, str]], sovits: list[tuple[str, str]], clips: list[tuple[str, str]],
                 clip_info: dict[str, tuple[str, str | None]]) -> None:
        super().__init__()
        self.gpt, self.sovits, self.clips, self.clip_info = gpt, sovits, clips, clip_info


class _RefNote(Message):
    def __init__(self, path: str, note: str) -> None:
        super().__init__()
        self.path = path
        self.note = note


class InferenceScreen(ModeScreen):
    MODE = "inference"
    BINDINGS = KEYS
    DEFAULT_CSS = """
    InferenceScreen #infer-run { height: 1; }
    InferenceScreen #infer-progress { width: 24; }
    InferenceScreen #infer-status { width: 1fr; padding: 0 1; }
    InferenceScreen #takes-title { color: $text-muted; }
    """

    job_id: str | None = None
    _clip_info: dict[str, tuple[str, str | None]] = {}
    _shown_final: str | None = None
    _settings_ref: tuple[str, str, str] | None = None
    _trained: set[str] | None = None

    serve_job_id: str | None = None
    serve_port: int = serving.DEFAULT_PORT  # api_v2's; 0 = any free port
    _serve_log: "serving.ServeLog | None" = None

    def compose_body(self) -> ComposeResult:
        yield ServePanel(id="serve-panel")
        with VerticalScroll(id="infer-scroll"):
            yield InferForm(id="infer-form")
            with Horizontal(id="infer-run"):
                yield idle_bar(id="infer-progress")
                yield Static("", id="infer-status")
            yield Label("Recent takes", id="takes-title")
            yield TakeHistory(id="takes")

    @property
    def form(self) -> InferForm:
        return self.query_one(InferForm)

    # --- project, lists, reference -------------------------------------------------------------
    def on_project(self, project: "Project | None") -> None:
        self._clip_info = {}
        if project is not None:
            self.form.query_one("#lang", Select).value = lang_option(project.language) or "all_zh"
            self.form.query_one("#ref-lang", Select).value = lang_option(project.language) or "all_zh"
        self.action_refresh_lists()
        self.show_takes()
        self._settings_ref = None
        self._reference_from_settings(project)
        if self.serve_job_id is not None:  # another project's server is not this one's
            self.serve_job_id, self._serve_log = None, None
            self.query_one(ServePanel).hide()
        self._find_serve_job(self.gsv_app.jobs_snapshot)

    def on_mount(self) -> None:
        self.set_interval(0.5, self._poll_serve_log)
        self._unsubscribe = self.application.on_reference(
            lambda ref: self.post_message(UseReference(ref["audio_path"], ref.get("text"), ref.get("language"))))

    def _reference_from_settings(self, project: "Project | None") -> None:
        ref = self.application.reference() if project is not None else None
        if ref is None:
            return
        key = (str(ref["audio_path"]), str(ref.get("text", "")), str(ref.get("language", "")))
        if key == self._settings_ref:
            return  # already shown; do not undo the person's edits
        self._settings_ref = key
        self.use_reference(key[0], key[1], key[2] or None)

    def use_reference(self, audio_path: str, text: str | None = None, language: str | None = None) -> None:
        """Use this clip as the reference. ``language``: a project language (zh, en, …) or a UI option."""
        self.form.set_reference(audio_path, text, lang_option(language) if language else None)
        self.check_reference(audio_path)

    def on_use_reference(self, message: UseReference) -> None:
        self.use_reference(message.audio_path, message.text, message.language)

    @work(thread=True, group="infer-lists", exclusive=True)
    def action_refresh_lists(self) -> None:
        app = self.application
        clips = requests.reference_clips(app)
        self.post_message(_Lists(requests.weights(app, "gpt"), requests.weights(app, "sovits"),
                                 [(c.label, c.audio_path) for c in clips],
                                 {c.audio_path: (c.text, c.language) for c in clips}))

    def on__lists(self, message: _Lists) -> None:
        self.form.set_weight_options("gpt", message.gpt)
        self.form.set_weight_options("sovits", message.sovits)
        self.form.set_clip_options(message.clips)
        self._clip_info = message.clip_info

    @on(Select.Changed, "#ref-select")
    def _clip_picked(self, event: Select.Changed) -> None:
        value = event.value
        if not isinstance(value, str):
            return
        text, lang = self._clip_info.get(value, (None, None))
        self.form.query_one("#ref-path", Input).value = ""
        if text is not None:
            self.form.query_one("#ref-text", Input).value = text
        option = lang_option(lang) if lang else None
        if option:
            self.form.query_one("#ref-lang", Select).value = option
        self.check_reference(value)

    @on(Input.Submitted, "#ref-path")
    @on(Input.Blurred, "#ref-path")
    def _ref_typed(self, event: Any) -> None:
        path = self.form.reference_path()
        if path:
            self.check_reference(path)

    @work(thread=True, group="ref-note", exclusive=True)
    def check_reference(self, path: str) -> None:
        self.post_message(_RefNote(path, reference_note(path)))

    def on__ref_note(self, message: _RefNote) -> None:
        self.form.note_reference(f"{Path(message.path).name}: {message.note}" if message.note else "")

    # --- generating ------------------------------------------------------------------------------
    def action_generate(self) -> None:
        project = self.application.project
        if project is None:
            self.notify("Open a project first (key p): takes are saved in its outputs/ folder.",
                        severity="warning", markup=False)
            return
        settings, problems = self.form.settings()
        if problems:
            self.notify("; ".join(problems), title="cannot generate yet", severity="error", markup=False)
            return
        try:
            params = requests.infer_request(self.application, settings)
        except GsvError as e:
            self.show_error(e, title="cannot generate yet")
            return
        self._status(f"starting with {Path(settings.gpt or '').name} + {Path(settings.sovits or '').name}…",
                     "italic")
        self.submit_job("infer", params, gpus=requests.infer_gpus(self.application))

    def on_job_submitted(self, message: Any) -> None:
        if message.stage == serving.SERVE_STAGE:
            self._follow_serve_job(message.job_id)
        if message.stage == "infer":
            self.job_id = message.job_id
            self._shown_final = None
        super().on_job_submitted(message)

    def on_jobs(self, snapshot: JobsSnapshot) -> None:
        if self.job_id is not None:
            self._show_job(snapshot.get(self.job_id))
        if self.serve_job_id is not None:
            self._show_serve_job(snapshot.get(self.serve_job_id))
            self._poll_serve_log()
        else:
            self._find_serve_job(snapshot)
        trained = {j.id for j in snapshot.jobs if j.stage.startswith("train") and j.outcome == "succeeded"}
        if self._trained is not None and trained - self._trained:
            self.action_refresh_lists()  # a training run exported new weights
        self._trained = trained

    def _status(self, text: str, style: str = "") -> None:
        self.query_one("#infer-status", Static).update(Text(text, style=style))

    def _show_job(self, job: JobView | None) -> None:
        if job is None:
            return
        bar = self.query_one("#infer-progress", ProgressBar)
        p = job.progress
        if p is not None and p.total:
            bar.update(total=p.total, progress=p.done)
        elif job.state == "running":
            busy(bar)  # loading models: no count yet
        if job.state != "finished":
            done = f"{int(p.done)}/{int(p.total)} pieces" if p is not None and p.total else "loading models"
            self._status(f"{job.status}: {done}", "italic")
            return
        if self._shown_final == job.id:
            return
        self._shown_final = job.id
        settle(bar, complete=job.outcome == "succeeded")
        if job.outcome == "succeeded":
            takes = self.show_takes()
            take = takes[0] if takes else None
            what = f"{take.wav.name} · {take.duration:.1f} s · seed {take.seed}" if take else "done"
            self._status(f"done: {what} — {self.key_text('inference.play')} plays it", "green")
            for w in (take.record.get("warnings", []) if take else []):
                self.notify(w, severity="warning", markup=False, timeout=8)
        else:
            why = job.message or job.reason or job.outcome or "failed"
            self._status(f"{job.outcome}: {why}", "red")

    # --- serving the voice over HTTP ----------------------------------------------------------------
    def action_serve(self) -> None:
        """Start the serve job for the open project with the chosen weights and reference, or stop
        the one running. The form need not be complete: what it leaves open comes from the project
        (its latest exports, the reference chosen in review, its language)."""
        if self.application.project is None:
            self.notify("Open a project first (key p): the server speaks with its voice.", severity="warning",
                        markup=False)
            return
        if self.serve_job_id is not None:
            job = self.gsv_app.jobs_snapshot.get(self.serve_job_id)
            if job is None or job.state != "finished":
                self.query_one(ServePanel).show_log("stopping…", self._serve_log, None)
                self._stop_serving(self.serve_job_id)
                return
        form = self.form
        ref = form.reference_path()
        settings = serving.ServeSettings(
            gpt=_path(form.weights("gpt")), sovits=_path(form.weights("sovits")), port=self.serve_port,
            ref=_path(ref), ref_text=(form.query_one("#ref-text", Input).value.strip() or None) if ref else None,
            ref_lang=str(form.query_one("#ref-lang", Select).value) if ref else None)
        try:
            params = serving.project_serve_request(self.application, settings)
        except GsvError as e:
            self.show_error(e, title="cannot serve")
            return
        self.query_one(ServePanel).show_log("starting…", None, None)
        self.submit_job(serving.SERVE_STAGE, params, gpus=requests.infer_gpus(self.application))

    @work(thread=True, group="serve-stop", exclusive=True)
    def _stop_serving(self, job_id: str) -> None:
        try:
            self.application.cancel(job_id)  # TERM, then the server's few seconds of grace
        except GsvError as e:
            self.app.call_from_thread(self.show_error, e, title="could not stop the server")
        self.gsv_app.poke_jobs()

    def on_job_refused(self, message: Any) -> None:
        if message.stage == serving.SERVE_STAGE and self.serve_job_id is None:
            self.query_one(ServePanel).hide()  # the base class says why

    def _find_serve_job(self, snapshot: JobsSnapshot) -> None:
        """A serve job outlives the TUI: show the open project's queued or running one on return."""
        project = self.application.project
        if self.serve_job_id is not None or project is None:
            return
        live = [j for j in snapshot.jobs if j.stage == serving.SERVE_STAGE and j.project == project.name
                and j.state != "finished"]
        if live:
            self._follow_serve_job(max(live, key=lambda j: j.created or 0.0).id)

    def _follow_serve_job(self, job_id: str) -> None:
        if job_id != self.serve_job_id:
            self.serve_job_id = job_id
            self._serve_log = serving.ServeLog.of_job(self.application, job_id)
        self._show_serve_job(self.gsv_app.jobs_snapshot.get(job_id))
        self._poll_serve_log()

    def _poll_serve_log(self) -> None:
        """The request log, also between job updates (two equal request lines change no job view)."""
        if self.serve_job_id is not None and self._serve_log is not None:
            self._read_serve_log(self._serve_log, self.serve_job_id)

    @work(thread=True, exclusive=True, group="serve-log", exit_on_error=False)
    def _read_serve_log(self, log: "serving.ServeLog", job_id: str) -> None:
        """Read the server's new events off the UI thread; show them when there were any."""
        if log.read_new():
            self.app.call_from_thread(self._refresh_serve_job, job_id)

    def _refresh_serve_job(self, job_id: str) -> None:
        if job_id == self.serve_job_id:
            self._show_serve_job(self.gsv_app.jobs_snapshot.get(job_id))

    def _show_serve_job(self, job: JobView | None) -> None:
        log = self._serve_log
        stop_key = self.key_text("inference.serve")
        if job is None or job.state == "queued":
            status = (job.waiting or "queued") if job is not None else "starting…"
            self.query_one(ServePanel).show_log(status, log, stop_key)
        elif job.state == "running":
            self.query_one(ServePanel).show_log("serving" if log and log.url else "loading the voice…", log, stop_key)
        else:
            why = "" if job.outcome == "cancelled" else f": {job.message or job.reason or ''}"
            self.query_one(ServePanel).show_log(f"stopped ({job.outcome}{why}) · {stop_key} serves again",
                                                log, None)

    # --- takes -----------------------------------------------------------------------------------
    def show_takes(self) -> list[Any]:
        takes = requests.takes(self.application)
        self.query_one(TakeHistory).show(takes)
        return takes

    def _take(self) -> Any | None:
        table = self.query_one(TakeHistory)
        take = table.current() or (table.takes[0] if table.takes else None)
        if take is None:
            self.notify("No takes yet: generate one first.", markup=False, timeout=3)
        return take


    def action_play(self) -> None:
        take = self._take()
        if take is None:
            return
        result = self.player.play(take.wav, info={"title": take.wav.name, "text": take.params.get("text", "")})
        if result.notice:
            self.notify(result.notice, severity="warning" if not result.ok else "information", markup=False)

    def action_save_as(self) -> None:
        take = self._take()
        if take is None:
            return

        def done(target: str | None) -> None:
            if not target:
                return
            try:
                saved = requests.save_take(take, target)
            except (OSError, GsvError) as e:
                self.notify(f"could not save: {e}", severity="error", markup=False)
                return
            self.notify(f"Saved {saved}", markup=False, timeout=4)

        self.app.push_screen(SaveAsScreen("Save the take as (a .wav path)", str(take.wav)), done)

    def action_regenerate(self) -> None:
        """Fill the form with the take's settings; the person starts it (ctrl+r) after any change."""
        take = self._take()
        if take is None:
            return
        self.form.load(take.regenerate_params())
        self.form.settings()  # shows at once what would stop it (a weights file gone, say)
        self._status(f"{take.wav.name} loaded (seed {take.seed}): change anything, then "
                     f"{self.key_text('inference.generate')} generates", "italic")

    def action_focus_takes(self) -> None:
        self.query_one(TakeHistory).focus()

    def on_unmount(self) -> None:
        unsubscribe = getattr(self, "_unsubscribe", None)
        if unsubscribe is not None:
            unsubscribe()
        self.stop_playback()


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None
