"""A one-line path field that completes file and folder names as you type (Tab or → accepts).

The completion is the shell's: the part after the last ``/`` is matched against the entries of
the folder before it (``~`` expanded); a unique folder match gets its trailing ``/``. Once the
field names a file or folder that exists, Tab moves on: a folder of clips whose names share a
prefix would otherwise take the next Tab to "complete" into a half-name. Type a letter after the
``/`` (or press →) to go deeper. Hidden entries are offered only once a ``.`` is typed.
"""

from __future__ import annotations

import os
from pathlib import Path

from textual import events
from textual.binding import Binding
from textual.suggester import Suggester
from textual.widgets import Input


def complete_path(value: str) -> str | None:
    """The completed form of ``value`` (same prefix, longer), or None when nothing matches."""
    if not value:
        return None
    head, sep, prefix = value.rpartition("/")
    folder = Path(os.path.expanduser(head + sep)) if sep else Path(".")
    try:
        names = sorted(e.name for e in os.scandir(folder) if e.name.startswith(prefix))
    except OSError:
        return None
    if not prefix.startswith("."):
        names = [n for n in names if not n.startswith(".")]
    if not names:
        return None
    common = os.path.commonprefix(names)
    if len(names) == 1:
        common = names[0] + ("/" if (folder / names[0]).is_dir() else "")
    if len(common) <= len(prefix):
        return None
    return head + sep + common


def _names_something(value: str) -> bool:
    return bool(value.strip()) and os.path.exists(os.path.expanduser(value))


class PathSuggester(Suggester):
    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)  # the file system changes under us

    async def get_suggestion(self, value: str) -> str | None:
        return complete_path(value)


class PathInput(Input):
    """Input for a file or folder path with completion; Tab completes, else moves focus on."""

    BINDINGS = [Binding("tab", "complete", "Complete", show=False)]

    def __init__(self, value: str = "", placeholder: str = "", **kwargs) -> None:  # noqa: ANN003
        super().__init__(value=value, placeholder=placeholder, suggester=PathSuggester(), **kwargs)

    def _lets_through(self, key: str) -> bool:
        """In an empty field a mode key (1–5 unless rebound) still switches modes: the field has
        the focus on arrival, and a path hardly starts with a digit (type ./ first for one that
        does). Any other key, ``p`` included, is text."""
        return not self.value and key in getattr(self.app, "mode_keys", frozenset())

    def check_consume_key(self, key: str, character: str | None) -> bool:
        return not self._lets_through(key) and super().check_consume_key(key, character)

    async def _on_key(self, event: events.Key) -> None:
        if self._lets_through(event.key):
            event.prevent_default()  # not typed; the app's binding runs as the key bubbles up

    def action_complete(self) -> None:
        done = complete_path(self.value) if self.cursor_at_end and not _names_something(self.value) else None
        if done:
            self.value = done
            self.cursor_position = len(done)
        else:
            self.screen.focus_next()
