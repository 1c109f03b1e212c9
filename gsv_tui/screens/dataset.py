"""Dataset mode (key 1): recordings in, 32 kHz clips out — the official slicer as a tracked job.

Pick a file or folder (the field completes paths; ctrl+o opens a browser), adjust the slicer's
parameters (defaults are the official WebUI's; a value that breaks a rule is explained under the
fields), and start: the ``slice`` stage runs as a job (so it survives closing the TUI), its
per-file progress shows here, and when it ends the result appears — clips, total duration, a
duration histogram and what to watch out for. ctrl+t transcribes the clips (the ``asr`` stage, a
job) with the engine the project's language calls for; Transcripts (2) shows the result.

Submitting a job starts a process, so it runs in a thread worker; progress comes from the app's
job watcher (``on_jobs``), never from polling here.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Label, ProgressBar, Static

from backend.app import dataset as requests
from backend.errors import GsvError

from .. import keymap
from ..commands import PaletteCommand
from ..jobwatch import JobsSnapshot, JobView
from ..messages import JobSubmitted
from ..widgets.path_input import PathInput
from ..widgets.slice_form import SliceForm
from ..widgets.slice_summary import SliceSummaryView, duration_text
from .asr_dialog import AsrChoice, AsrDialog
from .base import ModeScreen
from .path_browser import PathBrowser

if TYPE_CHECKING:
    from backend.app import Project
    from backend.app.summaries import SliceSummary

KEYS = keymap.bindings("dataset")


class DatasetScreen(ModeScreen):
    MODE = "dataset"
    BINDINGS = KEYS
    # Focus starts in the path field: a path typed on arrival goes there (a ``p`` in it must not
    # open the project picker). The mode keys still work while it is empty; escape leaves it for
    # the result pane.
    AUTO_FOCUS = "#slice-input"
    HOME_FOCUS = "#slice-summary"
    DEFAULT_CSS = """
    #dataset-pane { height: 1fr; }
    #input-row { height: 1; }
    #input-label { width: 7; padding: 0 1; }
    #slice-input { width: 1fr; margin-right: 1; }
    #input-hint { height: 1; padding: 0 1; color: $text-muted; }
    #slice-target { height: 1; padding: 0 1; }
    #progress-row { height: 1; }
    #slice-progress { width: 40; padding: 0 1; }
    #slice-status { width: 1fr; }
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.job_id: str | None = None
        self.job_out_dir: Path | None = None
        self._shown_final: str | None = None
        self.asr_job_id: str | None = None  # the transcription started here, followed to its end
        self._asr_shown_final: str | None = None

    # --- layout ---------------------------------------------------------------------------------
    def compose_body(self) -> ComposeResult:
        with Vertical(id="dataset-pane"):
            with Horizontal(id="input-row"):
                yield Label("Input", id="input-label")
                yield PathInput(placeholder="recording or folder of recordings (Tab completes)",
                                id="slice-input", compact=True)
            yield Static("", id="input-hint")
            yield SliceForm(id="slice-form")
            yield Static("", id="slice-target")
            with Horizontal(id="progress-row"):
                yield ProgressBar(total=None, show_eta=False, id="slice-progress")
                yield Static("", id="slice-status")
            yield SliceSummaryView(id="slice-summary")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#progress-row").display = False  # shown once a job starts
        self._describe_input()

    # --- project and input ------------------------------------------------------------------
    def on_project(self, project: "Project | None") -> None:
        target = self.query_one("#slice-target", Static)
        if project is None:
            target.update(Text(f"No project open: press {self.key_text('app.project')} to open or create one.",
                               style="yellow"))
            self.query_one(SliceSummaryView).show(None)
            return
        target.update(Text(f"Clips go to {project.clips_dir}", style="dim"))
        if self.job_id is None:
            self._show_saved_summary(project.clips_dir, "Last slicing")

    def _show_saved_summary(self, clips_dir: Path, title: str) -> bool:
        summary = requests.last_slicing(clips_dir)
        view = self.query_one(SliceSummaryView)
        if summary is None:
            view.show_message(Text(f"No slicing result yet: choose an input and press {self.key_text('dataset.start')}.",
                                   style="italic"))
            return False
        view.show(summary, title)
        return True

    def on_input_changed(self, event: PathInput.Changed) -> None:
        if event.input.id == "slice-input":
            self._describe_input()

    def on_input_submitted(self, event: PathInput.Submitted) -> None:
        if event.input.id == "slice-input":
            self.query_one("#param-threshold").focus()

    def input_path(self) -> Path | None:
        # Pasted paths often come quoted, or (copied on Windows) with an invisible U+202A in front.
        raw = self.query_one("#slice-input", PathInput).value.strip().strip("'\"\u202a").strip()
        return Path(raw).expanduser().absolute() if raw else None

    def _describe_input(self) -> None:
        hint = self.query_one("#input-hint", Static)
        path = self.input_path()
        if path is None:
            hint.update(Text(f"A file, or a folder of them (any audio or video format) · "
                             f"{self.key_text('dataset.browse')} browses", style="dim"))
            return
        try:
            if path.is_dir():
                n = sum(1 for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
                hint.update(Text(f"folder with {n} file(s)", style="green" if n else "yellow"))
            elif path.is_file():
                hint.update(Text(f"file, {path.stat().st_size / 1e6:.1f} MB", style="green"))
            else:
                hint.update(Text("no such file or folder", style="red"))
        except OSError as e:
            hint.update(Text(f"cannot read it: {e.strerror or e}", style="red"))

    def action_browse(self) -> None:
        start = self.input_path() or Path.cwd()
        self.app.push_screen(PathBrowser(start), self._browsed)

    def _browsed(self, path: Path | None) -> None:
        if path is not None:
            field = self.query_one("#slice-input", PathInput)
            field.value = str(path)
            field.cursor_position = len(field.value)
            field.focus()

    # --- starting -----------------------------------------------------------------------------
    def build_params(self) -> Any:
        """The slice stage's Params from the screen, or GsvError saying what is missing or wrong."""
        path = self.input_path()
        values, problems = self.query_one(SliceForm).values()
        if problems:
            raise GsvError("invalid slicer parameters: " + "; ".join(problems), "correct the marked fields")
        return requests.slice_request(self.application, [path] if path is not None else [], values)

    def action_start(self) -> None:
        if self.job_id is not None:
            job = self.gsv_app.jobs_snapshot.get(self.job_id)
            if job is None or job.state != "finished":
                self.notify("Slicing is already running; watch it here or in Jobs (5).", markup=False)
                return
        try:
            params = self.build_params()
        except GsvError as e:
            self.show_error(e)
            bad = self.query_one(SliceForm).first_invalid()
            (bad or self.query_one("#slice-input")).focus()
            return
        self.query_one("#progress-row").display = True
        self.query_one("#slice-status", Static).update(Text("starting…", style="italic"))
        self.query_one(SliceSummaryView).show_message(Text("Slicing…", style="italic"))
        self._submit(params)

    @work(thread=True, exclusive=True, group="slice-submit", exit_on_error=False)
    def _submit(self, params: Any) -> None:
        try:
            job = self.application.submit("slice", params)
        except GsvError as e:
            self.app.call_from_thread(self._submit_failed, e)
            return
        self.app.call_from_thread(self._submitted, job.id, params.out_dir)

    def _submit_failed(self, e: GsvError) -> None:
        self.query_one("#slice-status", Static).update(Text("not started", style="red"))
        self.show_error(e)

    def _submitted(self, job_id: str, out_dir: Path) -> None:
        self.job_id, self.job_out_dir, self._shown_final = job_id, Path(out_dir), None
        self.query_one("#slice-status", Static).update(Text(f"job {job_id} queued", style="italic"))
        self.gsv_app.poke_jobs(reconcile=True)
        self._show_job(self.gsv_app.jobs_snapshot.get(job_id))

    # --- watching -------------------------------------------------------------------------------
    def on_jobs(self, snapshot: JobsSnapshot) -> None:
        if self.job_id is not None:
            self._show_job(snapshot.get(self.job_id))
        if self.asr_job_id is not None:
            self._show_asr_job(snapshot.get(self.asr_job_id))

    def on_job_submitted(self, message: JobSubmitted) -> None:
        if message.stage == "asr":
            self.asr_job_id, self._asr_shown_final = message.job_id, None

    def _show_asr_job(self, job: JobView | None) -> None:
        """How the transcription started here ended, on this screen: a failure's reason and fix
        (a missing model and the command that fetches it) must not hide on the Jobs screen."""
        if job is None or job.state != "finished" or self._asr_shown_final == job.id:
            return
        self._asr_shown_final = job.id
        status = self.query_one("#slice-status", Static)
        self.query_one("#progress-row").display = True
        if job.outcome == "succeeded":
            status.update(Text("transcribed · Transcripts (2) shows the .list", style="green"))
            self.notify("Transcription done: Transcripts (2) shows it.", markup=False, timeout=6)
            return
        why = job.message or job.reason or "see the log in Jobs (5)"
        status.update(Text(f"transcription {job.status}", style="bold red"))
        self.query_one(SliceSummaryView).show_message(Text(f"Transcription {job.status}: {why}", style="red"))
        self.notify(why, title=f"transcription {job.status}", severity="error", timeout=20, markup=False)

    def _show_job(self, job: JobView | None) -> None:
        if job is None:
            return
        bar = self.query_one("#slice-progress", ProgressBar)
        status = self.query_one("#slice-status", Static)
        p = job.progress
        if p is not None and p.total:
            bar.update(total=p.total, progress=p.done)
        if job.state != "finished":
            done = f"{int(p.done)}/{int(p.total)} files" if p is not None and p.total else job.state
            label = f" · {p.label}" if p is not None and p.label else ""
            status.update(Text(f"{job.status}: {done}{label}", style="italic"))
            return
        if self._shown_final == job.id:
            return
        self._shown_final = job.id
        assert self.job_out_dir is not None
        if job.outcome == "succeeded":
            summary = requests.last_slicing(self.job_out_dir)
            status.update(Text(f"done: {summary.clips if summary else '?'} clips · "
                               f"{self.key_text('dataset.asr')} transcribes them", style="green"))
            self.query_one(SliceSummaryView).show(summary, "Result")
            self.query_one(SliceSummaryView).focus()
        else:
            why = job.reason or job.message or "see the log in Jobs (5)"
            status.update(Text(f"{job.status}: {why}", style="bold red"))
            self.query_one(SliceSummaryView).show_message(Text(f"Slicing {job.status}: {why}", style="red"))

    def action_transcribe(self) -> None:
        project = self.application.project
        if project is None:
            self.notify("Open a project first (p).", markup=False)
            return
        if not any(p.suffix.lower() == ".wav" for p in project.clips_dir.glob("*.wav")):
            self.notify("The project has no clips yet: slice a recording first (ctrl+r).", markup=False)
            return
        engine = requests.asr_engine(self.application)
        existing = project.transcript_path.name if project.transcript_path.exists() else None
        self.app.push_screen(AsrDialog(engine, project.language, existing), self._asr_chosen)

    def _asr_chosen(self, choice: AsrChoice | None) -> None:
        project = self.application.project
        if choice is None or project is None:
            return
        params = requests.asr_request(self.application, choice.engine, choice.model, choice.language,
                                      choice.on_existing)
        self.submit_job("asr", params)
        self.notify(f"Transcribing with {choice.engine}; Transcripts (2) shows {project.transcript_path.name} "
                    "when the job is done.", markup=False, timeout=8)

    def palette_commands(self) -> Iterable[PaletteCommand]:
        yield PaletteCommand("Slice the input", "start the slicer job with these parameters", self.action_start)
        yield PaletteCommand("Browse for input", "pick a file or folder", self.action_browse)
        yield PaletteCommand("Transcribe the clips", "ASR job into the project's .list", self.action_transcribe)


def read_summary(clips_dir: Path) -> "SliceSummary | None":
    """The summary of the last slicing into ``clips_dir``, or None (missing or unreadable)."""
    return requests.last_slicing(clips_dir)


__all__ = ["DatasetScreen", "duration_text", "read_summary"]
