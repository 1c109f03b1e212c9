"""The Inference screen's server panel: where the project's voice is served and who asked for what.

Shown only while a serve job exists for the project. It is docked under the form so that the
address, the bound socket, a curl line to paste and the last requests stay on screen at 80×24
however far the form is scrolled.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from backend.app.serve import ServeLog

LOG_LINES = 3  # the newest requests; the Jobs screen (key 5) has the whole log


class ServePanel(Static):
    DEFAULT_CSS = """
    ServePanel { dock: bottom; height: auto; max-height: 9; border-top: solid $accent; padding: 0 1;
                 display: none; }
    ServePanel.-shown { display: block; }
    """

    def show_log(self, status: str, log: ServeLog | None, stop_key: str | None) -> None:
        """``status``: the job in words (starting, serving, or how it ended); ``stop_key``: the
        key that stops it, None once it has stopped."""
        self.set_class(True, "-shown")
        t = Text()
        t.append("Server ", style="bold")
        if log is not None and log.url:
            t.append(log.url, style="bold green")
            if log.bound:
                t.append(f"  bound {log.bound}")
            t.append(f"  {status}", style="dim")
        else:
            t.append(status, style="italic")
        if stop_key:
            t.append(f" · {stop_key} stops", style="dim")
        if log is not None and log.curl:
            t.append("\n" + log.curl)
        for line in (log.lines[-LOG_LINES:] if log is not None else []):
            t.append("\n" + line, style="" if line.startswith(("GET ", "POST ")) else "dim")
        self.update(t)

    def hide(self) -> None:
        self.set_class(False, "-shown")
        self.update("")
