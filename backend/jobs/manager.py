"""The job API used by the TUI and the ``gsv`` CLI.

Everything is files under one ``jobs_dir`` (``Workspace(...).jobs_dir``, i.e. ``<home>/jobs``), so any
number of TUIs, CLIs and supervisors can use it at once; every method is safe to call from any
thread or process. None of it imports torch or textual.

    from backend.jobs import JobManager, JobRecord, JobError

    jm = JobManager(workspace.jobs_dir)
    job = jm.submit("sleep", {"seconds": 3.0}, project="alice", gpus=["0"], after=None)
                      # params: the JSON form of the stage's Params, or a Params instance
    job.id            # "20261201-131500-ab12"
    jm.list()         # every job, oldest first, progress filled in; unreadable ones as outcome "corrupt"
    jm.get(job.id)    # one record (also accepts a unique prefix or suffix of an id)
    jm.reconcile()    # refresh: settle ended/vanished jobs (lost), start queued jobs that can run now
    jm.cancel(job.id, grace=5.0)   # TERM the group, wait, KILL, verify (blocks: use a worker thread)
    jm.wait(job.id, poll=0.2, timeout=None)   # block until finished; returns the final record
    jm.log_path(job.id), jm.events_path(job.id)   # log.txt (stdout+stderr), events.jsonl
    jm.waiting_reason(job)  # for a queued job: "waiting for GPU 0 (held by job …)" etc.
    jm.problems()     # what is damaged in the store, one line each (gsv jobs list prints them)

:class:`~backend.jobs.record.JobRecord` fields: ``id, stage, project, params (dict), state
("queued" | "running" | "finished"), outcome (None | "succeeded" | "failed" | "cancelled" | "lost" |
"corrupt"), exit_code, signal, reason (human text), gpus (list[str]), after, created, started,
finished (ISO-8601 UTC strings), pid, pgid, pid_start_time, argv, progress`` (a
:class:`~backend.jobs.record.Progress`: ``done, total, unit, label, fraction``), ``error`` (why a
corrupt record could not be read), ``log_path``, ``events_path``. ``record.to_json()`` gives the dict
``gsv jobs list --json`` prints (the fields above plus ``progress`` as a dict and ``dir/log/events``;
the CLI adds ``waiting``).

For live progress in a UI, tail the events file with :class:`backend.progress.EventCursor`
(it reads only the new complete lines) instead of calling ``list()`` at a high rate; call
``reconcile()`` now and then (every few seconds, off the UI thread) to notice ended/lost jobs and
to start queued ones. ``list()`` and ``get()`` only read files; ``reconcile()``, ``submit()`` and
``cancel()`` may start processes (supervisors, which detach at once).

Stable names for readers that watch the files directly (the TUI's watcher thread does):
``backend.jobs.record``: ``job_dirs(jobs_dir)``, ``load_record(dir)`` (never raises),
``read_progress(events_path)``, ``RECORD_FILE``, ``EVENTS_FILE``, ``LOG_FILE``.

Errors a person can cause (unknown stage or job id, bad parameters, bad GPU id, cancelling a
finished job) raise :class:`JobError`, a :class:`~backend.errors.GsvError` with a ``fix``.
"""

from __future__ import annotations

import builtins
import dataclasses
import os
import time
from pathlib import Path
from typing import Any

from ..errors import GsvError
from . import procs, scheduler
from .record import (
    EVENTS_FILE,
    LOG_FILE,
    RECORD_FILE,
    JobRecord,
    job_dirs,
    load_record,
    new_job_id,
    now_iso,
    valid_gpu_id,
)


class JobError(GsvError):
    """A job request that cannot be honoured (unknown job/stage, bad parameters, wrong state)."""


