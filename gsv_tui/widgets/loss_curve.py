"""A loss curve drawn with eighth-blocks: one column per bucket of steps, min/max on the side.

Drawn by us (no plotting dependency): a column chart reads well at 80×24 and over SSH.
"""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from ..train_events import curve_rows

AXIS_W = 9


class LossCurve(Widget):
    DEFAULT_CSS = """
    LossCurve { height: 7; width: 1fr; }
    """

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        self.values: list[float] = []
        self.title = "loss"

    def set_values(self, values: list[float], title: str = "loss") -> None:
        self.values, self.title = list(values), title
        self.refresh()

    def rows(self) -> list[str]:
        height = max(1, self.size.height - 1)
        width = max(1, self.size.width - AXIS_W)
        return curve_rows(self.values, width, height)

    def render(self) -> Text:
        if not self.values:
            return Text(f"{self.title}: no steps yet", style="italic dim")
        rows = self.rows()
        hi, lo = f"{max(self.values):.4g}", f"{min(self.values):.4g}"
        t = Text()
        for i, row in enumerate(rows):
            label = hi if i == 0 else (lo if i == len(rows) - 1 else "")
            t.append(f"{label:>{AXIS_W - 1}} ", style="dim")
            t.append(row + "\n", style="green")
        t.append(f"{self.title} over {len(self.values)} logged steps (latest {self.values[-1]:.4g})", style="dim")
        return t
