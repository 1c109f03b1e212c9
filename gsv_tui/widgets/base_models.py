"""The pretrained base models line of the Training screen: present, missing, or downloading.

Formatting and training start from the official base models of the chosen version (HuBERT,
RoBERTa, s1/s2G/s2D, the speaker-verification model for v2Pro*). This line says whether they
are here, and while the ``fetch-models`` job downloads them, how far it is. Looking for the files
is disk I/O (the HuggingFace cache), so it runs in a thread worker and reports back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.message import Message
from textual.widgets import Static

from backend.app.training import BaseModelsState, base_models_state

from ..display import progress_detail

if TYPE_CHECKING:
    from ..jobwatch import JobView


def state_text(state: BaseModelsState, fetch_key: str) -> Text:
    t = Text(f"Base models ({state.version}): ")
    if not state.missing:
        t.append(f"all {state.total} files here", style="green")
        return t
    t.append(f"{len(state.missing)} of {state.total} files missing", style="bold yellow")
    t.append(f" — {fetch_key} fetches them (a job)", style="italic")
    if state.copy_hint:
        t.append(f"\nwithout the network: {state.copy_hint}", style="dim")
    return t


def progress_text(job: JobView) -> Text:
    if job.progress is None:
        return Text(f"Base models: fetch job {job.id} {job.status}…", style="italic")
    return Text(f"Base models: job {job.id} downloading {progress_detail(job.progress)}", style="italic")


class BaseModels(Static):
    """Whether the chosen version's pretrained files are here; the fetch job's progress."""

    DEFAULT_CSS = "BaseModels { height: auto; padding: 0 1; }"

    class Checked(Message):
        def __init__(self, state: BaseModelsState) -> None:
            super().__init__()
            self.state = state

    def __init__(self, fetch_key: str = "f", **kwargs) -> None:  # noqa: ANN003 - Static's options
        super().__init__("", **kwargs)
        self.fetch_key = fetch_key
        self.version: str | None = None
        self.state: BaseModelsState | None = None
        self.job_id: str | None = None
        self._final_shown: str | None = None

    def set_version(self, version: str | None) -> None:
        self.version = version
        if version is None:
            self.update(Text("Base models: open a project to see which it needs.", style="italic"))
            return
        self.recheck()

    def recheck(self) -> None:
        if self.version is not None:
            self._check(self.version)

    @work(thread=True, group="base-models", exclusive=True, name="base-models-check")
    def _check(self, version: str) -> None:
        try:
            state = base_models_state(version)
        except Exception as e:  # noqa: BLE001 - an unreadable cache must not break the screen
            self.app.call_from_thread(self.update, Text(f"Base models ({version}): cannot look ({e})", style="red"))
            return
        self.post_message(self.Checked(state))

    def on_base_models_checked(self, message: Checked) -> None:
        if message.state.version != self.version:
            return  # an answer for a version no longer chosen
        self.state = message.state
        if self.job_id is None:
            self.update(state_text(message.state, self.fetch_key))

    def follow(self, job_id: str) -> None:
        self.job_id, self._final_shown = job_id, None
        self.update(Text(f"Base models: fetch job {job_id} queued…", style="italic"))

    def show_job(self, job: JobView | None) -> None:
        if job is None or job.id != self.job_id:
            return
        if job.state != "finished":
            self.update(progress_text(job))
            return
        if self._final_shown == job.id:
            return
        self._final_shown = job.id
        self.job_id = None
        if job.outcome != "succeeded":
            why = job.reason or job.message or "see its log in Jobs (5)"
            self.update(Text(f"Base models: download {job.status}: {why}", style="red"))
            return
        self.recheck()