class JobManager:
    """Submit, list, inspect, cancel and wait for jobs stored under ``jobs_dir``."""

    def __init__(self, jobs_dir: Path | str) -> None:
        self.jobs_dir = Path(jobs_dir).absolute()

    # --- reading -----------------------------------------------------------------------
    def list(self) -> list[JobRecord]:
        """Every job, oldest first, with progress; corrupt records included (outcome "corrupt")."""
        return [load_record(d) for d in job_dirs(self.jobs_dir)]

    def resolve_id(self, job_id: str) -> str:
        """The full id for ``job_id`` or a unique prefix/suffix of one (``ab12`` for ``…-ab12``)."""
        job_id = job_id.strip()
        if job_id and not job_id.startswith(".") and "/" not in job_id and (self.jobs_dir / job_id).is_dir():
            return job_id
        ids = [d.name for d in job_dirs(self.jobs_dir)]
        hits = [i for i in ids if job_id and (i.startswith(job_id) or i.endswith(job_id))]
        if len(hits) == 1:
            return hits[0]
        if not hits:
            raise JobError(f"no job {job_id!r} in {self.jobs_dir}", "list jobs with `gsv jobs list`")
        raise JobError(f"job id {job_id!r} is ambiguous: {', '.join(hits[:5])}", "give more of the id")

    def get(self, job_id: str) -> JobRecord:
        return load_record(self.jobs_dir / self.resolve_id(job_id))

    def log_path(self, job_id: str) -> Path:
        return self.jobs_dir / self.resolve_id(job_id) / LOG_FILE

    def events_path(self, job_id: str) -> Path:
        return self.jobs_dir / self.resolve_id(job_id) / EVENTS_FILE

    def waiting_reason(self, job: JobRecord) -> str | None:
        return scheduler.waiting_reason(self.jobs_dir, job)

    def problems(self) -> "builtins.list[str]":
        """What is wrong in the store (unreadable records, garbled leases, …), one line each."""
        return scheduler.store_problems(self.jobs_dir)

    # --- changing ----------------------------------------------------------------------
    def reconcile(self) -> None:
        """Settle running jobs (finished → outcome, vanished → lost) and start runnable queued ones."""
        scheduler.schedule(self.jobs_dir)

    def submit(self, stage: str, params: Any, *, project: str | None = None,
               gpus: builtins.list[str] | None = None, after: str | None = None) -> JobRecord:
        """Queue a stage run and start it if it can run now. ``params`` is the stage's Params (or
        its JSON form, as a job record keeps it); it is validated here — types, then the stage's
        ``Params.problems()`` — so a typo or a value out of range fails now, not in the job. ``gpus``: the GPU ids the job leases (all at once); None/[] for a
        CPU job. ``after``: run only after that job succeeded."""
        from ..stages import get_stage
        from ..stages.base import params_from_json, params_to_json

        if dataclasses.is_dataclass(params) and not isinstance(params, type):
            params = params_to_json(params)
        try:
            mod = get_stage(stage)
        except KeyError as e:
            raise JobError(str(e.args[0]), "run `gsv --help` for the list of stages") from None
        try:
            typed = params_from_json(mod.Params, dict(params))
        except (TypeError, ValueError) as e:
            raise JobError(f"stage {stage}: bad parameters: {e}", "check the parameter names and types") from None
        problems = typed.problems() if hasattr(typed, "problems") else []
        if problems:  # the stage's declared rules: refused now, not discovered (or reinterpreted) in the job
            raise JobError(f"stage {stage}: " + "; ".join(problems), "change the values named")
        params = params_to_json(typed)
        if project is None and hasattr(mod, "project_of"):
            project = mod.project_of(typed)
        gpu_ids = normalize_gpus(gpus)
        with scheduler.store_lock(self.jobs_dir):
            after_id = self.resolve_id(after) if after else None
            job_id = new_job_id()
            while (self.jobs_dir / job_id).exists():
                job_id = new_job_id()
            tmp = self.jobs_dir / f"{scheduler.NEW_PREFIX}{job_id}"
            tmp.mkdir(parents=True)
            job = JobRecord(id=job_id, stage=stage, params=params, project=project, gpus=gpu_ids,
                            after=after_id, created=now_iso(), cwd=os.getcwd(), job_dir=tmp)
            job.save()
            for name in (EVENTS_FILE, LOG_FILE):
                (tmp / name).touch()
            os.replace(tmp, self.jobs_dir / job_id)  # the job appears whole or not at all
            scheduler.schedule(self.jobs_dir)
        return self.get(job_id)

    def cancel(self, job_id: str, grace: float = 5.0) -> JobRecord:
        """Cancel a queued job (it never starts) or a running one: SIGTERM to its process group,
        ``grace`` seconds, SIGKILL, then verify that no process of the group is left. Returns the
        final record (outcome "cancelled"; reason notes any process that survived). Blocks for up
        to ``grace`` + a few seconds: call it off the UI thread."""
        jid = self.resolve_id(job_id)
        with scheduler.store_lock(self.jobs_dir):
            job = load_record(self.jobs_dir / jid, with_progress=False)
            if job.is_corrupt:
                raise JobError(f"job {jid} has an unreadable record: {job.error}",
                               f"look at {self.jobs_dir / jid / RECORD_FILE}; its processes (if any) must be stopped by hand")
            if job.is_finished:
                raise JobError(f"job {jid} already finished ({job.outcome})", "nothing to cancel")
            job.cancel_requested = True
            job.save()
            if job.state == "queued":
                scheduler.finalize(self.jobs_dir, job, "cancelled", "cancelled before it started")
                scheduler.schedule(self.jobs_dir)
                return self.get(jid)
            pgid = job.pgid
            alive = scheduler.job_processes(job)
            own_group = pgid is not None and (alive.runner or bool(alive.group))
        # (a group that outlived its runner and supervisor is still the job's: it is stopped too)
        survivors = procs.terminate_group(pgid, grace=grace) if own_group and pgid else []
        # The supervisor sees the runner end and finalizes (outcome cancelled); wait for it briefly,
        # settling the record ourselves if the supervisor is gone.
        deadline = time.monotonic() + 10.0
        while True:
            self.reconcile()
            job = self.get(jid)
            if job.is_finished or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        if survivors:
            with scheduler.store_lock(self.jobs_dir):
                job = load_record(self.jobs_dir / jid, with_progress=False)
                job.reason = f"{job.reason or 'cancelled'}; still alive after SIGKILL: pids {survivors}"
                job.save()
            job = self.get(jid)
        return job

    def wait(self, job_id: str, poll: float = 0.2, timeout: float | None = None) -> JobRecord:
        """Block until the job is finished and return its record (refreshing every ~2 s so that a
        vanished job is reported lost rather than waited on forever). ``timeout``: raise
        TimeoutError after that many seconds."""
        jid = self.resolve_id(job_id)
        start = last = time.monotonic()
        while True:
            job = self.get(jid)
            if job.is_finished:
                return job
            now = time.monotonic()
            if now - last >= 2.0:
                self.reconcile()
                last = now
            if timeout is not None and now - start > timeout:
                raise TimeoutError(f"job {jid} still {job.state} after {timeout:g} s")
            time.sleep(poll)


def normalize_gpus(gpus: list[str] | str | None) -> list[str]:
    """``"0,1"`` or ``["0", 1]`` -> ``["0", "1"]`` (order kept, duplicates dropped); refuses odd ids."""
    if gpus is None:
        return []
    items = gpus.split(",") if isinstance(gpus, str) else [str(g) for g in gpus]
    out: list[str] = []
    for g in (i.strip() for i in items):
        if not g:
            continue
        if not valid_gpu_id(g):
            raise JobError(f"GPU id {g[:40]!r} is not usable", "give GPU indices like 0 or 0,1")
        if g not in out:
            out.append(g)
    return out
