"""The line of mode tabs with their keys; the current mode is highlighted."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.widgets import Static


@dataclass(frozen=True)
class ModeTab:
    mode: str
    key: str  # as shown, e.g. "1"
    title: str


class ModeBar(Static):
    """``1 Dataset  2 Transcripts  3 Training  4 Inference  5 Jobs`` (fits 80 columns)."""

    def __init__(self, tabs: list[ModeTab], current: str, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.tabs = tabs
        self.current = current

    def render(self) -> Text:
        t = Text(no_wrap=True, overflow="ellipsis")
        for tab in self.tabs:
            style = "bold reverse" if tab.mode == self.current else ""
            t.append(" ")
            t.append(f" {tab.key} {tab.title} ", style=style)
        return t
