"""The top line: which project is open and how many jobs run or wait."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static


class StatusLine(Static):
    """``gsv-tui │ project: alice (zh, v2Pro) │ jobs: 1 running, 2 queued``, one line."""

    project: reactive[str | None] = reactive(None)
    running: reactive[int] = reactive(0)
    queued: reactive[int] = reactive(0)
    jobs_problem: reactive[bool] = reactive(False)
    listeners: reactive[int] = reactive(0)  # browser tabs on the listening bridge

    def render(self) -> Text:
        t = Text(no_wrap=True, overflow="ellipsis")
        t.append(" gsv-tui ", style="bold reverse")
        t.append(" project: ")
        if self.project:
            t.append(self.project, style="bold")
        else:
            t.append("none — press p", style="italic")
        t.append("  │  jobs: ")
        if self.jobs_problem:
            t.append("store unreadable", style="bold red")
        else:
            t.append(f"{self.running} running", style="bold green" if self.running else "")
            if self.queued:
                t.append(f", {self.queued} queued", style="yellow")
        if self.listeners:
            t.append("  │  ")
            t.append("♪ browser", style="bold cyan")
        return t
