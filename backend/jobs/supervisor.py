"""The small process that watches one job: ``python -m backend.jobs.supervisor JOB_DIR``.

Started by :func:`backend.jobs.scheduler.spawn_supervisor` in a new session and forked once more,
so it belongs to no terminal and to no parent that could take it down. It

1. starts the runner (``python -m backend.jobs.runner JOB_DIR``) as the leader of its own process
   group, stdout+stderr appended to ``log.txt``, and records pid, pgid and the pid's start time;
2. waits for it — the only process that can learn the real exit status is the parent;
3. stops whatever the stage left behind in its process group (a job is over when its main
   process is, and a stray worker must not keep holding a GPU);
4. writes ``exit.json`` (exit code or signal) atomically, finalizes the record, releases the GPU
   leases and runs the scheduling pass, which starts the next queued jobs.

If the supervisor itself is killed, nobody writes the exit record; a later refresh then reports
the job ``lost`` once its processes are gone, which is the truth.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from . import procs, scheduler
from .record import EXIT_FILE, LOG_FILE, load_record, now_iso, write_json_file

LEFTOVER_GRACE = 2.0


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


def supervise(job_dir: Path) -> int:
    jobs_dir = job_dir.parent
    with open(job_dir / LOG_FILE, "ab", buffering=0) as log:
        with scheduler.store_lock(jobs_dir):
            job = load_record(job_dir, with_progress=False)
            if job.is_corrupt or job.state != "running":
                return 0  # settled by someone else (or unreadable): nothing to supervise
            if job.cancel_requested:
                scheduler.finalize(jobs_dir, job, "cancelled", "cancelled before it started")
                scheduler.schedule(jobs_dir)
                return 0
            argv = [sys.executable, "-m", "backend.jobs.runner", str(job_dir)]
            extra = {"GSV_JOB_ID": job.id, "GSV_JOB_DIR": str(job_dir)}
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
            job.pid = proc.pid
            job.pgid = proc.pid
            job.pid_start_time = procs.start_time(proc.pid)
            job.argv = argv
            job.save()

        rc = proc.wait()
        left = procs.group_members(proc.pid)
        if left:
            _note(log, f"stopping {len(left)} process(es) the stage left running: {left}")
            still = procs.terminate_group(proc.pid, grace=LEFTOVER_GRACE)
            if still:
                _note(log, f"still alive after SIGKILL: {still}")
        exit_rec = {"exit_code": rc if rc >= 0 else None, "signal": -rc if rc < 0 else None, "time": now_iso()}
        write_json_file(job_dir / EXIT_FILE, exit_rec)

        with scheduler.store_lock(jobs_dir):
            job = load_record(job_dir, with_progress=False)
            if job.state == "running" and not job.is_corrupt:
                scheduler.finalize_from_exit(jobs_dir, job, exit_rec)
            _note(log, f"finished: {job.outcome}" + (f" — {job.reason}" if job.reason else ""))
            scheduler.schedule(jobs_dir)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args:
        print("usage: python -m backend.jobs.supervisor JOB_DIR [--foreground]", file=sys.stderr)
        return 2
    if "--foreground" not in args:
        _detach()
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    return supervise(Path(args[0]).absolute())


if __name__ == "__main__":
    sys.exit(main())
