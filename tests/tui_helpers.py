"""Shared bits of the TUI tests: read what the screen shows, wait for the app to catch up."""

from __future__ import annotations

import html
import re
import time
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, TypeVar

from rich.cells import cell_len
from textual.app import App
from textual.pilot import Pilot

from backend.app import Application
from gsv_tui.app import GsvApp

AppT = TypeVar("AppT", bound=App[Any])

SIZE = (80, 24)  # the smallest terminal we promise to work in


_TEXT = re.compile(r'<text [^>]*?x="([\d.]+)"[^>]*?textLength="([\d.]+)"[^>]*?clip-path="url\(#[\w-]+-line-(\d+)\)"'
                   r'[^>]*>(.*?)</text>', re.S)


def screen_text(app: App[Any]) -> str:
    """The characters on the screen right now, one line per row (styles dropped).

    Read from :meth:`App.export_screenshot` (the public way to see the whole screen): each text
    run of the SVG names its row and starts at a cell offset; spaces between runs are filled in.
    """
    width, height = app.size
    rows = [[" "] * width for _ in range(height)]
    for x, length, row, raw in _TEXT.findall(app.export_screenshot()):
        text = html.unescape(raw).replace("\xa0", " ")
        cell = float(length) / len(text)  # the SVG's width of one character cell
        col = round(float(x) / cell)
        for ch in text:
            if 0 <= col < width and int(row) < height:
                rows[int(row)][col] = ch
                if cell_len(ch) == 2 and col + 1 < width:
                    rows[int(row)][col + 1] = ""  # a wide character covers two cells
            col += cell_len(ch)
    return "\n".join("".join(r) for r in rows)


@dataclass(frozen=True)
class Notice:
    message: str
    severity: str


_NOTICES: weakref.WeakKeyDictionary[App[Any], list[Notice]] = weakref.WeakKeyDictionary()


def record_notices(app: AppT) -> AppT:
    """Keep every notification ``app`` shows (through its public ``notify``), expired ones too."""
    shown = _NOTICES.setdefault(app, [])
    show = app.notify

    def notify(message: str, *args: Any, **kwargs: Any) -> None:
        shown.append(Notice(str(message), str(kwargs.get("severity", "information"))))
        show(message, *args, **kwargs)

    app.notify = notify  # type: ignore[method-assign]
    return app


def notices(app: App[Any]) -> list[Notice]:
    """The notifications shown so far by an app set up with :func:`record_notices`."""
    return _NOTICES[app]


async def wait_until(pilot: Pilot[Any], cond: Callable[[], Any], timeout: float = 30.0,
                     what: str = "condition") -> Any:
    """Let the app run until ``cond()`` is truthy (worker threads post their Messages meanwhile)."""
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}\n{screen_text(pilot.app)}")
        await pilot.pause(0.05)


def make_app(home: Path, **kwargs: Any) -> GsvApp:
    """The real app on a workspace folder of the test; the job watcher polls fast."""
    list_path = kwargs.pop("list_path", None)
    kwargs.setdefault("watch_interval", 0.1)
    kwargs.setdefault("listen", False)  # the listening bridge binds a port: only its own tests start it
    return record_notices(GsvApp(Application.from_args(home=home, list_path=list_path), **kwargs))
