"""Text fields behave the same on every screen: entering one never selects its text.

Textual's Input selects all of its value when it gets focus, so the first key typed replaces it:
a mode key pressed in a field, or a stray letter in the transcript editor, wiped a whole
reference text. Screens call :func:`focus_without_selecting` on every focus change instead: the
cursor goes to the end and nothing is selected.
"""

from __future__ import annotations

from collections.abc import Iterable

from textual.widget import Widget
from textual.widgets import Input, TextArea


def is_text_field(widget: Widget | None) -> bool:
    return isinstance(widget, (Input, TextArea))


def focus_without_selecting(widget: Widget | None) -> None:
    """Undo Input's select-all-on-focus: the cursor goes to the end, nothing stays selected (and
    the field will not select on its next focus either). A cursor placed on purpose is kept."""
    if isinstance(widget, Input):
        widget.select_on_focus = False
        end = len(widget.value)
        if end and (widget.selection.start, widget.selection.end) in ((0, end), (end, 0)):
            widget.selection = type(widget.selection)(end, end)


def no_select_on_focus(widgets: Iterable[Widget]) -> None:
    """Turn select-all-on-focus off for these fields before anyone enters them."""
    for w in widgets:
        if isinstance(w, Input):
            w.select_on_focus = False
