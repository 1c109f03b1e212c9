"""The table of jobs: one row per job, updated in place from watcher snapshots."""

from __future__ import annotations

import time

from rich.text import Text
from textual.widgets import DataTable

from ..display import clock_text, duration_text, gpus_text, progress_text
from ..jobwatch import JobsSnapshot, JobView

# (key, label, fixed width or None to fit the content). What a person scans for comes first —
# which job, its state, how far, for how long — so at 80 columns only Project and GPU (both in
# the detail lines below the table) are past the edge.
COLUMNS = (("id", "ID", None), ("stage", "Stage", None), ("status", "State", 9), ("progress", "Progress", 11),
           ("time", "Time", None), ("started", "Start", None), ("project", "Project", None), ("gpu", "GPU", None))
COLUMN_INDEX = {key: i for i, (key, _, _) in enumerate(COLUMNS)}

STATUS_STYLE = {"running": "bold green", "queued": "yellow", "succeeded": "green",
                "failed": "bold red", "lost": "bold magenta", "cancelled": "dim"}


def status_cell(job: JobView) -> Text:
    return Text(job.status, style=STATUS_STYLE.get(job.status, ""))


class JobsTable(DataTable[object]):
    """Rows keyed by job id; the cursor stays on the same job across updates."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)  # type: ignore[arg-type]
        self._order: tuple[str, ...] = ()
        self._jobs: dict[str, JobView] = {}

    def on_mount(self) -> None:
        for key, label, width in COLUMNS:
            self.add_column(label, key=key, width=width)

    @property
    def selected_id(self) -> str | None:
        if not self.row_count:
            return None
        try:
            return str(self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value)
        except Exception:
            return None

    def cells(self, job: JobView, now: float) -> dict[str, object]:
        return {
            "id": job.id, "stage": job.stage, "project": job.project or "", "status": status_cell(job),
            "progress": progress_text(job.progress), "gpu": gpus_text(job),
            "started": clock_text(job.started), "time": duration_text(job, now),
        }

    def show(self, snap: JobsSnapshot) -> None:
        now = time.time()
        order = tuple(j.id for j in snap.jobs)
        if order != self._order:
            keep = self.selected_id
            self.clear()
            for job in snap.jobs:
                c = self.cells(job, now)
                self.add_row(*(c[k] for k, _, _ in COLUMNS), key=job.id)
            self._order = order
            if keep in order:
                self.move_cursor(row=order.index(keep))
        else:
            for job in snap.jobs:
                if self._jobs.get(job.id) != job:
                    for k, v in self.cells(job, now).items():
                        self.update_cell(job.id, k, v, update_width=True)
        self._jobs = {j.id: j for j in snap.jobs}

    def tick(self) -> None:
        """Advance the Time column of running jobs (no I/O: the values are in memory)."""
        now = time.time()
        for job in self._jobs.values():
            if job.state == "running":
                self.update_cell(job.id, "time", duration_text(job, now), update_width=True)
