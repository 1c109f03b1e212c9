"""The small process that watches one job: ``python -m backend.jobs.supervisor JOB_DIR``.

Started by :func:`backend.jobs.scheduler.spawn_supervisor` in a new session and forked once more,
so it belongs to no terminal and to no parent that could take it down. It

1. starts the runner (``python -m backend.jobs.runner JOB_DIR``) as the leader of its own process
   group, stdout+stderr appended to ``log.txt``, and records pid, pgid and the pid's start time;
2. waits for it — the only process that can learn the real exit status is the parent;
3. stops whatever the stage left behind in its process group (a job is over when its main
   process is, and a stray worker must not keep holding a GPU);
4. writes ``exit.json`` (exit code or signal) atomically and runs the scheduling pass, which
   finalizes the record, releases the GPU leases and starts the next queued jobs.

Only the supervisor named by the record's ``launch_token`` may start the stage, so a launch
resumed after a kill never runs twice. If the supervisor itself is killed, nobody writes the exit
record: the runner (when it ends) or the next scheduling pass starts an adopting supervisor
(``--adopt``), which waits for the job's processes to end and then settles the job from the
runner's ``result.json`` and the expected outputs (``lost`` only when there is no result).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from . import procs, scheduler
from .record import EXIT_FILE, LOG_FILE, load_record, now_iso, write_json_file

LEFTOVER_GRACE = 2.0
ADOPT_POLL = 0.25  # seconds between looks at an adopted job's processes


def _detach() -> None:
    """Fork: the parent tells the spawner our pid and exits; we carry on, reparented to init."""
    pid = os.fork()
    if pid > 0:
        sys.stdout.write(f"{pid}\n")
        sys.stdout.flush()
        os._exit(0)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(2, 1)  # stdout joins stderr (supervisor.log); the spawner's pipe is let go
    os.close(devnull)


def _note(log, text: str) -> None:
    log.write(f"[gsv jobs {now_iso()}] {text}\n".encode())
    log.flush()


def supervise(job_dir: Path, token: str | None) -> int:
    jobs_dir = job_dir.parent
    with open(job_dir / LOG_FILE, "ab", buffering=0) as log:
        with scheduler.store_lock(jobs_dir):
            job = load_record(job_dir, with_progress=False)
            if job.is_corrupt or job.state != "running" or job.pid is not None or job.launch_token != token:
                return 0  # settled by someone else, unreadable, or relaunched with another supervisor
            job.supervisor_pid = os.getpid()
            job.supervisor_start_time = procs.start_time(os.getpid())
            if job.cancel_requested:
                scheduler.finalize(jobs_dir, job, "cancelled", "cancelled before it started")
                scheduler.schedule(jobs_dir)
                return 0
            argv = [sys.executable, "-m", "backend.jobs.runner", str(job_dir)]
            extra = {"GSV_JOB_ID": job.id, "GSV_JOB_DIR": str(job_dir), "GSV_SUPERVISOR_PID": str(os.getpid())}
            if job.gpus:
                extra["CUDA_VISIBLE_DEVICES"] = ",".join(job.gpus)
                extra["GSV_JOB_GPUS"] = ",".join(job.gpus)
            cwd = job.cwd if job.cwd and Path(job.cwd).is_dir() else str(job_dir)
            _note(log, f"job {job.id}: stage {job.stage}" + (f" on GPU {','.join(job.gpus)}" if job.gpus else ""))
            try:
                proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                        cwd=cwd, env=scheduler.job_env(extra), process_group=0, close_fds=True)
            except OSError as e:
                scheduler.finalize(jobs_dir, job, "failed", f"could not start the stage: {e}")
                scheduler.schedule(jobs_dir)
                return 0
            # The runner checks, under this lock, that the record names it before it starts the
            # stage: if we die before this save, it exits and the next pass relaunches the job.
            job.pid = proc.pid
            job.pgid = proc.pid
            job.pid_start_time = procs.start_time(proc.pid)
            job.argv = argv
            job.save()
            scheduler.note_lease_processes(jobs_dir, job)

        rc = proc.wait()
        # (the group keeps its id while any member lives, so right after the wait it is still the job's)
        left = procs.group_members(proc.pid)
        if left:
            _note(log, f"stopping {len(left)} process(es) the stage left running: {left}")
            still = procs.terminate_group(proc.pid, grace=LEFTOVER_GRACE)
            if still:
                _note(log, f"still alive after SIGKILL: {still}; the job (and its GPUs) stay held until they end")
        exit_rec = {"exit_code": rc if rc >= 0 else None, "signal": -rc if rc < 0 else None, "time": now_iso()}
        write_json_file(job_dir / EXIT_FILE, exit_rec)
        _finish(jobs_dir, job_dir, log)
    return 0


def _finish(jobs_dir: Path, job_dir: Path, log) -> None:
    """Settle the job (the scheduling pass does it from the files) and start what can start next."""
    with scheduler.store_lock(jobs_dir):
        scheduler.schedule(jobs_dir)
        job = load_record(job_dir, with_progress=False)
        if job.is_finished:
            _note(log, f"finished: {job.outcome}" + (f" — {job.reason}" if job.reason else ""))


def adopt(job_dir: Path) -> int:
    """Stand in for a supervisor that died: wait until the job's runner and process group are gone,
    then settle the job from its files and advance the queue. Started by the runner when it finds
    its supervisor gone, or by a scheduling pass; the record names the one adopter in charge."""
    jobs_dir = job_dir.parent
    me = os.getpid()
    with open(job_dir / LOG_FILE, "ab", buffering=0) as log:
        with scheduler.store_lock(jobs_dir):
            job = load_record(job_dir, with_progress=False)
            if job.is_corrupt or job.state != "running" or job.supervisor_pid != me:
                return 0
            job.supervisor_start_time = procs.start_time(me)
            job.save()
            _note(log, f"the job's supervisor vanished; process {me} watches the job instead")
        while True:
            job = load_record(job_dir, with_progress=False)
            if job.is_corrupt or job.is_finished or job.supervisor_pid != me:
                return 0
            alive = scheduler.job_processes(job)
            if not (alive.runner or alive.group):
                break
            time.sleep(ADOPT_POLL)
        with scheduler.store_lock(jobs_dir):
            job = load_record(job_dir, with_progress=False)
            if job.is_corrupt or job.state != "running" or job.supervisor_pid != me:
                return 0
            job.supervisor_pid = job.supervisor_start_time = None  # so the pass settles it now
            job.save()
            _finish(jobs_dir, job_dir, log)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args:
        print("usage: python -m backend.jobs.supervisor JOB_DIR [--token T | --adopt] [--foreground]",
              file=sys.stderr)
        return 2
    if "--foreground" not in args:
        _detach()
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    job_dir = Path(args[0]).absolute()
    if "--adopt" in args:
        return adopt(job_dir)
    token = args[args.index("--token") + 1] if "--token" in args[:-1] else None
    return supervise(job_dir, token)


if __name__ == "__main__":
    sys.exit(main())
