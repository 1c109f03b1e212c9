"""A one-line path field that completes file and folder names as you type (Tab or → accepts).

The completion is the shell's: the part after the last ``/`` is matched against the entries of
the folder before it (``~`` expanded); a unique folder match gets its trailing ``/`` so the next
Tab goes one level deeper. Hidden entries are offered only once a ``.`` is typed.
"""

from __future__ import annotations

import os
from pathlib import Path

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

    def action_complete(self) -> None:
        done = complete_path(self.value) if self.cursor_at_end else None
        if done:
            self.value = done
            self.cursor_position = len(done)
        else:
            self.screen.focus_next()
