"""The latest voice checkup on the Training screen: its pairs best first, the recommended one marked.

One line says where the checkup stands (none yet, queued behind training, running, or the report
shown) and holds the "checkup after training" switch (stored in the project's project.toml);
below it a row per scored GPT/SoVITS pair, sorted by the recommendation. A take of the
highlighted pair can be played: each press moves to the next one, worst first (flagged takes,
then by error rate), and the line under the table says what the take should have said and what
the ASR heard — so the figures can be checked by ear.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Checkbox, DataTable, Static

if TYPE_CHECKING:
    from backend.app.checkup import CheckupRow, CheckupView, TakeView

    from ..jobwatch import JobView


def _pct(v: float | None, digits: int = 0) -> str:
    return "–" if v is None else f"{v:.{digits}%}"


def _num(v: float | None) -> str:
    return "–" if v is None else f"{v:.2f}"


class CheckupTable(DataTable):
    """One row per scored pair, in the report's order (the recommendation first)."""

    DEFAULT_CSS = """
    CheckupTable { height: auto; max-height: 6; }
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, cursor_type="row", zebra_stripes=True, **kwargs)
        self.view: CheckupView | None = None

    def on_mount(self) -> None:
        self.add_columns("", "pair", "median", "skips", "repeats", "run/trunc", "likeness ref/train")

    def show(self, view: CheckupView | None) -> None:
        self.view = view
        self.clear()
        if view is None:
            return
        for n, row in enumerate(view.rows):
            self.add_row("★" if row.recommended else "", row.label, _pct(row.median_error, 1), _pct(row.skip_share),
                         _pct(row.repeat_share), f"{row.runaways}/{row.truncations}",
                         f"{_num(row.likeness_ref)}/{_num(row.likeness_train)}", key=str(n))

    def current(self) -> CheckupRow | None:
        if self.view is None or not self.view.rows:
            return None
        return self.view.rows[min(max(self.cursor_row, 0), len(self.view.rows) - 1)]


class CheckupPanel(Vertical):
    """The checkup's state line, its switch, the table and the take line."""

    DEFAULT_CSS = """
    CheckupPanel { height: auto; }
    CheckupPanel #checkup-head { height: 1; }
    CheckupPanel #checkup-status { width: 1fr; padding: 0 1; color: $text-muted; }
    CheckupPanel #checkup-after { width: auto; }
    CheckupPanel #checkup-take { height: auto; max-height: 2; padding: 0 1; color: $text-muted; }
    """

    class AfterTrainingChanged(Message):
        """The person switched "checkup after training" on or off."""

        def __init__(self, on: bool) -> None:
            super().__init__()
            self.on = on

    def __init__(self, *args: Any, keys: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.keys = keys  # "u: to Inference · t: play a take", with the person's own keys
        self.job: JobView | None = None
        self._take_of: tuple[str, int] | None = None  # (pair label, index of the take played last)

    def compose(self) -> ComposeResult:
        with Horizontal(id="checkup-head"):
            yield Static("", id="checkup-status")
            yield Checkbox("after training", id="checkup-after", compact=True,
                           tooltip="Queue a checkup behind every training run (project.toml: "
                                   "settings.checkup_after_training)")
        yield CheckupTable(id="checkup-table")
        yield Static("", id="checkup-take")

    @property
    def table(self) -> CheckupTable:
        return self.query_one(CheckupTable)

    def set_after_training(self, on: bool) -> None:
        box = self.query_one("#checkup-after", Checkbox)
        with box.prevent(Checkbox.Changed):  # the project's value, not a choice to store again
            box.value = on

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        event.stop()
        self.post_message(self.AfterTrainingChanged(event.value))

    def show_report(self, view: CheckupView | None) -> None:
        self.table.show(view)
        self.table.display = view is not None
        self._take_of = None
        take_line = self.query_one("#checkup-take", Static)
        take_line.update(Text(f"Why ★: {view.reason}", style="italic") if view is not None and view.reason else "")
        self._show_status()

    def show_job(self, job: JobView | None) -> None:
        self.job = job
        self._show_status()

    def _show_status(self) -> None:
        view, job = self.table.view, self.job
        if job is not None and job.state != "finished":
            p = job.progress
            done = f": {p.label + ' ' if p.label else ''}{int(p.done)}/{int(p.total)}" if p is not None and p.total \
                else ""
            wait = f" ({job.waiting})" if job.state == "queued" and job.waiting else ""
            text = Text(f"Checkup job {job.id} {job.status}{done}{wait}", style="italic")
        elif job is not None and job.outcome != "succeeded":  # the latest checkup job: the table is older
            why = job.reason or job.message or "see its log in Jobs (5)"
            text = Text(f"Checkup job {job.id} {job.status}: {why}", style="red")
        elif view is not None:
            text = Text(f"Checkup {view.created[5:16].replace('T', ' ')} · {self.keys}")
        else:
            text = Text("No checkup yet (one is queued after training when ticked):", style="italic")
        self.query_one("#checkup-status", Static).update(text)

    def current(self) -> CheckupRow | None:
        return self.table.current()

    def next_take(self) -> TakeView | None:
        """The highlighted pair's next take (worst first; wraps around), shown under the table."""
        row = self.current()
        if row is None or not row.takes or self.table.view is None:
            return None
        n = 0
        if self._take_of is not None and self._take_of[0] == row.label:
            n = (self._take_of[1] + 1) % len(row.takes)
        self._take_of = (row.label, n)
        take = row.takes[n]
        self.query_one("#checkup-take", Static).update(
            Text(f"{row.label} take {n + 1}/{len(row.takes)}: {take.describe(self.table.view.unit)}"))
        return take
