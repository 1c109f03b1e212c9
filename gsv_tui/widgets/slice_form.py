"""The slicer's parameters as a compact grid of fields, checked as you type.

Each field shows its default; a value that is not a number, or that breaks a rule (min_length ≥
min_interval ≥ hop_size, max_sil_kept ≥ hop_size, max in (0, 1], …), marks the field and is
explained on the line under the grid. The rules are the backend's own
(``backend.stages.slice.Params.problems``), so the screen and ``gsv slice`` never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Grid, Vertical
from textual.message import Message
from textual.widgets import Checkbox, Input, Label, Static

from backend.stages.slice import Params


@dataclass(frozen=True)
class Field:
    name: str  # the Params field
    label: str  # the official WebUI name and unit
    kind: type  # int or float
    off_when_zero: bool = False  # 0 means "no limit" (None)


FIELDS = (
    Field("threshold", "threshold dB", float),
    Field("min_length", "min_length ms", int),
    Field("min_interval", "min_interval ms", int),
    Field("hop_size", "hop_size ms", int),
    Field("max_sil_kept", "max_sil_kept ms", int),
    Field("peak", "max (peak)", float),
    Field("alpha", "alpha (mix)", float),
    Field("max_length", "max_length s (0=off)", float, off_when_zero=True),
)

_DEFAULTS = Params(inputs=[], out_dir=None)  # type: ignore[arg-type]


def default_text(f: Field) -> str:
    v = getattr(_DEFAULTS, f.name)
    if v is None:
        return "0"
    return f"{v:g}" if isinstance(v, float) else str(v)


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
        with Grid():
            for row in (FIELDS[:4], FIELDS[4:]):
                for f in row:
                    yield Label(f.label, id=f"label-{f.name}")
                for f in row:
                    yield Input(default_text(f), id=f"param-{f.name}", compact=True,
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
        """The parameters as Params keyword arguments, and every problem (empty when valid)."""
        out: dict[str, Any] = {}
        problems: list[str] = []
        bad_fields: set[str] = set()
        for f in FIELDS:
            raw = self.query_one(f"#param-{f.name}", Input).value.strip()
            try:
                v: Any = f.kind(float(raw)) if f.kind is int and raw and float(raw).is_integer() else f.kind(raw)
            except ValueError:
                problems.append(f"{f.name}: {raw!r} is not {'a whole number' if f.kind is int else 'a number'}")
                bad_fields.add(f.name)
                continue
            out[f.name] = None if f.off_when_zero and v == 0 else v
        out["replace"] = self.query_one("#slice-replace", Checkbox).value
        if not problems:
            rule_problems = Params(inputs=[], out_dir=None, **out).problems()  # type: ignore[arg-type]
            problems.extend(rule_problems)
            for msg in rule_problems:
                named = [f.name for f in FIELDS if msg.startswith(f.name + " ") or msg.startswith(f.name + ":")]
                if not named and msg.startswith("max ("):
                    named = ["peak"]
                bad_fields.update(named)
        self._bad = bad_fields
        return out, problems

    @property
    def is_valid(self) -> bool:
        return not self.values()[1]

    def _check(self) -> None:
        _, problems = self.values()
        for f in FIELDS:
            self.query_one(f"#param-{f.name}", Input).set_class(f.name in self._bad, "-invalid")
        box = self.query_one("#slice-problems", Static)
        if problems:
            box.update(Text("✗ " + "; ".join(problems), style="bold red"))
        else:
            box.update(Text("✓ parameters are consistent (defaults: the official WebUI's)", style="green"))

    def first_invalid(self) -> Input | None:
        self.values()
        for f in FIELDS:
            if f.name in self._bad:
                return self.query_one(f"#param-{f.name}", Input)
        return None
