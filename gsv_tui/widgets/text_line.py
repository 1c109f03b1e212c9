"""A one-line (or fixed-height) text that redraws without a layout pass.

``Static.update`` asks for a new layout on every call; a status or detail line that changes on
every cursor move would then re-lay-out the whole screen per key press. This widget only
repaints itself.
"""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget


class TextLine(Widget):
    DEFAULT_CSS = "TextLine { height: 1; }"

    def __init__(self, text: str | Text = "", *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._text: str | Text = text

    def set(self, text: str | Text) -> None:
        if text != self._text:
            self._text = text
            self.refresh()

    @property
    def text(self) -> str:
        return self._text.plain if isinstance(self._text, Text) else self._text

    def render(self) -> str | Text:
        return self._text
