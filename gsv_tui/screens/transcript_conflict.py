"""Asked when the .list changed on disk behind our back: reload theirs, merge, or keep ours."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from .. import keymap

KEYS = keymap.bindings("conflict")


class TranscriptConflict(ModalScreen[str]):
    """Dismisses with "merge", "reload", "overwrite" or "later"."""

    BINDINGS = KEYS
    DEFAULT_CSS = """
    TranscriptConflict { align: center middle; }
    #conflict-box { width: 72; height: auto; border: thick $error; padding: 1 2; background: $surface; }
    #conflict-buttons { height: auto; margin-top: 1; }
    #conflict-buttons Button { margin-right: 1; }
    """

    def __init__(self, name: str) -> None:
        super().__init__()
        self.list_name = name

    def compose(self) -> ComposeResult:
        with Vertical(id="conflict-box"):
            yield Static(f"{self.list_name} was changed by another program since it was opened.\n"
                         "Merge re-applies our edits on top of that version; reload drops our "
                         "unsaved edits; overwrite replaces theirs (kept as .bak).", id="conflict-text")
            with Horizontal(id="conflict-buttons"):
                yield Button("Merge (m)", variant="primary", id="merge")
                yield Button("Reload (r)", id="reload")
                yield Button("Overwrite (o)", variant="error", id="overwrite")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id or "later")

    def action_answer(self, choice: str) -> None:
        self.dismiss(choice)
