"""A job's log with follow mode, bounded so a long training log cannot eat the memory."""

from __future__ import annotations

from textual.widgets import Log

MAX_LINES = 2000


class LogView(Log):
    """Keeps the last ``MAX_LINES`` lines. With follow on, new lines scroll into view."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(max_lines=MAX_LINES, auto_scroll=True, **kwargs)  # type: ignore[arg-type]
        self.job_id: str | None = None

    @property
    def follow(self) -> bool:
        return self.auto_scroll

    def set_follow(self, on: bool) -> None:
        self.auto_scroll = on
        if on:
            self.scroll_end(animate=False)
        self.refresh_title()

    def show_lines(self, job_id: str, lines: list[str], reset: bool) -> None:
        if reset:
            self.clear()
            self.job_id = job_id or None
            self.refresh_title()
        if lines:
            self.write_lines(lines)

    def refresh_title(self) -> None:
        who = f"log of {self.job_id}" if self.job_id else "log (no job selected)"
        self.border_title = f"{who} — follow {'on' if self.follow else 'off'} (f)"
