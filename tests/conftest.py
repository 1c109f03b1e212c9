"""Shared test set-up: never reach the network, never touch the user's real workspace."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from backend.jobs import JobManager

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("MODELSCOPE_OFFLINE", "1")

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test gets its own workspace and config unless it sets its own."""
    base = tmp_path_factory.mktemp("gsvhome")
    monkeypatch.setenv("GSV_HOME", str(base / "home"))
    monkeypatch.setenv("GSV_CONFIG", str(base / "config.toml"))


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture
def one_thread(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """One torch thread here, and in the processes the test starts (OMP_NUM_THREADS)."""
    from thread_helpers import torch_threads

    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    with torch_threads(1):
        yield


@pytest.fixture
def jm() -> Iterator[JobManager]:
    """A job manager on the test's own workspace; no job of the test is left running afterwards."""
    from backend.jobs import JobError, JobManager
    from backend.workspace import Workspace

    manager = JobManager(Workspace().jobs_dir)
    yield manager
    for job in manager.list():
        if not job.is_finished and not job.is_corrupt:
            try:
                manager.cancel(job.id, grace=0.5)
            except JobError:  # finished meanwhile
                pass
