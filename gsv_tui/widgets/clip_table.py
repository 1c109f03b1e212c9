"""A table of clips that draws only the rows on screen, so 10 000 rows open and scroll as fast
as 100. Rows come from a provider function; the widget keeps no copy of the data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from rich.cells import set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Static


@dataclass(frozen=True)
class ClipRow:
    """What one table row shows, already formatted."""

    index: str
    duration: str
    lang: str
    flags: str
    text: str
    reviewed: bool = False
    missing: bool = False


COLUMNS = (("#", 6), ("✓", 2), ("dur", 6), ("lang", 5), ("flags", 16))

_CURSOR = Style(reverse=True, bold=True)
_FLAG = Style(color="red")
_DIM = Style(dim=True)
_PLAIN = Style()


def header_text(width: int) -> str:
    parts = [set_cell_size(f" {name}", w) for name, w in COLUMNS]
    rest = max(width - sum(w for _, w in COLUMNS), 4)
    return "".join(parts) + set_cell_size(" text", rest)


class ClipTableHeader(Static):
    """The column titles above the table."""

    def render(self) -> str:
        return header_text(self.size.width or 80)


class ClipTable(ScrollView, can_focus=True, inherit_bindings=False):
    """Virtual list of clips. The screen owns the keys; this widget draws and follows a cursor."""

    DEFAULT_CSS = """
    ClipTable { height: 1fr; }
    """

    cursor: reactive[int] = reactive(0, always_update=True)

    class CursorMoved(Message):
        def __init__(self, position: int) -> None:
            super().__init__()
            self.position = position

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._count = 0
        self._row: Callable[[int], ClipRow] = lambda pos: ClipRow("", "", "", "", "")
        self._rows: dict[int, ClipRow] = {}  # rows drawn since the data last changed

    def set_source(self, count: int, row: Callable[[int], ClipRow]) -> None:
        """Point the table at ``count`` rows drawn by ``row(position)``."""
        self._count = count
        self._row = row
        self._rows.clear()
        self.virtual_size = Size(self.size.width, count)
        if self.cursor >= count:
            self.cursor = max(count - 1, 0)
        self.refresh()

    def invalidate(self) -> None:
        """The data behind the rows changed (durations read, flags, an edit): redraw."""
        self._rows.clear()
        self.refresh()

    @property
    def count(self) -> int:
        return self._count

    def move(self, delta: int) -> None:
        self.cursor = max(0, min(self._count - 1, self.cursor + delta))

    def watch_cursor(self, old: int, new: int) -> None:
        if not self._follow():  # no scroll: only the two rows that changed are repainted
            top = round(self.scroll_offset.y)
            width = self.size.width
            for pos in {old, new}:
                self.refresh(Region(0, pos - top, width, 1))
        self.post_message(self.CursorMoved(new))

    def _follow(self, retries: int = 3) -> bool:
        """Scroll so the cursor is visible; True when it scrolled (everything repaints). Right
        after new rows arrive the scroll range may not be laid out yet: then try again after
        the next refresh."""
        h = self.scrollable_content_region.height or self.size.height
        top = round(self.scroll_offset.y)
        if self.cursor < top:
            target = self.cursor
        elif h and self.cursor >= top + h:
            target = self.cursor - h + 1
        else:
            return False
        self.scroll_to(y=target, animate=False, immediate=True)
        if round(self.scroll_offset.y) != target and retries > 0:
            self.call_after_refresh(self._follow, retries - 1)
        return True

    def on_resize(self, event: events.Resize) -> None:
        self.virtual_size = Size(event.size.width, self._count)
        self._follow()

    def on_click(self, event: events.Click) -> None:
        pos = round(self.scroll_offset.y) + event.y
        if 0 <= pos < self._count:
            self.cursor = pos

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width or self.size.width
        pos = round(self.scroll_offset.y) + y
        if pos >= self._count or pos < 0:
            return Strip.blank(width)
        r = self._rows.get(pos)
        if r is None:
            if len(self._rows) > 2000:
                self._rows.clear()
            r = self._rows[pos] = self._row(pos)
        base = _CURSOR if pos == self.cursor else _PLAIN
        widths = [w for _, w in COLUMNS]
        rest = max(width - sum(widths), 4)
        segs = [
            Segment(set_cell_size(f" {r.index}", widths[0]), base + _DIM if pos != self.cursor else base),
            Segment(set_cell_size(" ✓" if r.reviewed else "  ", widths[1]), base),
            Segment(set_cell_size(f" {r.duration}", widths[2]), base),
            Segment(set_cell_size(f" {r.lang}", widths[3]), base),
            Segment(set_cell_size(f" {r.flags}", widths[4]), base + _FLAG if r.flags else base),
            Segment(set_cell_size(f" {r.text}", rest), base),
        ]
        return Strip(segs).crop(0, width)
