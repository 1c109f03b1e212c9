"""What slicing produced: clip count, total duration, a duration histogram and the warnings.

Shows the ``summary`` a slice job writes (``backend.stages.slice.build_summary``): the histogram
on the left (one bar per duration bin), what a person should act on at the right — too little or
too much speech, clips too short or too long, skipped files with their reasons.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Static

BAR = 22


def duration_text(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    m, s = divmod(int(round(seconds)), 60)
    return f"{m} min {s:02d} s" if m < 60 else f"{m // 60} h {m % 60:02d} min"


def histogram_text(hist: dict[str, list[float]]) -> Text:
    edges, counts = hist.get("edges", []), hist.get("counts", [])
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


def headline(summary: dict[str, Any]) -> Text:
    t = Text()
    t.append(f"{summary.get('clips', 0)} clips", style="bold")
    t.append(f" · {duration_text(float(summary.get('seconds', 0.0)))}")
    folder = summary.get("folder") or {}
    if folder and folder.get("clips") != summary.get("clips"):
        t.append(f" · folder: {folder.get('clips')} clips, {duration_text(float(folder.get('seconds', 0.0)))}")
    files = summary.get("files") or []
    recorded = sum(float(f.get("source_seconds") or 0.0) for f in files)
    t.append(f" · from {len(files)} file(s)" + (f" ({duration_text(recorded)} recorded)" if recorded else ""))
    return t


def warnings_text(summary: dict[str, Any]) -> Text:
    t = Text()
    warnings = summary.get("warnings") or []
    if not warnings:
        t.append("✓ ready for speech recognition\n", style="green")
    for w in warnings:
        t.append("⚠ ", style="yellow")
        t.append(f"{w}\n")
    for s in summary.get("skipped") or []:
        name = str(s.get("path", "")).rsplit("/", 1)[-1]
        t.append(f"  skipped {name}: ", style="bold")
        t.append(f"{s.get('reason', '')}\n", style="red")
    for f in summary.get("files") or []:
        for w in f.get("warnings") or []:
            name = str(f.get("path", "")).rsplit("/", 1)[-1]
            t.append(f"  {name}: {w}\n", style="italic")
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

    def show(self, summary: dict[str, Any] | None, title: str = "Result") -> None:
        head = self.query_one("#summary-headline", Static)
        if summary is None:
            head.update(Text("No slicing result yet: choose an input and press ctrl+r.", style="italic"))
            self.query_one("#summary-histogram", Static).update("")
            self.query_one("#summary-warnings", Static).update("")
            return
        t = Text(f"{title}: ", style="bold")
        t.append_text(headline(summary))
        head.update(t)
        self.query_one("#summary-histogram", Static).update(histogram_text(summary.get("histogram") or {}))
        self.query_one("#summary-warnings", Static).update(warnings_text(summary))

    def show_message(self, text: Text | str) -> None:
        self.query_one("#summary-headline", Static).update(text)
        self.query_one("#summary-histogram", Static).update("")
        self.query_one("#summary-warnings", Static).update("")
