"""A job's progress bar comes to rest when the job is not running.

Textual draws a bar without a total as a moving "busy" pulse. That is right while a job loads
and has not said how far it is, and wrong on a screen with no job or beside a job that failed:
a person reads motion as work going on.
"""

from __future__ import annotations

from textual.widgets import ProgressBar


def idle_bar(**kwargs: object) -> ProgressBar:
    """An empty bar that does not move (until a job gives it a total)."""
    return ProgressBar(total=1, show_eta=False, **kwargs)  # type: ignore[arg-type]


def settle(bar: ProgressBar, complete: bool) -> None:
    """Stop the bar: full when the job succeeded, else left where it stopped (empty if it never began)."""
    total = bar.total or 1
    bar.update(total=total, progress=total if complete else min(bar.progress, total))


def busy(bar: ProgressBar) -> None:
    """The job runs but has not reported how far: pulse."""
    bar.update(total=None)
