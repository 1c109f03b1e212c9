"""The help screen (?): every key of every screen, generated from the keymap with binding ids."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from .. import keymap

KEYS = keymap.bindings("help")


DOES_WIDTH = 38


class HelpScreen(ModalScreen[None]):
    BINDINGS = KEYS

    def __init__(self, overrides: dict[str, str], problems: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.overrides = overrides
        self.problems = problems

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box"):
            yield Static(Text.assemble(
                ("Keys", "bold"), " — in lists and tables the arrows, PgUp/PgDn and enter work as usual. "
                'Rebind any key in config.toml under [keys] by its id, e.g. "jobs.cancel" = "x". esc closes.'),
                id="help-intro")
            if self.problems:
                yield Static(Text("\n".join(self.problems)), id="help-problems")
            yield DataTable(id="help-table", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("Key", key="key")
        table.add_column("Does", key="does", width=DOES_WIDTH)
        table.add_column("Id", key="id")
        for sec in keymap.sections():  # a title row per screen, so three columns fit 80 wide
            table.add_row("", Text(sec.title, style="bold underline"), "", key=f"section:{sec.context}")
            for spec in sec.specs:
                table.add_row(keymap.display_key(keymap.effective_key(spec, self.overrides)),
                              spec.help or spec.description, spec.id, key=spec.id)
        table.focus()

    def bindings_shown(self) -> dict[str, tuple[str, str]]:
        """Binding id -> (key as shown, description) for every binding row (tests, scripts)."""
        table = self.query_one(DataTable)
        out = {}
        for row_key in table.rows:
            bid = str(row_key.value)
            if not bid.startswith("section:"):
                key, does, _ = table.get_row(row_key)
                out[bid] = (str(key), str(does))
        return out

    def action_dismiss(self, result: None = None) -> None:  # type: ignore[override]
        self.dismiss(None)
