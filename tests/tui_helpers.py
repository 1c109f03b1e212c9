"""Shared bits of the TUI tests: read what the screen shows, wait for the app to catch up."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable

from textual.app import App
from textual.pilot import Pilot

from backend.app import Application
from gsv_tui.app import GsvApp

SIZE = (80, 24)  # the smallest terminal we promise to work in


def screen_text(app: App[Any]) -> str:
    """The characters on the screen right now, one line per row (styles dropped)."""
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(seg.text for seg in strip) for strip in strips)


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
    return GsvApp(Application.from_args(home=home, list_path=list_path), **kwargs)
