"""Shared bits of the job-system tests: run the real ``gsv`` CLI, poll for a condition."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

REPO = Path(__file__).resolve().parents[1]


def gsv_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "backend.cli", *args]


def gsv(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run ``gsv ARGS`` in a fresh process (environment: this test's GSV_HOME / GSV_CONFIG)."""
    return subprocess.run(gsv_argv(*args), capture_output=True, text=True, timeout=timeout, cwd=REPO,
                          env=dict(os.environ))


def gsv_json(*args: str) -> Any:
    r = gsv(*args)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def poll(cond: Callable[[], Any], timeout: float = 30.0, every: float = 0.05, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(every)


def cancel_all(home: Path) -> None:
    """Leave no job of the workspace at ``home`` running behind a test."""
    from backend.jobs import JobError, JobManager
    from backend.workspace import Workspace

    jm = JobManager(Workspace(home).jobs_dir)
    for job in jm.list():
        if job.state != "finished" and not job.is_corrupt:
            try:
                jm.cancel(job.id, grace=1.0)
            except JobError:  # a chained job is cancelled with its predecessor meanwhile
                pass
