"""What a mode will offer once its stages are built — plain words, no controls.

A mode whose stages do not exist yet shows this instead of pretending: which stages it will
run, what each does, and for each the ``gsv`` command with whether it exists in this install.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import Group, RenderableType
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static


@dataclass(frozen=True)
class PlannedStage:
    command: str  # e.g. "gsv slice --project NAME AUDIO..."
    does: str
    available: bool  # the stage module is installed (checked by the screen, not here)


@dataclass(frozen=True)
class StagePlan:
    title: str
    summary: str
    stages: tuple[PlannedStage, ...]
    note: str = ""


class StagePreview(VerticalScroll, can_focus=True):
    """A scrollable, read-only description of a mode's planned stages."""

    def __init__(self, plan: StagePlan, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.plan = plan

    def compose(self):  # type: ignore[override]
        yield Static(self._render_plan(), id="stage-preview-text")

    def set_plan(self, plan: StagePlan) -> None:
        self.plan = plan
        self.query_one("#stage-preview-text", Static).update(self._render_plan())

    def _render_plan(self) -> RenderableType:
        p = self.plan
        parts: list[RenderableType] = [
            Text(p.title, style="bold"),
            Text(p.summary),
            Text(""),
            Text("Stages:", style="bold"),
        ]
        for s in p.stages:
            line = Text("  ")
            line.append(s.command, style="bold cyan")
            line.append("  ")
            line.append("available" if s.available else "not built yet",
                        style="green" if s.available else "yellow")
            parts.append(line)
            parts.append(Text(f"    {s.does}"))
        if p.note:
            parts += [Text(""), Text(p.note, style="italic")]
        return Group(*parts)
