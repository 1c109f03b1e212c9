"""Deciding what runs: the workspace lock, GPU leases, the queue, chains, and the refresh pass.

Every process that touches the job store (a CLI, the TUI, each job's supervisor) calls
:func:`schedule` under :func:`store_lock`; that single pass

1. settles running jobs: an ``exit.json`` written by the supervisor finalizes the record; a job
   whose process is gone (or whose pid now belongs to a newer process: start-time mismatch)
   with no exit record is marked ``lost``;
2. removes GPU leases held by jobs that are no longer running;
3. walks the queue oldest first and starts every job that can run: its chain predecessor
   succeeded (a failed/cancelled/lost predecessor cancels it) and each of its GPUs is free.
   A job waiting for a GPU claims it, so a later job cannot overtake it on that GPU.

Because each supervisor runs this pass when its job ends, the queue advances with no TUI or
CLI open. The lock is one ``flock`` on ``<jobs_dir>/.lock`` (re-entrant within a process); a
lease is a file ``<jobs_dir>/.leases/gpu-<id>`` created with O_EXCL holding the job id.
"""

from __future__ import annotations

import fcntl
import os
import re
import subprocess
import sys
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from . import procs
from .record import (EXIT_FILE, LOG_FILE, RESULT_FILE, SUPERVISOR_LOG, JobRecord, job_dirs, load_record,
                     now_iso, read_json_file)

LOCK_FILE = ".lock"
LEASE_DIR = ".leases"
GPU_ID_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
OOM_PATTERNS = ("CUDA out of memory", "torch.OutOfMemoryError", "torch.cuda.OutOfMemoryError",
                "CUBLAS_STATUS_ALLOC_FAILED")

# --- the workspace lock ------------------------------------------------------------------

_registry_lock = threading.Lock()
_thread_locks: dict[str, threading.RLock] = {}
_held: dict[str, tuple[int, int]] = {}  # key -> (fd, depth); touched only under that key's RLock


@contextmanager
def store_lock(jobs_dir: Path) -> Iterator[None]:
    """Exclusive access to the job store across processes (flock) and threads (RLock); re-entrant."""
    key = str(Path(jobs_dir).absolute())
    with _registry_lock:
        rl = _thread_locks.setdefault(key, threading.RLock())
    with rl:
        fd, depth = _held.get(key, (-1, 0))
        if depth == 0:
            Path(jobs_dir).mkdir(parents=True, exist_ok=True)
            fd = os.open(Path(jobs_dir) / LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            fcntl.flock(fd, fcntl.LOCK_EX)
        _held[key] = (fd, depth + 1)
        try:
            yield
        finally:
            fd, depth = _held[key]
            if depth == 1:
                del _held[key]
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)
            else:
                _held[key] = (fd, depth - 1)


# --- GPU leases --------------------------------------------------------------------------

def _lease_path(jobs_dir: Path, gpu: str) -> Path:
    return jobs_dir / LEASE_DIR / f"gpu-{gpu}"


def lease_holder(jobs_dir: Path, gpu: str) -> str | None:
    try:
        return _lease_path(jobs_dir, gpu).read_text(encoding="utf-8").strip() or None
    except (FileNotFoundError, OSError):
        return None


def _take_leases(jobs_dir: Path, job: JobRecord) -> bool:
    """Create every lease of the job (O_EXCL), or none of them."""
    (jobs_dir / LEASE_DIR).mkdir(parents=True, exist_ok=True)
    taken: list[Path] = []
    for gpu in job.gpus:
        path = _lease_path(jobs_dir, gpu)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            for p in taken:
                p.unlink(missing_ok=True)
            return False
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(job.id + "\n")
        taken.append(path)
    return True


def release_leases(jobs_dir: Path, job: JobRecord) -> None:
    for gpu in job.gpus:
        if lease_holder(jobs_dir, gpu) == job.id:
            _lease_path(jobs_dir, gpu).unlink(missing_ok=True)


def _drop_stale_leases(jobs_dir: Path, running: set[str]) -> None:
    lease_dir = jobs_dir / LEASE_DIR
    if not lease_dir.is_dir():
        return
    for path in lease_dir.iterdir():
        if path.name.startswith("gpu-"):
            holder = lease_holder(jobs_dir, path.name[4:])
            if holder not in running:
                path.unlink(missing_ok=True)


