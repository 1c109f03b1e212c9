"""What the TUI's job watcher reads directly from the job store (cheap file reads, no manager)."""

from __future__ import annotations

from ..jobs.record import JobRecord, load_record, read_progress
from ..progress import EventCursor

__all__ = ["EventCursor", "JobRecord", "load_record", "read_progress"]
