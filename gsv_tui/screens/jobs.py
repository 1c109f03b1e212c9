"""Jobs mode (key 5): every job of the workspace with live progress, its log, and cancel.

The screen only shows what the app's job watcher thread reports (``on_jobs`` snapshots and
``LogLines`` messages); cancelling runs in a thread worker because it waits for the process
group to end.
"""

from __future__ import annotations

from typing import Iterable

from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable

from backend.app import Project, describe
from backend.errors import GsvError

from .. import keymap
from ..commands import PaletteCommand
from ..jobwatch import JobsSnapshot, JobView
from ..messages import LogLines
from ..widgets.job_detail import JobDetail
from ..widgets.jobs_table import JobsTable
from ..widgets.log_view import LogView
from .base import ModeScreen
from .confirm import ConfirmScreen

KEYS = keymap.bindings("jobs")

CANCEL_GRACE_S = 5.0


class JobsScreen(ModeScreen):
    MODE = "jobs"
    BINDINGS = KEYS

    def compose_body(self) -> ComposeResult:
        with Vertical(id="jobs-pane"):
            yield JobsTable(id="jobs-table")
            yield JobDetail(id="job-detail")
            yield LogView(id="job-log")

    only_open_project = False  # the GPU queue spans projects, so all jobs are shown at first

    def on_mount(self) -> None:
        self._show_scope()
        self.gsv_app.log_signal.subscribe(self, self._log_lines)
        self.query_one(LogView).refresh_title()
        self.query_one(JobsTable).focus()
        self.set_interval(1.0, self.query_one(JobsTable).tick, name="jobs-clock")

    # --- data in ------------------------------------------------------------------------------
    def on_jobs(self, snapshot: JobsSnapshot) -> None:
        project = self.application.project.name if self.application.project else None
        if self.only_open_project:
            snapshot = JobsSnapshot(tuple(j for j in snapshot.jobs if j.project == project))
        self.query_one(JobsTable).show(snapshot)
        self._selection_changed()

    def on_project(self, project: Project | None) -> None:
        self._show_scope()
        if self.only_open_project:
            self.on_jobs(self.gsv_app.jobs_snapshot)

    def _show_scope(self) -> None:
        project = self.application.project.name if self.application.project else None
        table = self.query_one(JobsTable)
        if self.only_open_project:
            table.border_title = f"jobs of {project or 'no project'} — a: all projects"
        else:
            table.border_title = "jobs of all projects" + (f" — a: only {project}" if project else "")

    def action_toggle_scope(self) -> None:
        self.only_open_project = not self.only_open_project
        self._show_scope()
        self.on_jobs(self.gsv_app.jobs_snapshot)

    def on_screen_resume(self) -> None:
        self._selection_changed()

    def on_screen_suspend(self) -> None:
        if not isinstance(self.app.screen, ModalScreen):  # another mode: nobody sees the log
            self.gsv_app.follow_log(None)

    def _log_lines(self, message: LogLines) -> None:
        self.query_one(LogView).show_lines(message.job_id, message.lines, message.reset)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._selection_changed()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_focus_log()  # enter on a job: read its log (t goes back to the table)

    def _selection_changed(self) -> None:
        job = self.selected_job
        self.query_one(JobDetail).show(job)
        if self.is_current:
            self.gsv_app.follow_log(job.id if job else None)

    @property
    def selected_job(self) -> JobView | None:
        jid = self.query_one(JobsTable).selected_id
        return self.gsv_app.jobs_snapshot.get(jid) if jid else None

    # --- actions -------------------------------------------------------------------------------
    def action_toggle_follow(self) -> None:
        log = self.query_one(LogView)
        log.set_follow(not log.follow)

    def action_refresh(self) -> None:
        self.gsv_app.poke_jobs(reconcile=True)

    def action_focus_log(self) -> None:
        self.query_one(LogView).focus()

    def action_focus_table(self) -> None:
        self.query_one(JobsTable).focus()

    def action_cancel_job(self) -> None:
        job = self.selected_job
        if job is None:
            self.notify("No job selected.", severity="warning")
            return
        if job.state == "finished":
            self.notify(f"Job {job.id} already finished ({job.status}); nothing to cancel.", severity="warning",
                        markup=False)
            return
        what = ("It is running: its processes get SIGTERM, then SIGKILL after "
                f"{CANCEL_GRACE_S:g} s." if job.state == "running" else "It is queued: it will never start.")
        where = f", {job.project}" if job.project else ""
        question = f"Cancel job {job.id} ({job.stage}{where})?\n{what}"

        def answered(yes: bool | None) -> None:
            if yes:
                self.cancel_job(job.id)

        self.app.push_screen(ConfirmScreen(question, yes_label="Cancel job"), answered)

    @work(thread=True, exclusive=False, name="cancel-job", group="jobs")
    def cancel_job(self, job_id: str) -> None:
        """TERM, grace period, KILL, verify — seconds of waiting, so not on the UI thread."""
        try:
            record = self.application.cancel(job_id, grace=CANCEL_GRACE_S)
        except GsvError as e:
            self.app.call_from_thread(self.notify, describe(e, sep=" — "),
                                      severity="error", markup=False)
            return
        note = f"Job {job_id} {record.outcome or record.state}" + (f": {record.reason}" if record.reason else "")
        self.app.call_from_thread(self.notify, note, markup=False)
        self.gsv_app.poke_jobs()

    def palette_commands(self) -> Iterable[PaletteCommand]:
        job = self.selected_job
        if job is not None and job.state != "finished":
            yield PaletteCommand(f"Cancel job {job.id}", f"{job.stage}, {job.state}", self.action_cancel_job)
        yield PaletteCommand("Toggle log follow", "keep the newest log line in view", self.action_toggle_follow)
        yield PaletteCommand("Refresh jobs", "re-check jobs now, start queued ones", self.action_refresh)