# --- finishing a record ------------------------------------------------------------------

def finalize(jobs_dir: Path, job: JobRecord, outcome: str, reason: str | None, *,
             exit_code: int | None = None, sig: int | None = None, when: str | None = None) -> None:
    """Mark the job finished with its outcome, save, and free its GPUs (caller holds the lock)."""
    job.state = "finished"
    job.outcome = outcome
    job.reason = reason
    job.exit_code = exit_code
    job.signal = sig
    job.finished = when or now_iso()
    job.save()
    release_leases(jobs_dir, job)


def _log_mentions_oom(job: JobRecord, tail_bytes: int = 262144) -> bool:
    try:
        with open(job.path(LOG_FILE), "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - tail_bytes))
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return False
    return any(p in text for p in OOM_PATTERNS)


def finalize_from_exit(jobs_dir: Path, job: JobRecord, exit_rec: dict) -> None:
    """Turn the supervisor's exit record (+ the runner's result) into an outcome.

    Succeeded needs exit code 0 *and* every expected output present now (checked again here, not
    only by the runner: the record must say what is true when it is written)."""
    code = exit_rec.get("exit_code")
    sig = exit_rec.get("signal")
    result = read_json_file(job.path(RESULT_FILE)) or {}
    how = f"killed by signal {sig} ({procs.signal_name(sig)})" if sig else f"exit code {code}"
    if job.cancel_requested and not (code == 0 and not sig):
        finalize(jobs_dir, job, "cancelled", f"cancelled: {how}", exit_code=code, sig=sig, when=exit_rec.get("time"))
        return
    if code == 0 and not sig:  # (also when a cancel came too late: the stage had finished)
        if "expected_outputs" not in result:
            finalize(jobs_dir, job, "failed", "exit code 0 but the stage runner left no result record",
                     exit_code=code, when=exit_rec.get("time"))
            return
        missing = [p for p in result["expected_outputs"] if not Path(p).exists()]
        if missing:
            finalize(jobs_dir, job, "failed", missing_outputs_reason(missing), exit_code=code, when=exit_rec.get("time"))
        else:
            finalize(jobs_dir, job, "succeeded", None, exit_code=0, when=exit_rec.get("time"))
        return
    reason = how if sig else str(result.get("reason") or how)
    if "CUDA out of memory" not in reason and _log_mentions_oom(job):
        # e.g. a torchrun worker ran out of memory and the stage only saw "worker failed"
        reason = f"CUDA out of memory (in the log); {reason}"
    finalize(jobs_dir, job, "failed", reason, exit_code=code, sig=sig, when=exit_rec.get("time"))


def missing_outputs_reason(missing: list[str]) -> str:
    shown = ", ".join(missing[:3])
    more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
    return f"expected output missing: {shown}{more}"


def _settle_running(jobs_dir: Path, job: JobRecord) -> None:
    """Bring a ``running`` record in line with reality (see module docstring, step 1)."""
    exit_rec = read_json_file(job.path(EXIT_FILE))
    if exit_rec is not None:
        finalize_from_exit(jobs_dir, job, exit_rec)
        return
    same_boot = job.boot_id is None or job.boot_id == procs.boot_id()  # after a reboot every pid is new
    if same_boot and job.pid and procs.is_alive(job.pid, job.pid_start_time):
        return
    if same_boot and procs.is_alive(job.supervisor_pid, job.supervisor_start_time):
        return  # the stage just ended (or is about to start); the supervisor will write the exit record
    if job.cancel_requested:
        finalize(jobs_dir, job, "cancelled", "cancelled (the job's processes were gone; no exit record)")
    elif job.pid:
        finalize(jobs_dir, job, "lost", "process vanished without an exit record")
    else:
        hint = ""
        try:
            if job.path(SUPERVISOR_LOG).stat().st_size:
                hint = f" (see {job.path(SUPERVISOR_LOG)})"
        except OSError:
            pass
        finalize(jobs_dir, job, "lost", "supervisor vanished before starting the stage" + hint)


# --- starting a job ----------------------------------------------------------------------

def _package_root() -> str:
    return str(Path(__file__).resolve().parents[2])


def job_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for supervisor and runner: ours, with this code base first on the path."""
    env = dict(os.environ)
    root = _package_root()
    old = env.get("PYTHONPATH")
    env["PYTHONPATH"] = root + (os.pathsep + old if old else "")
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


def spawn_supervisor(job_dir: Path) -> int:
    """Start ``python -m backend.jobs.supervisor JOB_DIR`` fully detached; return its pid.

    The first process (new session) forks the real supervisor, prints its pid and exits at once, so
    the supervisor's parent is init (or the nearest subreaper), never the caller: killing the caller,
    closing its terminal or ending the SSH session does not touch the job, and the caller is not left
    with a child to reap."""
    with open(job_dir / SUPERVISOR_LOG, "ab") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "backend.jobs.supervisor", str(job_dir)],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err,
            start_new_session=True, close_fds=True, cwd=str(job_dir), env=job_env(),
        )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    proc.stdout.close()
    proc.wait()
    try:
        return int(line.strip())
    except ValueError:
        raise RuntimeError(f"the supervisor did not start (see {job_dir / SUPERVISOR_LOG})") from None


def _launch(jobs_dir: Path, job: JobRecord) -> None:
    job.state = "running"
    job.started = now_iso()
    job.save()
    try:
        assert job.job_dir is not None
        pid = spawn_supervisor(job.job_dir)
    except (OSError, RuntimeError) as e:
        finalize(jobs_dir, job, "failed", f"could not start the job: {e}")
        return
    job.supervisor_pid = pid
    job.supervisor_start_time = procs.start_time(pid)
    job.boot_id = procs.boot_id()
    job.save()


# --- the pass ----------------------------------------------------------------------------

def load_all(jobs_dir: Path, with_progress: bool = False) -> list[JobRecord]:
    return [load_record(d, with_progress=with_progress) for d in job_dirs(jobs_dir)]


def schedule(jobs_dir: Path) -> None:
    """Settle running jobs, drop stale leases, start what can start. Takes the store lock."""
    jobs_dir = Path(jobs_dir)
    with store_lock(jobs_dir):
        records = load_all(jobs_dir)
        by_id = {r.id: r for r in records if not r.is_corrupt}
        for job in records:
            if job.state == "running" and not job.is_corrupt:
                _settle_running(jobs_dir, job)
        running = {r.id for r in records if r.state == "running"}
        _drop_stale_leases(jobs_dir, running)

        claimed: set[str] = set()
        queued = sorted((r for r in records if r.state == "queued" and not r.is_corrupt),
                        key=lambda r: (r.created, r.id))
        for job in queued:
            if job.cancel_requested:
                finalize(jobs_dir, job, "cancelled", "cancelled before it started")
                continue
            if job.after:
                pred = by_id.get(job.after)
                if pred is None:
                    finalize(jobs_dir, job, "cancelled",
                             f"not started: job {job.after}, which it was chained after, is missing or unreadable")
                    continue
                if not pred.is_finished:
                    continue
                if pred.outcome != "succeeded":
                    finalize(jobs_dir, job, "cancelled",
                             f"not started: job {pred.id} ({pred.stage}), which it was chained after, {pred.outcome}")
                    continue
            wanted = set(job.gpus)
            busy = wanted & claimed or any(lease_holder(jobs_dir, g) not in (None, job.id) for g in wanted)
            claimed |= wanted
            if busy or not _take_leases(jobs_dir, job):
                continue
            _launch(jobs_dir, job)


def waiting_reason(jobs_dir: Path, job: JobRecord) -> str | None:
    """Why a queued job has not started (for people): its predecessor, or who holds its GPUs."""
    if job.state != "queued":
        return None
    if job.after:
        pred = load_record(Path(jobs_dir) / job.after, with_progress=False)
        if not pred.is_finished:
            return f"waiting for job {job.after} ({pred.stage}) to succeed"
    holders = {g: lease_holder(Path(jobs_dir), g) for g in job.gpus}
    busy = {g: h for g, h in holders.items() if h and h != job.id}
    if busy:
        return "waiting for " + ", ".join(f"GPU {g} (held by job {h})" for g, h in busy.items())
    if job.gpus:
        return "waiting behind an earlier job for GPU " + ",".join(job.gpus)
    return "starting"
