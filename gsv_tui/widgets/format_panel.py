"""The "Format" action of the Training screen: version, GPUs, progress per step, the summary.

Formatting (``gsv format``) turns the reviewed transcript into the experiment folder the trainers
read. This panel builds the stage's parameters from the open project, asks its screen to start the
job (:class:`FormatPanel.Requested`), follows the job's progress (one step after the other: text,
ssl, sv for v2Pro*, semantic) and, once it succeeded, shows what the run kept and skipped — read
from the summary the run leaves in the experiment folder, so it is there again after a restart.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Input, Label, ProgressBar, Select, Static

from backend.app import describe
from backend.app import training as requests
from backend.app.training import FORMAT_VERSIONS as VERSIONS
from backend.app.training import parse_gpus
from backend.errors import GsvError

from .job_bar import busy, idle_bar, settle
from .slice_summary import duration_text

if TYPE_CHECKING:
    from backend.app import Application, Project
    from backend.app.summaries import FormatSummary

    from ..jobwatch import JobView

STEP_NAMES = {"text": "text + BERT", "ssl": "HuBERT + 32 kHz wavs", "sv": "speaker embeddings",
              "semantic": "semantic tokens"}
MAX_SKIPS_SHOWN = 8


def summary_text(summary: "FormatSummary") -> Text:
    """Kept / skipped / duration, each step's work, and the skipped clips with their reasons."""
    t = Text()
    skipped = summary.skipped
    t.append(f"{summary.kept} clips kept", style="bold green" if summary.kept else "bold red")
    t.append(f" · {len(skipped)} skipped · {duration_text(summary.seconds)}")
    t.append(f" · {summary.version}\n")
    for step in summary.steps:
        t.append(f"  {STEP_NAMES.get(step.name, step.name)}: {step.done} computed, {step.reused} up to date\n",
                 style="dim")
    for s in skipped[:MAX_SKIPS_SHOWN]:
        t.append(f"  skipped {s.item} ({s.step}): ", style="bold")
        t.append(f"{s.reason}\n", style="red")
    if len(skipped) > MAX_SKIPS_SHOWN:
        t.append(f"  … and {len(skipped) - MAX_SKIPS_SHOWN} more (gsv jobs show)\n", style="italic")
    if summary.kept:
        t.append("Ready to train (SoVITS and GPT read this folder).", style="green")
    return t


class FormatPanel(Vertical):
    """Format the open project's transcript for training, as a job."""

    DEFAULT_CSS = """
    FormatPanel { height: auto; max-height: 16; border-bottom: solid $primary-darken-2; }
    FormatPanel Horizontal { height: auto; }
    FormatPanel Label { padding: 1 1 0 0; }
    FormatPanel #format-version { width: 18; }
    FormatPanel #format-gpus { width: 14; }
    FormatPanel #format-progress-row { display: none; }
    FormatPanel #format-summary { height: auto; max-height: 10; padding: 0 1; }
    """

    class Requested(Message):
        """Start the ``format`` stage with these parameters (its Params) on these GPUs."""

        def __init__(self, params: Any, gpus: list[str] | None) -> None:
            super().__init__()
            self.params = params
            self.gpus = gpus

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.project: Project | None = None
        self.application: Application | None = None
        self.job_id: str | None = None
        self._final_shown: str | None = None

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Label("Format for")
            yield Select([(v, v) for v in VERSIONS], value="v2Pro", allow_blank=False, id="format-version")
            yield Label("GPUs")
            yield Input(placeholder="auto", id="format-gpus")
            yield Button("Format", id="format-start", variant="primary")
        with Horizontal(id="format-progress-row"):
            yield idle_bar(id="format-progress")
            yield Static("", id="format-status")
        yield Static("", id="format-summary")

    @property
    def version(self) -> str:
        """The version chosen to format for (the project's, unless changed here)."""
        return str(self.query_one("#format-version", Select).value)

    # --- state from the screen ----------------------------------------------------------------
    def set_project(self, project: Project | None, application: "Application | None" = None) -> None:
        self.project = project
        self.application = application
        if project is not None:
            self.query_one("#format-version", Select).value = project.version
        self._show_saved_summary()

    def _show_saved_summary(self) -> None:
        from backend.app.summaries import read_format_summary

        box = self.query_one("#format-summary", Static)
        if self.project is None:
            box.update(Text("Open a project to format its transcript.", style="italic"))
            return
        summary = read_format_summary(self.project.exp_dir)
        if summary is None:
            box.update(Text("Not formatted yet: choose the version and press Format.", style="italic"))
        else:
            box.update(summary_text(summary))

    def build_params(self) -> tuple[Any, list[str] | None]:
        """The stage parameters for the open project (raises GsvError for what cannot run)."""
        if self.project is None or self.application is None:
            raise GsvError("no project is open", "open or create one first (ctrl+o)")
        gpus = parse_gpus(self.query_one("#format-gpus", Input).value)
        return requests.format_request(self.application, self.version, gpus)

    @on(Button.Pressed, "#format-start")
    def start(self) -> None:
        try:
            params, gpus = self.build_params()
        except GsvError as e:
            self.query_one("#format-summary", Static).update(
                Text(describe(e), style="red"))
            return
        self.post_message(self.Requested(params, gpus))

    # --- the job ------------------------------------------------------------------------------
    def follow(self, job_id: str) -> None:
        self.job_id, self._final_shown = job_id, None
        self.query_one("#format-progress-row").display = True
        self.query_one("#format-status", Static).update(Text(f"job {job_id} queued", style="italic"))

    def show_job(self, job: JobView | None) -> None:
        if job is None or job.id != self.job_id:
            return
        bar = self.query_one("#format-progress", ProgressBar)
        status = self.query_one("#format-status", Static)
        p = job.progress
        if job.state != "finished":
            if p is not None and p.total:
                bar.update(total=p.total, progress=p.done)
                step = STEP_NAMES.get(p.label or "", p.label or "")
                status.update(Text(f"{step}: {int(p.done)}/{int(p.total)} clips", style="italic"))
            else:
                if job.state == "running":
                    busy(bar)
                status.update(Text(job.status, style="italic"))
            return
        if self._final_shown == job.id:
            return
        self._final_shown = job.id
        settle(bar, complete=job.outcome == "succeeded")
        if job.outcome == "succeeded":
            status.update(Text("formatted", style="green"))
            self._show_saved_summary()
        else:
            why = job.reason or job.message or "see the log in Jobs (5)"
            status.update(Text(f"{job.status}", style="bold red"))
            self.query_one("#format-summary", Static).update(Text(f"Formatting {job.status}: {why}", style="red"))
