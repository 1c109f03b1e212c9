"""Deciding what runs: the workspace lock, GPU leases, the queue, chains, and the refresh pass.

Every process that touches the job store (a CLI, the TUI, each job's supervisor) calls
:func:`schedule` under :func:`store_lock`; that single pass

1. repairs the store: removes the folders of submissions cut short (``.new-*``), moves a ``.leases``
   that is not a folder aside, and gives every running job back a lease file it lost;
2. settles running jobs. A job is over only when its whole process group is gone (a DDP worker
   that outlives its runner still holds the GPU). Its outcome then comes from the supervisor's
   ``exit.json``, else from the stage's own ``result.json`` and expected outputs (the supervisor
   died), else it is ``lost``. A job whose stage never started (its launcher or supervisor was
   killed in the launch window) is started again, not declared lost;
3. removes GPU leases whose holder is over — judged from the lease file's own process facts when
   the holder's record is unreadable, so a corrupt record never frees a busy GPU;
4. walks the queue oldest first and starts every job that can run: its chain predecessor
   succeeded (a failed/cancelled/lost predecessor cancels it) and each of its GPUs is free.
   A job waiting for a GPU claims it, so a later job cannot overtake it on that GPU.

Because each supervisor runs this pass when its job ends, the queue advances with no TUI or
CLI open; when a supervisor dies, its runner (or the next pass) starts an adopting supervisor that
waits for the job's processes and then runs the pass. The lock is one ``flock`` on
``<jobs_dir>/.lock`` (re-entrant within a process); a lease is a file
``<jobs_dir>/.leases/gpu-<id>`` created with O_EXCL holding the job id and, once the stage runs,
its process group, start time and boot.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import shutil
import stat
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from ..errors import GsvError
from ..fsutil import read_json_file
from . import procs
from .record import (
    EXIT_FILE,
    JOB_ID_RE,
    LOG_FILE,
    RESULT_FILE,
    SUPERVISOR_LOG,
    JobRecord,
    int_in_range,
    job_dirs,
    load_record,
    now_iso,
)

LOCK_FILE = ".lock"
LEASE_DIR = ".leases"
NEW_PREFIX = ".new-"  # a job folder being created (under the lock); renamed to its id when whole
MAX_LAUNCHES = 3  # supervisors that may fail to start a job before it is failed instead of retried
OOM_PATTERNS = ("CUDA out of memory", "torch.OutOfMemoryError", "torch.cuda.OutOfMemoryError",
                "CUBLAS_STATUS_ALLOC_FAILED")

# --- the workspace lock ------------------------------------------------------------------

_registry_lock = threading.Lock()
_thread_locks: dict[str, threading.RLock] = {}
_held: dict[str, tuple[int, int]] = {}  # key -> (fd, depth); touched only under that key's RLock


class StoreError(GsvError):
    """The job store itself is unusable (its folder is a file, or cannot be created)."""


def _open_lock(jobs_dir: Path) -> int:
    """The fd every process locks. ``.lock`` normally; when ``.lock`` is not a regular file (a
    folder, a FIFO, a link), every process locks the store folder itself instead, so garbage in
    place of the lock file never stops the job system."""
    try:
        jobs_dir.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise StoreError(f"the job store {jobs_dir} is not a folder",
                         f"move {jobs_dir} aside; gsv creates a new job store") from None
    except OSError as e:
        raise StoreError(f"cannot create the job store {jobs_dir}: {e.strerror}", "check its permissions") from None
    try:
        fd = os.open(jobs_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK,
                     0o644)
    except OSError:
        fd = -1
    if fd >= 0:
        if stat.S_ISREG(os.fstat(fd).st_mode):
            return fd
        os.close(fd)
    try:
        return os.open(jobs_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as e:
        raise StoreError(f"cannot lock the job store {jobs_dir}: {e.strerror}", "check its permissions") from None


@contextmanager
def store_lock(jobs_dir: Path) -> Iterator[None]:
    """Exclusive access to the job store across processes (flock) and threads (RLock); re-entrant."""
    key = str(Path(jobs_dir).absolute())
    with _registry_lock:
        rl = _thread_locks.setdefault(key, threading.RLock())
    with rl:
        fd, depth = _held.get(key, (-1, 0))
        if depth == 0:
            fd = _open_lock(Path(jobs_dir))
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

UNREADABLE = "?"  # the holder named by a lease file that holds no job id


@dataclass(frozen=True)
class Lease:
    """What a lease file says: the holder's job id and, once its stage runs, its processes."""

    holder: str  # a job id, or UNREADABLE
    pgid: int | None = None
    start_time: int | None = None
    boot_id: str | None = None

    def processes_gone(self) -> bool | None:
        """True/False from the recorded process group; None when the lease does not say."""
        if self.pgid is None or self.start_time is None or self.boot_id is None:
            return None
        if self.boot_id != procs.boot_id():
            return True
        return not group_left(self.pgid, self.start_time)


