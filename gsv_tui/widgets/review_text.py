"""What the Transcripts screen writes on its lines: title, clip rows, the clip detail, the status.

Plain functions of the transcript and the screen's state, so the screen class keeps only the
keys and the flow.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text

from backend.app.review import SAVED, flag_help
from backend.errors import GsvError

from .clip_table import ClipRow

if TYPE_CHECKING:
    from backend.app.review import Transcript

SORT_LABELS = {"file": "file order", "confidence": "worst ASR confidence first",
               "duration": "longest first"}


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "…"
    return f"{seconds:5.1f}"


def format_total(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def title_text(path: Path | None, transcribe_key: str = "ctrl+t") -> Text:
    t = Text(no_wrap=True, overflow="ellipsis")
    if path is None:
        t.append(f"No transcript yet: {transcribe_key} on Dataset (1) transcribes the clips; "
                 "ctrl+o opens a .list", style="italic")
    else:
        t.append("Reviewing ", style="bold")
        t.append(path.name, style="bold")
        t.append(f"  in {path.parent}", style="dim")
    return t


def clip_row(t: "Transcript", n: int) -> ClipRow:
    """Clip ordinal ``n`` as a table row (blank while a worker is changing the list)."""
    try:
        c = t.clip(n)
        flags = t.flags(n)
        return ClipRow(str(n + 1), format_duration(t.known_duration(n)), c.lang,
                       ",".join(flags), c.text.strip(), t.is_reviewed(n), "missing" in flags)
    except (GsvError, IndexError, AttributeError):  # mid-edit in a worker: redrawn after it
        return ClipRow("", "", "", "", "")


def clip_text(t: "Transcript", n: int) -> Text:
    """The clip's whole text, wrapped: the table's text column is cut at the terminal's edge."""
    text = t.clip(n).text.strip()
    return Text(text, no_wrap=False, overflow="fold") if text else Text("(no text)", style="italic red")


def detail_text(t: "Transcript", n: int, width: int = 0) -> Text:
    """The clip's number, what each of its flags means (red), its file name and folder: in that
    order, so the folder is what a narrow screen cuts — from its left, keeping the end that
    tells folders apart (``width``: the line's cells, 0 for no limit)."""
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(f"{n + 1}/{len(t)}  ", style="bold")
    flags = t.flags(n)
    if flags:
        help_of = flag_help()
        text.append("; ".join(help_of[f] for f in flags) + "  ", style="red")
    folder, _, name = t.clip(n).path.replace("\\", "/").rpartition("/")
    text.append(name)
    if folder:
        room = width - text.cell_len - 6 if width else len(folder)
        if room < len(folder):
            folder = "…" + folder[len(folder) - max(room - 1, 0):] if room > 8 else ""
        if folder:
            text.append(f"  in {folder}", style="dim")
    return text


def status_text(t: "Transcript", stats: dict[str, Any], durations_done: tuple[int, int], sort_kind: str,
                autoplay: bool, saved_state: str, busy: str | None) -> Text:
    line = Text(no_wrap=True, overflow="ellipsis")
    line.append(f"{len(t)} clips")
    if stats:
        line.append(f" · {stats['reviewed']} reviewed · ")
        line.append(f"{stats['flagged']} flagged", style="red" if stats["flagged"] else "")
        line.append(f" · {format_total(stats['seconds'])} kept")
    done, total = durations_done
    if total and done < total:
        line.append(f" · reading durations {done}/{total}", style="italic")
    line.append(f" · sort: {SORT_LABELS[sort_kind]}")
    if autoplay:
        line.append(" · auto-play")
    line.append(f" · {saved_state}", style="green" if saved_state == SAVED else "yellow")
    if busy:
        line.append(f" · {busy}…", style="italic")
    return line
