"""Inference mode (key 4): speak new text in the voice — choose models, a reference, the text; generate.

Generation is an ``infer`` job (the TUI never loads a model): its progress shows under the
form, and each finished take lands in the project's ``outputs/`` with a record of its
parameters (``<take>.json``). The recent takes are listed to compare; a take can be played
(locally, or through the listening bridge when the app runs one), saved elsewhere, or
regenerated (same parameters and seed; change any field first to vary it).

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
from backend.app.inference import lang_option, reference_note
from backend.errors import GsvError

from .. import keymap
from ..jobwatch import JobsSnapshot, JobView
from ..keymap import KeySpec
from ..widgets.infer_form import InferForm
from ..widgets.take_history import TakeHistory
from .base import ModeScreen
from .save_as import SaveAsScreen

if TYPE_CHECKING:
    from backend.app import Project
    from backend.app.playback import PlayerChooser

KEYS = keymap.define("inference", "Inference screen", [
    KeySpec("inference.generate", "ctrl+r", "generate", "Generate", priority=True,
            help="Synthesise the text with the chosen models and reference (a job)"),
    KeySpec("inference.play", "ctrl+e", "play", "Play", priority=True,
            help="Play the selected take (or stop playing)"),
    KeySpec("inference.save_as", "ctrl+s", "save_as", "Save as", priority=True,
            help="Copy the selected take (and its record) to a path of your choice"),
    KeySpec("inference.regenerate", "ctrl+g", "regenerate", "Regenerate", priority=True,
            help="Load the selected take's parameters and seed into the form and generate again"),
    KeySpec("inference.takes", "ctrl+t", "focus_takes", "Takes", priority=True,
            help="Move to the list of recent takes"),
    KeySpec("inference.refresh", "ctrl+l", "refresh_lists", "Refresh", show=False, priority=True,
            help="Look again for exported weights and reviewed clips"),
])


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
    _player: "PlayerChooser | None" = None
    _clip_info: dict[str, tuple[str, str | None]] = {}
    _shown_final: str | None = None
    _settings_ref: tuple[str, str, str] | None = None
    _trained: set[str] | None = None

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="infer-scroll"):
            yield InferForm(id="infer-form")
            with Horizontal(id="infer-run"):
                yield ProgressBar(id="infer-progress", show_eta=False)
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

    def on_mount(self) -> None:
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
        self._status("starting…", "italic")
        self.submit_job("infer", params, gpus=requests.infer_gpus(self.application))

    def on_job_submitted(self, message: Any) -> None:
        if message.stage == "infer":
            self.job_id = message.job_id
            self._shown_final = None
        super().on_job_submitted(message)

    def on_jobs(self, snapshot: JobsSnapshot) -> None:
        if self.job_id is not None:
            self._show_job(snapshot.get(self.job_id))
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
        if job.state != "finished":
            done = f"{int(p.done)}/{int(p.total)} pieces" if p is not None and p.total else "loading models"
            self._status(f"{job.status}: {done}", "italic")
            return
        if self._shown_final == job.id:
            return
        self._shown_final = job.id
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

    @property
    def player(self) -> "PlayerChooser":
        if self._player is None:
            from backend.app.playback import PlayerChooser

            self._player = PlayerChooser()
            bridge = getattr(self.app, "playback_front", None)
            if callable(bridge):  # the listening bridge, when the app runs one
                self._player.add_front(bridge)
        return self._player

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
        take = self._take()
        if take is None:
            return
        self.form.load(take.regenerate_params())
        self.action_generate()

    def action_focus_takes(self) -> None:
        self.query_one(TakeHistory).focus()

    def on_unmount(self) -> None:
        unsubscribe = getattr(self, "_unsubscribe", None)
        if unsubscribe is not None:
            unsubscribe()
        if self._player is not None:
            self._player.stop()