def _lease_path(jobs_dir: Path, gpu: str) -> Path:
    return jobs_dir / LEASE_DIR / f"gpu-{gpu}"


def read_lease(path: Path) -> Lease | None:
    """The lease in ``path``; None when there is none. Never raises: bytes that are not a lease
    (not UTF-8, no job id) read as held by :data:`UNREADABLE`."""
    try:
        if not stat.S_ISREG(path.lstat().st_mode):
            return Lease(UNREADABLE)
        with open(path, "rb") as f:
            raw = f.read(4096)
    except FileNotFoundError:
        return None
    except OSError:
        return Lease(UNREADABLE)
    try:
        lines = raw.decode("utf-8").splitlines()
    except UnicodeDecodeError:
        return Lease(UNREADABLE)
    holder = lines[0].strip() if lines else ""
    if not JOB_ID_RE.match(holder):
        return Lease(UNREADABLE)
    facts: dict[str, str] = dict(p.split("=", 1) for p in (lines[1].split() if len(lines) > 1 else []) if "=" in p)
    pgid, start = facts.get("pgid", ""), facts.get("start", "")
    return Lease(holder, pgid=int(pgid) if pgid.isdigit() and len(pgid) < 9 else None,
                 start_time=int(start) if start.isdigit() and len(start) < 19 else None,
                 boot_id=facts.get("boot") or None)


def lease_holder(jobs_dir: Path, gpu: str) -> str | None:
    lease = read_lease(_lease_path(jobs_dir, gpu))
    return lease.holder if lease else None


def _lease_text(job: JobRecord) -> str:
    text = job.id + "\n"
    if job.pgid and job.pid_start_time is not None and job.boot_id:
        text += f"pgid={job.pgid} start={job.pid_start_time} boot={job.boot_id}\n"
    return text


def _take_leases(jobs_dir: Path, job: JobRecord) -> bool:
    """Create every lease of the job (O_EXCL), or none of them."""
    if job.gpus and not _lease_dir_ready(jobs_dir):
        return False
    taken: list[Path] = []
    for gpu in job.gpus:
        path = _lease_path(jobs_dir, gpu)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except OSError:  # held (FileExistsError), or the name cannot be a file
            for p in taken:
                p.unlink(missing_ok=True)
            return False
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(_lease_text(job))
        taken.append(path)
    return True


def note_lease_processes(jobs_dir: Path, job: JobRecord) -> None:
    """Write the job's process group into its lease files (caller holds the lock): if its record is
    later corrupted, the lease still knows whether its processes run."""
    from ..fsutil import atomic_write_text

    for gpu in job.gpus:
        if lease_holder(jobs_dir, gpu) == job.id:
            try:
                atomic_write_text(_lease_path(jobs_dir, gpu), _lease_text(job))
            except OSError:
                pass


def release_leases(jobs_dir: Path, job: JobRecord) -> None:
    for gpu in job.gpus:
        if lease_holder(jobs_dir, gpu) == job.id:
            _lease_path(jobs_dir, gpu).unlink(missing_ok=True)


def _lease_dir_ready(jobs_dir: Path) -> bool:
    """Make ``.leases`` a folder: one of another file type is moved aside (its name says when)."""
    lease_dir = jobs_dir / LEASE_DIR
    try:
        if lease_dir.is_dir() and not lease_dir.is_symlink():
            return True
        if lease_dir.exists() or lease_dir.is_symlink():
            lease_dir.rename(jobs_dir / f"{LEASE_DIR}.bad-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}")
        lease_dir.mkdir()
        return True
    except OSError:
        return False


