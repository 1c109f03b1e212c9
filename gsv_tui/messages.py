"""Messages that carry results from worker threads back to the UI thread."""

from __future__ import annotations

from typing import Any

from textual.message import Message

from .jobwatch import JobsSnapshot


class JobsUpdated(Message):
    """The job watcher saw a change in the records or in a job's events."""

    def __init__(self, snapshot: JobsSnapshot) -> None:
        super().__init__()
        self.snapshot = snapshot


class LogLines(Message):
    """New lines of the followed job's log; ``reset`` means a different job (clear first)."""

    def __init__(self, job_id: str, lines: list[str], reset: bool) -> None:
        super().__init__()
        self.job_id = job_id
        self.lines = lines
        self.reset = reset


class JobsUnavailable(Message):
    """The job store could not be read (``problem``; shown once, the watcher keeps trying),
    or can be read again (``problem`` is None)."""

    def __init__(self, problem: str | None) -> None:
        super().__init__()
        self.problem = problem


class JobSubmitted(Message):
    """A screen's ``submit_job`` was accepted by the job system."""

    def __init__(self, job_id: str, stage: str) -> None:
        super().__init__()
        self.job_id = job_id
        self.stage = stage


class JobRefused(Message):
    """A screen's ``submit_job`` was refused (unknown stage, bad parameters, bad GPU id…)."""

    def __init__(self, stage: str, error: Any) -> None:
        super().__init__()
        self.stage = stage
        self.error = error  # a backend.errors.GsvError


class ListenChanged(Message):
    """A browser tab connected to or left the listening bridge (posted from its server thread)."""
