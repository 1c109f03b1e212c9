"""The help screen (?): every key of every screen, generated from the keymap with binding ids."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from .. import keymap
from ..keymap import KeySpec

KEYS = keymap.define("help", "Help screen", [
    KeySpec("help.close", "escape,question_mark", "dismiss", "Close help"),
])


class HelpScreen(ModalScreen[None]):
    BINDINGS = KEYS

    def __init__(self, overrides: dict[str, str], problems: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.overrides = overrides
        self.problems = problems

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box"):
            yield Static(Text.assemble(("Keys", "bold"), " — rebind any in config.toml under [keys] by "
                                       'its id, e.g. "jobs.cancel" = "x".  esc closes.'), id="help-intro")
            if self.problems:
                yield Static(Text("\n".join(self.problems)), id="help-problems")
            yield DataTable(id="help-table", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Where", "Key", "Does", "Id")
        for sec in keymap.sections():
            for spec in sec.specs:
                table.add_row(sec.title, keymap.display_key(keymap.effective_key(spec, self.overrides)),
                              spec.description, spec.id, key=spec.id)
        table.focus()

    def action_dismiss(self, result: None = None) -> None:  # type: ignore[override]
        self.dismiss(None)