def _repair_leases(jobs_dir: Path, records: list[JobRecord]) -> None:
    """Every running job holds a lease file for each of its GPUs (recreated if lost or garbled);
    a lease whose holder is over is removed. A holder whose record is unreadable keeps its lease
    while the lease's own process facts say its processes run (or say nothing)."""
    running = {r.id: r for r in records if r.state == "running" and not r.is_corrupt}
    by_id = {r.id: r for r in records}
    if not _lease_dir_ready(jobs_dir):
        return
    owner_of = {g: r for r in running.values() for g in r.gpus}
    for entry in os.scandir(jobs_dir / LEASE_DIR):
        if not entry.name.startswith("gpu-"):
            continue
        path, gpu = Path(entry.path), entry.name[4:]
        lease = read_lease(path)
        if lease is None:
            continue
        holder = by_id.get(lease.holder)
        if lease.holder == UNREADABLE:
            keep = False  # garbage: the running owner (if any) gets a fresh lease below
        elif holder is None or holder.is_corrupt:
            keep = lease.processes_gone() is not True
        else:
            keep = holder.id in running
        if not keep:
            try:
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path)
                else:
                    path.unlink()
            except OSError:
                pass
            owner = owner_of.get(gpu)
            if owner is not None:
                _take_leases(jobs_dir, JobRecord(id=owner.id, stage=owner.stage, gpus=[gpu], pgid=owner.pgid,
                                                 pid_start_time=owner.pid_start_time, boot_id=owner.boot_id))
    for job in running.values():
        for gpu in job.gpus:
            if lease_holder(jobs_dir, gpu) is None:
                _take_leases(jobs_dir, JobRecord(id=job.id, stage=job.stage, gpus=[gpu], pgid=job.pgid,
                                                 pid_start_time=job.pid_start_time, boot_id=job.boot_id))


def _remove_unfinished_submissions(jobs_dir: Path) -> None:
    """A ``.new-*`` folder seen under the lock was left by a submission killed before it was whole
    (its creator holds the lock from mkdir to rename): never acknowledged, so it goes."""
    try:
        entries = [e for e in os.scandir(jobs_dir) if e.name.startswith(NEW_PREFIX)]
    except OSError:
        return
    for e in entries:
        try:
            if e.is_dir(follow_symlinks=False):
                shutil.rmtree(e.path)
            else:
                os.unlink(e.path)
        except OSError:
            pass


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


def valid_exit_record(data: dict[str, Any] | None) -> dict[str, Any] | None:
    """``exit.json`` as the supervisor writes it, or None when absent or malformed."""
    if data is None:
        return None
    code, sig, when = data.get("exit_code"), data.get("signal"), data.get("time")
    if not (code is None or int_in_range(code, -255, 255)) or not (sig is None or int_in_range(sig, 1, 128)):
        return None
    if code is None and sig is None:
        return None
    return {"exit_code": code, "signal": sig, "time": when if isinstance(when, str) else None}


def valid_result(data: dict[str, Any] | None) -> dict[str, Any] | None:
    """``result.json`` as the runner writes it, or None when absent or malformed."""
    if data is None:
        return None
    outputs, reason, code = data.get("expected_outputs"), data.get("reason"), data.get("exit_code")
    if not isinstance(outputs, list) or not all(isinstance(p, str) and "\0" not in p for p in outputs):
        return None
    if not (reason is None or isinstance(reason, str)) or not (code is None or int_in_range(code, 0, 255)):
        return None
    return {"expected_outputs": outputs, "reason": reason, "exit_code": code,
            "terminated": data.get("terminated") is True}


def finalize_from_exit(jobs_dir: Path, job: JobRecord, exit_rec: dict, note: str = "") -> None:
    """Turn an exit status (the supervisor's exit record, or one rebuilt from the runner's result)
    + the runner's result into an outcome.

    Succeeded needs exit code 0 *and* every expected output present now (checked again here, not
    only by the runner: the record must say what is true when it is written)."""
    code = exit_rec.get("exit_code")
    sig = exit_rec.get("signal")
    when = exit_rec.get("time")
    result = valid_result(read_json_file(job.path(RESULT_FILE))) or {}
    how = f"killed by signal {sig} ({procs.signal_name(sig)})" if sig else f"exit code {code}"
    if job.cancel_requested and not (code == 0 and not sig):
        finalize(jobs_dir, job, "cancelled", f"cancelled: {how}{note}", exit_code=code, sig=sig, when=when)
        return
    if code == 0 and not sig:  # (also when a cancel came too late: the stage had finished)
        if "expected_outputs" not in result:
            finalize(jobs_dir, job, "failed", f"exit code 0 but the stage runner left no result record{note}",
                     exit_code=code, when=when)
            return
        missing = [p for p in result["expected_outputs"] if not Path(p).exists()]
        if missing:
            finalize(jobs_dir, job, "failed", missing_outputs_reason(missing) + note, exit_code=code, when=when)
        else:
            finalize(jobs_dir, job, "succeeded", note.removeprefix("; ") or None, exit_code=0, when=when)
        return
    reason = how if sig else str(result.get("reason") or how)
    if "CUDA out of memory" not in reason and _log_mentions_oom(job):
        # e.g. a torchrun worker ran out of memory and the stage only saw "worker failed"
        reason = f"CUDA out of memory (in the log); {reason}"
    finalize(jobs_dir, job, "failed", reason + note, exit_code=code, sig=sig, when=when)


