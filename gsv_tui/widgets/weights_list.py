"""The project's exported weights (GPT ``.ckpt`` and SoVITS ``.pth``), newest epoch first.

``enter`` on a row picks it for its kind; the pair sent to Inference is the picked GPT and the
picked SoVITS (by default the latest export of each).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.widgets import DataTable

if TYPE_CHECKING:
    from backend.app import Application


class WeightsList(DataTable):
    DEFAULT_CSS = """
    WeightsList { height: auto; max-height: 8; }
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, cursor_type="row", zebra_stripes=True, **kwargs)
        self.picked: dict[str, str] = {}
        self.options: dict[str, list[str]] = {"gpt": [], "sovits": []}

    def on_mount(self) -> None:
        self.add_columns("", "kind", "file", "epoch")

    def load(self, application: Application) -> None:
        from backend.app.inference import exported_weights

        exports = exported_weights(application)
        found = {k: [o for o in exports if o.kind == k] for k in ("gpt", "sovits")}
        self.options = {k: [str(o.path) for o in v] for k, v in found.items()}
        for kind in ("gpt", "sovits"):
            if self.picked.get(kind) not in self.options[kind]:
                self.picked.pop(kind, None)
        self.clear()
        for kind, opts in found.items():
            for o in opts:
                mark = "●" if self.pair().get(kind) == str(o.path) else ""
                self.add_row(mark, kind.upper() if kind == "gpt" else "SoVITS", o.path.name,
                             "" if o.epoch is None else str(o.epoch), key=f"{kind}|{o.path}")

    def pair(self) -> dict[str, str]:
        """The GPT and SoVITS weights to send: the picked ones, else the latest of each."""
        out = {}
        for kind in ("gpt", "sovits"):
            choice = self.picked.get(kind) or (self.options[kind][0] if self.options[kind] else None)
            if choice:
                out[kind] = choice
        return out

    def pick_cursor(self) -> None:
        if self.row_count == 0:
            return
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value or ""
        kind, _, path = key.partition("|")
        if kind and path:
            self.picked[kind] = path
            for row_key in list(self.rows):
                k, _, p = (row_key.value or "").partition("|")
                self.update_cell(row_key, self.ordered_columns[0].key, "●" if self.pair().get(k) == p else "")

    def on_data_table_row_selected(self, _event: DataTable.RowSelected) -> None:
        self.pick_cursor()


def names(pair: dict[str, str]) -> str:
    return " + ".join(Path(p).name for p in pair.values())
