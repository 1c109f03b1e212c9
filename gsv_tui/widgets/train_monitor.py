"""The followed training job: epoch/step/ETA/GPU memory line, live loss curve, log tail.

It sits at the top of the Training screen, above the scrolling forms, so while a job runs its
state is in view at 80×24 without scrolling or tabbing; with no job it is one line.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from ..train_events import TrainState, status_line
from .loss_curve import LossCurve

LOG_SHOWN = 2


class TrainMonitor(Vertical):
    DEFAULT_CSS = """
    TrainMonitor { height: auto; border-bottom: solid $primary-darken-2; }
    TrainMonitor #train-status { height: auto; padding: 0 1; }
    TrainMonitor #train-curve { height: 5; }
    TrainMonitor #train-log { height: auto; max-height: 2; padding: 0 1; color: $text-muted; }
    """

    def compose(self) -> ComposeResult:
        yield Static(Text("No training job yet: start one below.", style="italic"), id="train-status")
        yield LossCurve(id="train-curve")
        yield Static("", id="train-log")

    def on_mount(self) -> None:
        self._detail(False)

    def _detail(self, shown: bool) -> None:
        self.query_one(LossCurve).display = shown
        self.query_one("#train-log", Static).display = shown

    def show(self, st: TrainState, job_status: str | None, running: bool = True) -> None:
        head = Text(f"job {st.job_id} ({job_status or '?'}): ", style="bold")
        head.append(status_line(st, running=running))
        self.query_one("#train-status", Static).update(head)
        self.query_one(LossCurve).set_values(list(st.curve), f"{st.stage or 'training'} loss")
        self.query_one("#train-log", Static).update(Text("\n".join(list(st.log)[-LOG_SHOWN:])))
        self._detail(True)

    def clear(self, text: str) -> None:
        self.query_one("#train-status", Static).update(Text(text, style="italic"))
        self.query_one(LossCurve).set_values([])
        self.query_one("#train-log", Static).update("")
        self._detail(False)