def missing_outputs_reason(missing: list[str]) -> str:
    shown = ", ".join(missing[:3])
    more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
    return f"expected output missing: {shown}{more}"


# --- which of a job's processes still run -------------------------------------------------

def group_left(pgid: int, since: int) -> list[int]:
    """Live members of process group ``pgid`` that started at ``since`` or later (older ones cannot
    be the job's: the group's id was then another process's pid)."""
    out = []
    for pid in procs.group_members(pgid):
        st = procs.start_time(pid)
        if st is not None and st >= since:
            out.append(pid)
    return out


@dataclass(frozen=True)
class JobProcesses:
    """What of a running job is alive. A pid counts only with its recorded start time (and boot):
    a pid alone may be anyone's by now."""

    runner: bool
    supervisor: bool
    group: list[int]

    @property
    def any(self) -> bool:
        return self.runner or self.supervisor or bool(self.group)


def job_processes(job: JobRecord) -> JobProcesses:
    if job.boot_id is not None and job.boot_id != procs.boot_id():  # after a reboot every pid is new
        return JobProcesses(False, False, [])

    def alive(pid: int | None, start: int | None) -> bool:
        return pid is not None and start is not None and procs.is_alive(pid, start)

    group = group_left(job.pgid, job.pid_start_time) if job.pgid and job.pid_start_time is not None else []
    return JobProcesses(alive(job.pid, job.pid_start_time), alive(job.supervisor_pid, job.supervisor_start_time),
                        group)


def _settle_running(jobs_dir: Path, job: JobRecord) -> None:
    """Bring a ``running`` record in line with reality (see module docstring, step 2)."""
    alive = job_processes(job)
    exit_rec = valid_exit_record(read_json_file(job.path(EXIT_FILE)))
    if exit_rec is not None:
        if not alive.group:  # leftovers that survived the supervisor's SIGKILL keep the job (and GPU)
            finalize_from_exit(jobs_dir, job, exit_rec)
        return
    if alive.any:
        if not alive.supervisor and job.pid is not None:
            adopt(jobs_dir, job)  # someone must settle it when its processes end
        return
    if job.pid is None:  # the stage never started: the launch was cut short
        _requeue(jobs_dir, job)
        return
    result = valid_result(read_json_file(job.path(RESULT_FILE)))
    if result is not None:
        # The supervisor died; the runner said how it ended before exiting.
        code = 1 if result["exit_code"] is None else result["exit_code"]
        exit_like = {"exit_code": code, "signal": signal_of(result), "time": None}
        if exit_like["signal"]:
            exit_like["exit_code"] = None
        finalize_from_exit(jobs_dir, job, exit_like, note="; outcome from the stage's result record (its supervisor vanished)")
    elif job.cancel_requested:
        finalize(jobs_dir, job, "cancelled", "cancelled (the job's processes were gone; no exit record)")
    else:
        finalize(jobs_dir, job, "lost", "process vanished without an exit record")


def signal_of(result: dict[str, Any]) -> int | None:
    import signal

    return int(signal.SIGTERM) if result.get("terminated") else None


def _requeue(jobs_dir: Path, job: JobRecord) -> None:
    """Put a job whose stage never started back in the queue (the pass then starts it again)."""
    hint = ""
    try:
        if job.path(SUPERVISOR_LOG).stat().st_size:
            hint = f" (see {job.path(SUPERVISOR_LOG)})"
    except OSError:
        pass
    if job.cancel_requested:
        finalize(jobs_dir, job, "cancelled", "cancelled before it started")
        return
    if job.launches >= MAX_LAUNCHES:
        finalize(jobs_dir, job, "failed", f"the job's supervisor did not start the stage ({job.launches} tries){hint}")
        return
    release_leases(jobs_dir, job)
    job.state = "queued"
    job.started = None
    job.launch_token = None
    job.supervisor_pid = job.supervisor_start_time = None
    job.save()


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


