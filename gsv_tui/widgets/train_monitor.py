"""The followed training job: epoch/step/ETA/GPU memory line, live loss curve, log tail."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from ..train_events import TrainState, status_line
from .loss_curve import LossCurve

LOG_SHOWN = 4


class TrainMonitor(Vertical):
    DEFAULT_CSS = """
    TrainMonitor { height: auto; border-top: solid $primary-darken-2; }
    TrainMonitor #train-status { height: auto; padding: 0 1; }
    TrainMonitor #train-log { height: auto; max-height: 5; padding: 0 1; color: $text-muted; }
    """

    def compose(self) -> ComposeResult:
        yield Static(Text("No training job yet: start one above.", style="italic"), id="train-status")
        yield LossCurve(id="train-curve")
        yield Static("", id="train-log")

    def show(self, st: TrainState, job_status: str | None) -> None:
        head = Text(f"job {st.job_id} ({job_status or '?'}): ", style="bold")
        head.append(status_line(st))
        self.query_one("#train-status", Static).update(head)
        self.query_one(LossCurve).set_values(list(st.curve), f"{st.stage or 'training'} loss")
        self.query_one("#train-log", Static).update(Text("\n".join(list(st.log)[-LOG_SHOWN:])))

    def clear(self, text: str) -> None:
        self.query_one("#train-status", Static).update(Text(text, style="italic"))
        self.query_one(LossCurve).set_values([])
        self.query_one("#train-log", Static).update("")
