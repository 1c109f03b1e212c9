"""The help screen (?): every key of every screen, generated from the keymap with binding ids."""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from .. import keymap

HELP_MAX_WIDTH = 140  # the box's max-width in app.tcss

KEYS = keymap.bindings("help")


MIN_DOES_WIDTH = 20


def does_width(total: int, key_width: int, id_width: int) -> int:
    """What is left of ``total`` columns for the description once Key and Id have theirs (cell
    padding and the scroll bar counted): the Does column grows with the terminal."""
    padding, scrollbar = 2 * 3, 2
    return max(total - key_width - id_width - padding - scrollbar, MIN_DOES_WIDTH)


class HelpScreen(ModalScreen[None]):
    BINDINGS = KEYS

    def __init__(self, overrides: dict[str, str], problems: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.overrides = overrides
        self.problems = problems
        self._laid_out_for: int | None = None

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
        self._fill(self.app.size.width)
        self.query_one(DataTable).focus()

    def on_resize(self) -> None:
        self._fill(self.app.size.width)

    def _fill(self, width: int) -> None:
        """(Re)build the table for a terminal ``width`` columns wide: a description longer than
        its column wraps onto more lines of its row instead of being cut."""
        if width == self._laid_out_for:
            return
        self._laid_out_for = width
        table = self.query_one(DataTable)
        rows = [(keymap.display_key(keymap.effective_key(spec, self.overrides)), spec.help or spec.description,
                 spec.id, sec) for sec in keymap.sections() for spec in sec.specs]
        key_w = max((cell_len(k) for k, *_ in rows), default=3)
        id_w = max((cell_len(i) for _, _, i, _ in rows), default=2)
        box = min(width, HELP_MAX_WIDTH) - 2  # the box's border
        table.clear(columns=True)
        table.add_column("Key", key="key", width=key_w)
        table.add_column("Does", key="does", width=does_width(box, key_w, id_w))
        table.add_column("Id", key="id", width=id_w)
        shown: set[str] = set()
        for key, does, bid, sec in rows:  # a title row per screen, so three columns fit 80 wide
            if sec.context not in shown:
                shown.add(sec.context)
                table.add_row("", Text(sec.title, style="bold underline"), "", key=f"section:{sec.context}")
            table.add_row(key, Text(does), bid, key=bid, height=None)

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