def spawn_supervisor(job_dir: Path, *extra: str) -> int:
    """Start ``python -m backend.jobs.supervisor JOB_DIR [EXTRA…]`` fully detached; return its pid.

    The first process (new session) forks the real supervisor, prints its pid and exits at once, so
    the supervisor's parent is init (or the nearest subreaper), never the caller: killing the caller,
    closing its terminal or ending the SSH session does not touch the job, and the caller is not left
    with a child to reap."""
    with open(job_dir / SUPERVISOR_LOG, "ab") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "backend.jobs.supervisor", str(job_dir), *extra],
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
    """Mark the job running and start its supervisor (caller holds the lock and the leases).

    Resumable: the record names the one supervisor allowed to start the stage (``launch_token``);
    if this process dies before that supervisor starts the stage, the next pass finds a running
    job without a stage and starts it again with a new token, and a late first supervisor, seeing
    another token, exits. So a launch is never lost and never doubled."""
    if job.launches >= MAX_LAUNCHES:
        finalize(jobs_dir, job, "failed", f"the job's supervisor did not start the stage ({job.launches} tries)")
        return
    job.state = "running"
    job.started = now_iso()
    job.launch_token = secrets.token_hex(8)
    job.launches += 1
    job.pid = job.pgid = job.pid_start_time = None
    job.supervisor_pid = job.supervisor_start_time = None
    job.boot_id = procs.boot_id()
    job.save()
    try:
        assert job.job_dir is not None
        pid = spawn_supervisor(job.job_dir, "--token", job.launch_token)
    except (OSError, RuntimeError) as e:
        finalize(jobs_dir, job, "failed", f"could not start the job: {e}")
        return
    job.supervisor_pid = pid
    job.supervisor_start_time = procs.start_time(pid)
    job.save()


def adopt(jobs_dir: Path, job: JobRecord) -> None:
    """Start a supervisor for a running job whose supervisor died (caller holds the lock): it waits
    for the job's processes to end, then settles the job and advances the queue."""
    assert job.job_dir is not None
    try:
        pid = spawn_supervisor(job.job_dir, "--adopt")
    except (OSError, RuntimeError):
        return  # the next pass tries again
    job.supervisor_pid = pid
    job.supervisor_start_time = procs.start_time(pid)
    job.save()


# --- the pass ----------------------------------------------------------------------------

def load_all(jobs_dir: Path, with_progress: bool = False) -> list[JobRecord]:
    return [load_record(d, with_progress=with_progress) for d in job_dirs(jobs_dir)]


def schedule(jobs_dir: Path) -> None:
    """Repair, settle running jobs, drop stale leases, start what can start. Takes the store lock."""
    jobs_dir = Path(jobs_dir)
    with store_lock(jobs_dir):
        _remove_unfinished_submissions(jobs_dir)
        records = load_all(jobs_dir)
        by_id = {r.id: r for r in records if not r.is_corrupt}
        _repair_leases(jobs_dir, records)
        for job in records:
            if job.state == "running" and not job.is_corrupt:
                _settle_running(jobs_dir, job)
        _repair_leases(jobs_dir, records)

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


def store_problems(jobs_dir: Path) -> list[str]:
    """What is wrong in the store, one line each with what to do (``gsv jobs list`` prints them):
    unreadable records, garbled leases, a ``.lock``/``.leases`` of the wrong file type."""
    jobs_dir = Path(jobs_dir)
    out = []
    lock = jobs_dir / LOCK_FILE
    try:
        if not stat.S_ISREG(lock.lstat().st_mode):
            out.append(f"{lock} is not a regular file (the store folder is locked instead); remove it")
    except OSError:
        pass
    for d in sorted(jobs_dir.glob(f"{LEASE_DIR}.bad-*")):
        out.append(f"{d} was in the place of the lease folder and was moved aside; remove it")
    for r in load_all(jobs_dir):
        if r.is_corrupt:
            out.append(f"job {r.id}: {r.error}; fix or remove {r.job_dir}")
    lease_dir = jobs_dir / LEASE_DIR
    if lease_dir.is_dir():
        for p in sorted(lease_dir.glob("gpu-*")):
            lease = read_lease(p)
            if lease is not None and lease.holder == UNREADABLE:
                out.append(f"{p} does not name a job; it is replaced at the next refresh")
    return out


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
        return "waiting for " + ", ".join(
            f"GPU {g} (held by an unreadable lease file)" if h == UNREADABLE else f"GPU {g} (held by job {h})"
            for g, h in busy.items())
    if job.gpus:
        return "waiting behind an earlier job for GPU " + ",".join(job.gpus)
    return "starting"
