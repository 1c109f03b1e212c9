"""The recent takes: when, how long, the settings that tell them apart, and the text."""

from __future__ import annotations

from typing import Any

from textual.widgets import DataTable


class TakeHistory(DataTable):
    """Rows keyed by the take's wav path; the newest first."""

    DEFAULT_CSS = "TakeHistory { height: auto; max-height: 8; }"

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.add_columns("when", "length", "settings", "text")
        self.takes: list[Any] = []

    def show(self, takes: list[Any]) -> None:
        self.takes = list(takes)
        self.clear()
        for take in self.takes:
            text = " ".join(str(take.params.get("text", "")).split())
            when = take.created[11:19] if len(take.created) >= 19 else take.created
            self.add_row(when, f"{take.duration:.1f} s", take.summary(), text[:40], key=str(take.wav))

    def current(self) -> Any | None:
        if not self.takes or self.cursor_row is None or not 0 <= self.cursor_row < len(self.takes):
            return None
        return self.takes[self.cursor_row]
