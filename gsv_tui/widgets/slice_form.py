"""The slicer's parameters as a compact grid of fields, checked as you type.

Each field shows its default; a value that is not a number, or that breaks a rule (min_length ≥
min_interval ≥ hop_size, max_sil_kept ≥ hop_size, max in (0, 1], …), marks the field and is
explained on the line under the grid. The fields, their defaults and the rules are the slice
stage's own (its ``Params`` declaration and ``problems()``, through :mod:`backend.app.dataset`),
so the screen and ``gsv slice`` never disagree.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Grid, Vertical
from textual.message import Message
from textual.widgets import Checkbox, Input, Label, Static

from backend.app.dataset import check_slicer_values, slicer_fields


class SliceForm(Vertical):
    """Fields for every slicer parameter, plus "replace earlier clips"."""

    DEFAULT_CSS = """
    SliceForm { height: auto; }
    SliceForm Grid { grid-size: 4; grid-columns: 1fr 1fr 1fr 1fr; grid-rows: 1 1 1 1; height: 4; }
    SliceForm Label { color: $text-muted; padding: 0 1; }
    SliceForm Input { margin: 0 1; }
    SliceForm Input.-invalid { color: $error; text-style: bold; }
    SliceForm #slice-problems { height: auto; padding: 0 1; }
    SliceForm Checkbox { margin: 0 0; }
    """

    class Changed(Message):
        """The values or their validity changed."""

        def __init__(self, form: "SliceForm") -> None:
            super().__init__()
            self.form = form

    def compose(self) -> ComposeResult:
        self.fields = slicer_fields()  # label, type and default of each: read when drawn
        with Grid():
            for row in (self.fields[:4], self.fields[4:]):
                for f in row:
                    yield Label(f.label, id=f"label-{f.name}")
                for f in row:
                    yield Input(f.default_text, id=f"param-{f.name}", compact=True,
                                restrict=r"[-+0-9.eE]*", select_on_focus=True)
        yield Checkbox("replace earlier clips of the same files (they are backed up)", id="slice-replace",
                       compact=True)
        yield Static("", id="slice-problems")

    def on_mount(self) -> None:
        self._check()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id and event.input.id.startswith("param-"):
            event.stop()
            self._check()
            self.post_message(self.Changed(self))

    # --- reading ---------------------------------------------------------------------------------
    def values(self) -> tuple[dict[str, Any], list[str]]:
        """The parameters as slice Params keyword arguments, and every problem (empty when valid)."""
        out: dict[str, Any] = {}
        problems: list[str] = []
        bad_fields: set[str] = set()
        for f in self.fields:
            try:
                out[f.name] = f.parse(self.query_one(f"#param-{f.name}", Input).value)
            except ValueError as e:
                problems.append(str(e))
                bad_fields.add(f.name)
        out["replace"] = self.query_one("#slice-replace", Checkbox).value
        if not problems:
            rule_problems, named = check_slicer_values(out)
            problems.extend(rule_problems)
            bad_fields.update(named)
        self._bad = bad_fields
        return out, problems

    @property
    def is_valid(self) -> bool:
        return not self.values()[1]

    def _check(self) -> None:
        _, problems = self.values()
        for f in self.fields:
            self.query_one(f"#param-{f.name}", Input).set_class(f.name in self._bad, "-invalid")
        box = self.query_one("#slice-problems", Static)
        if problems:
            box.update(Text("✗ " + "; ".join(problems), style="bold red"))
        else:
            box.update(Text("✓ parameters are consistent (defaults: the official WebUI's)", style="green"))

    def first_invalid(self) -> Input | None:
        self.values()
        for f in self.fields:
            if f.name in self._bad:
                return self.query_one(f"#param-{f.name}", Input)
        return None
