"""Dataset mode (key 1): recordings in, 32 kHz clips out — the official slicer as a tracked job.

Pick a file or folder (the field completes paths; ctrl+o opens a browser), adjust the slicer's
parameters (defaults are the official WebUI's; a value that breaks a rule is explained under the
fields), and start: the ``slice`` stage runs as a job (so it survives closing the TUI), its
per-file progress shows here, and when it ends the result appears — clips, total duration, a
duration histogram and what to watch out for. ctrl+t transcribes the clips (the ``asr`` stage, a
job) with the engine the project's language calls for; Transcripts (2) shows the result.
Before slicing, the Clean panel (folded; ctrl+n opens it) runs the ``clean`` stage on the
project's recordings and previews 10 seconds of it (without the runner, its key installs it: the
``install-cleaner`` job); an empty input slices ``clean/`` once it holds files (else ``raw/``),
and the line under the input says which.

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

from backend.app import clean as cleaning
from backend.app import dataset as requests
from backend.app import describe as describe_error
from backend.app.summaries import read_slice_summary
from backend.errors import GsvError

from .. import keymap
from ..commands import PaletteCommand
from ..jobwatch import JobsSnapshot, JobView
from ..messages import JobSubmitted
from ..widgets.clean_panel import CleanPanel
from ..widgets.path_input import PathInput
from ..widgets.slice_form import SliceForm
from ..widgets.slice_summary import SliceSummaryView, duration_text
from .asr_dialog import AsrChoice, AsrDialog
from .base import ModeScreen
from .path_browser import PathBrowser

if TYPE_CHECKING:
    from backend.app import Project

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
    #dataset-pane { height: 1fr; overflow-y: auto; }  /* the open Clean panel can make it taller */
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
        self.clean_job_id: str | None = None  # the clean, preview or runner-install job started here
        self._install_job: str | None = None
        self._clean_shown_final: str | None = None
        self.preview: tuple[Path, Path] | None = None  # (original, cleaned) of the pending/last preview
        self._preview_job: str | None = None
        self._pending_preview: tuple[Path, Path] | None = None

    # --- layout ---------------------------------------------------------------------------------
    def compose_body(self) -> ComposeResult:
        with Vertical(id="dataset-pane"):
            yield CleanPanel(cleaning.step_choices(), cleaning.runner_state(), id="clean-panel")
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
        self.call_after_refresh(self._show_clean_actions)

    # --- project and input ------------------------------------------------------------------
    def on_project(self, project: "Project | None") -> None:
        target = self.query_one("#slice-target", Static)
        if project is None:
            target.update(Text(f"No project open: press {self.key_text('app.project')} to open or create one.",
                               style="yellow"))
            self.query_one(SliceSummaryView).show(None)
            return
        target.update(Text(f"Clips go to {project.clips_dir}", style="dim"))
        self._describe_input()
        if self.job_id is None:
            self._show_saved_summary(project.clips_dir, "Last slicing")

    def _show_saved_summary(self, clips_dir: Path, title: str) -> bool:
        summary = read_slice_summary(clips_dir)
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
            default = cleaning.slice_input(self.application)
            if default is not None:
                hint.update(Text(f"Empty: slices the project's {default[1]} · or a file or folder · "
                                 f"{self.key_text('dataset.browse')} browses", style="dim"))
                return
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
        if path is None and (default := cleaning.slice_input(self.application)) is not None:
            path = default[0]
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
        if self.clean_job_id is not None:
            self._show_clean_job(snapshot.get(self.clean_job_id))

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
        summary = self.query_one(SliceSummaryView)
        summary.show_message(Text(f"Transcription {job.status}: {why}", style="red"))
        summary.scroll_visible(animate=False)  # below the fold at 80×24 when the panels above are open
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
            summary = read_slice_summary(self.job_out_dir)
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

    # --- cleaning -------------------------------------------------------------------------------
    @property
    def clean_panel(self) -> CleanPanel:
        return self.query_one(CleanPanel)

    def _show_clean_actions(self) -> None:
        k = self.key_text
        self.clean_panel.show_actions(k("dataset.clean"), k("dataset.preview"),
                                      f"{k('dataset.play_original')} / {k('dataset.play_cleaned')}",
                                      cleaning.runner_state(), k("dataset.install_cleaner"))

    def action_toggle_clean(self) -> None:
        panel = self.clean_panel
        panel.collapsed = not panel.collapsed
        if panel.collapsed:
            self.query_one("#slice-input").focus()  # focus must not stay inside the folded panel
        else:
            self._show_clean_actions()  # installed meanwhile? look again
            panel.query_one(".clean-step Checkbox").focus()
            panel.scroll_visible()

    def _clean_refused(self) -> bool:
        """True (and the install command shown) when the runner is missing."""
        runner = cleaning.runner_state()
        if runner.available:
            return False
        self.clean_panel.collapsed = False
        self._show_clean_actions()
        self.notify(f"{runner.message}\nfix: {runner.fix}", severity="error", timeout=10, markup=False)
        return True

    def action_clean(self) -> None:
        if self._clean_refused() or self._clean_running():
            return
        self._submit_clean(self.clean_panel.settings(), None)

    def action_preview(self) -> None:
        if self._clean_refused() or self._clean_running():
            return
        try:
            recording = cleaning.preview_recording(self.application, self.input_path())
        except GsvError as e:
            self.show_error(e)
            return
        if recording is None:
            self.notify("Nothing to preview: type a recording in Input, or put recordings in the project's raw/.",
                        markup=False)
            return
        self._submit_clean(self.clean_panel.settings(), recording)

    def _clean_running(self) -> bool:
        job = self.gsv_app.jobs_snapshot.get(self.clean_job_id) if self.clean_job_id else None
        if job is not None and job.state != "finished":
            what = "The runner's install" if job.id == self._install_job else "Cleaning"
            self.notify(f"{what} is already running; watch it here or in Jobs (5).", markup=False)
            return True
        return False

    def action_install_cleaner(self) -> None:
        if self._clean_running():
            return
        if cleaning.runner_state().available:
            self.clean_panel.collapsed = False
            self._show_clean_actions()
            self.notify("The cleaning runner is installed already.", markup=False)
            return
        self._submit_install()

    @work(thread=True, exclusive=True, group="clean-submit", exit_on_error=False)
    def _submit_install(self) -> None:
        try:  # looking at the environment runs its interpreter: not on the UI thread
            job = cleaning.submit_runner_install(self.application)
        except GsvError as e:
            self.app.call_from_thread(self._clean_submit_failed, e)
            return
        self.app.call_from_thread(self._install_submitted, job.id)

    def _install_submitted(self, job_id: str) -> None:
        self._install_job = job_id
        self._clean_submitted(job_id, None)

    @work(thread=True, exclusive=True, group="clean-submit", exit_on_error=False)
    def _submit_clean(self, settings: cleaning.CleanSettings, recording: Path | None) -> None:
        try:
            if recording is None:
                job = cleaning.submit_clean(self.application, settings)
                files = None
            else:
                job = cleaning.submit_preview(self.application, settings, recording)
                files = cleaning.preview_files(self.application, recording)
        except GsvError as e:
            self.app.call_from_thread(self._clean_submit_failed, e)
            return
        self.app.call_from_thread(self._clean_submitted, job.id, files)

    def _clean_submit_failed(self, e: GsvError) -> None:
        self.clean_panel.collapsed = False
        self.clean_panel.show_progress(0, 1, Text("not started", style="bold red"),
                                       Text(describe_error(e), style="red"))
        self.show_error(e)

    def _clean_submitted(self, job_id: str, preview: tuple[Path, Path] | None) -> None:
        self.clean_job_id, self._clean_shown_final = job_id, None
        self._preview_job = job_id if preview is not None else None
        if preview is not None:
            self.preview = None  # the earlier preview is replaced once this one is written
            self._pending_preview = preview
        self.clean_panel.collapsed = False
        self.clean_panel.show_progress(None, None, Text(f"job {job_id} queued", style="italic"))
        self.gsv_app.poke_jobs(reconcile=True)
        self._show_clean_job(self.gsv_app.jobs_snapshot.get(job_id))

    def _show_clean_job(self, job: JobView | None) -> None:
        """The clean (or preview) job started here: chunks of the current file, then how it ended,
        with a failure's reason and fix, on this screen."""
        if job is None:
            return
        panel = self.clean_panel
        what = {self._preview_job: "preview", self._install_job: "runner install"}.get(job.id, "cleaning")
        p = job.progress
        if job.state != "finished":
            if what == "runner install":  # pip's bytes of the file in hand, and its last step
                done = f"{p.done / 1e6:.1f}/{p.total / 1e6:.1f} MB" if p is not None and p.total else job.state
                label = f" of {p.label}" if p is not None and p.label else ""
                detail = Text(job.message, style="dim") if job.message else None
            else:
                done = f"{int(p.done)}/{int(p.total)} {p.unit or 'chunks'}" if p is not None and p.total else job.state
                label, detail = (f" of {p.label}" if p is not None and p.label else ""), None
            panel.show_progress(p.done if p else None, p.total if p else None,
                                Text(f"{what} {job.status}: {done}{label}", style="italic"), detail)
            return
        if self._clean_shown_final == job.id:
            return
        self._clean_shown_final = job.id
        if job.outcome == "succeeded":
            if what == "runner install":
                self._show_clean_actions()  # looked up afresh: the panel's keys replace the install line
                runner = self.clean_panel.runner
                text = (Text("runner installed · the keys below clean and preview", style="green") if runner.available
                        else Text(f"installed, yet {runner.message}", style="bold red"))
            elif what == "preview":
                self.preview = self._pending_preview
                keys = f"{self.key_text('dataset.play_original')} / {self.key_text('dataset.play_cleaned')}"
                text = Text(f"preview ready · {keys} play original / cleaned", style="green")
            else:
                text = Text("cleaned into clean/ · an empty input now slices it", style="green")
                self._describe_input()
            panel.show_progress(1, 1, text)
            panel.title = f"Clean: {what} done"
            return
        why = job.message or job.reason or "see the log in Jobs (5)"
        panel.collapsed = False
        panel.show_progress(0, 1, Text(f"{what} {job.status}", style="bold red"), Text(why, style="red"))
        panel.title = f"Clean: {what} {job.status}"
        self.notify(why, title=f"{what} {job.status}", severity="error", timeout=20, markup=False)


    def action_play_preview(self, which: str) -> None:
        if self.preview is None or not all(p.is_file() for p in self.preview):
            self.notify(f"No preview yet: {self.key_text('dataset.preview')} renders one.", markup=False)
            return
        wav = self.preview[0] if which == "original" else self.preview[1]
        result = self.player.play(wav, info={"title": f"{which}: {wav.name}", "text": ""})
        if result.notice:
            self.notify(result.notice, severity="warning" if not result.ok else "information", markup=False)

    def palette_commands(self) -> Iterable[PaletteCommand]:
        yield PaletteCommand("Clean panel", "separation, de-reverb, denoise before slicing", self.action_toggle_clean)
        yield PaletteCommand("Clean the recordings", "clean raw/ into clean/ (a job)", self.action_clean)
        yield PaletteCommand("Preview cleaning", "10 seconds through the chain", self.action_preview)
        yield PaletteCommand("Install the cleaning runner", "audio-separator, as a job", self.action_install_cleaner)
        yield PaletteCommand("Slice the input", "start the slicer job with these parameters", self.action_start)
        yield PaletteCommand("Browse for input", "pick a file or folder", self.action_browse)
        yield PaletteCommand("Transcribe the clips", "ASR job into the project's .list", self.action_transcribe)


__all__ = ["DatasetScreen", "duration_text"]
