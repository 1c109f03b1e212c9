"""Tracked jobs: stages run as detached subprocesses that outlive the TUI and the SSH session.

The API is :class:`JobManager` (see :mod:`backend.jobs.manager` for the full description);
records are :class:`JobRecord` (:mod:`backend.jobs.record`). Importing this package is cheap:
no stage, torch or textual is imported until a job is submitted.
"""

from .manager import JobError, JobManager, normalize_gpus
from .record import JobRecord, Progress

__all__ = ["JobError", "JobManager", "JobRecord", "Progress", "normalize_gpus"]
