"""What slicing produced: clip count, total duration, a duration histogram and the warnings.

Shows the :class:`~backend.app.summaries.SliceSummary` a slice job leaves behind: the histogram
on the left (one bar per duration bin), what a person should act on at the right — too little or
too much speech, clips too short or too long, skipped files with their reasons, and for files
sliced from a cleaned folder their loudness before and after cleaning (one the separation
emptied in red).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.cells import cell_len, set_cell_size
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Static

from backend.app.summaries import level_text

if TYPE_CHECKING:
    from backend.app.summaries import SliceSummary

BAR = 22


def duration_text(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    m, s = divmod(int(round(seconds)), 60)
    return f"{m} min {s:02d} s" if m < 60 else f"{m // 60} h {m % 60:02d} min"


def histogram_text(edges: tuple[float, ...], counts: tuple[int, ...]) -> Text:
    t = Text()
    peak = max(counts) if counts else 0
    for k, n in enumerate(counts):
        lo = edges[k]
        name = f"{lo:g}–{edges[k + 1]:g} s" if k + 1 < len(edges) else f"≥{lo:g} s"
        width = round(BAR * n / peak) if peak else 0
        style = "yellow" if (k == 0 or k + 1 == len(counts)) and n else "cyan"
        t.append(f"{name:>8} ")
        t.append("█" * width, style=style)
        t.append(f" {n}\n" if n else "\n")
    return t


def headline(summary: "SliceSummary") -> Text:
    t = Text()
    t.append(f"{summary.clips} clips", style="bold")
    t.append(f" · {duration_text(summary.seconds)}")
    if summary.folder_clips is not None and summary.folder_clips != summary.clips:
        t.append(f" · folder: {summary.folder_clips} clips, {duration_text(summary.folder_seconds)}")
    recorded = summary.recorded_seconds
    t.append(f" · from {len(summary.files)} file(s)" + (f" ({duration_text(recorded)} recorded)" if recorded else ""))
    return t


def warnings_text(summary: "SliceSummary") -> Text:
    t = Text()
    if not summary.warnings:
        t.append("✓ ready for speech recognition\n", style="green")
    for w in summary.warnings:
        t.append("⚠ ", style="yellow")
        t.append(f"{w}\n")
    for s in summary.skipped:
        t.append(f"  skipped {s.item.rsplit('/', 1)[-1]}: ", style="bold")
        t.append(f"{s.reason}\n", style="red")
    for f in summary.files:
        for w in f.warnings:
            t.append(f"  {f.path.rsplit('/', 1)[-1]}: {w}\n", style="italic")
    t.append_text(loudness_text(summary))
    return t


def loudness_text(summary: "SliceSummary", name_width: int = 14) -> Text:
    """Each cleaned file's level before → after cleaning (RMS dBFS; ``?`` unknown), one line each,
    narrow enough for the result's right column at 80 columns; emptied ones in red."""
    t = Text()
    if not summary.cleaned_files:
        return t
    t.append("loudness dBFS: original → cleaned\n", style="bold")
    for f in summary.cleaned_files:
        name = f.path.rsplit("/", 1)[-1]
        if cell_len(name) > name_width:  # by terminal cells: a CJK name is twice as wide as it is long
            name = set_cell_size(name, name_width - 1) + "…"
        before, after = (level_text(v).replace("unknown", "?") for v in (f.rms_db_original, f.rms_db_cleaned))
        line = f"  {set_cell_size(name, name_width)} {before:>6} → {after:>6}"
        t.append(line + (" ⚠\n" if f.emptied else "\n"), style="bold red" if f.emptied else "")
    return t


class SliceSummaryView(VerticalScroll):
    """The result of a slicing run (or a line saying there is none yet)."""

    DEFAULT_CSS = """
    SliceSummaryView { height: 1fr; border-top: solid $primary-darken-2; }
    SliceSummaryView #summary-headline { padding: 0 1; }
    SliceSummaryView Horizontal { height: auto; }
    SliceSummaryView #summary-histogram { width: 42; padding: 0 1; }
    SliceSummaryView #summary-warnings { width: 1fr; padding: 0 1; }
    """

    def compose(self) -> ComposeResult:
        yield Static("", id="summary-headline")
        with Horizontal():
            yield Static("", id="summary-histogram")
            yield Static("", id="summary-warnings")

    def show(self, summary: "SliceSummary | None", title: str = "Result") -> None:
        head = self.query_one("#summary-headline", Static)
        if summary is None:
            head.update(Text("No slicing result yet: choose an input and press ctrl+r.", style="italic"))
            self.query_one("#summary-histogram", Static).update("")
            self.query_one("#summary-warnings", Static).update("")
            return
        t = Text(f"{title}: ", style="bold")
        t.append_text(headline(summary))
        head.update(t)
        histogram = histogram_text(summary.histogram_edges, summary.histogram_counts)
        self.query_one("#summary-histogram", Static).update(histogram)
        self.query_one("#summary-warnings", Static).update(warnings_text(summary))

    def show_message(self, text: Text | str) -> None:
        self.query_one("#summary-headline", Static).update(text)
        self.query_one("#summary-histogram", Static).update("")
        self.query_one("#summary-warnings", Static).update("")
