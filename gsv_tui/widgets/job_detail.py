"""Two lines about the selected job: its outcome and why, and what it last reported."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from ..display import progress_detail
from ..jobwatch import JobView
from .jobs_table import status_cell


class JobDetail(Static):
    def show(self, job: JobView | None) -> None:
        self.update(self.describe(job))

    @staticmethod
    def describe(job: JobView | None) -> Text:
        if job is None:
            return Text("No job selected. Stages started from the other screens or with `gsv` appear here.",
                        style="italic")
        t = Text(no_wrap=False)
        t.append(f"{job.id} ", style="bold")
        t.append(f"{job.stage}", style="bold")
        if job.project:
            t.append(f" [{job.project}]")
        t.append(" · ")
        t.append_text(status_cell(job))
        if job.exit_code is not None and job.state == "finished":
            t.append(f" · exit {job.exit_code}")
        if job.reason:
            t.append(" · reason: ")
            t.append(job.reason, style="bold red" if job.status in ("failed", "lost") else "")
        elif job.status in ("failed", "lost"):
            t.append(" · no reason recorded; see the log", style="red")
        t.append("\n")
        if job.state == "queued":
            t.append(job.waiting or "waiting to start", style="yellow")
        else:
            t.append(progress_detail(job.progress))
        if job.message:
            t.append(f" · {job.message}", style="italic")
        return t
