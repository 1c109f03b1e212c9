"""Faults the job system must survive: kill -9 at aimed moments, processes that outlive their job's
runner and supervisor, and garbage in the job store.

Real supervisors, runners and ``gsv`` processes; real files. The aimed kills stop a real launcher
process at the moment under test (a wrapper around one job-system function in *that* process
parks it there) and then kill it with SIGKILL, which is what a dropped SSH session or an OOM kill
does at worst.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from jobs_helpers import REPO, gsv, gsv_json, poll

from backend.jobs import JobManager, procs
from backend.jobs.record import JobRecord


def _running_with_pid(jm: JobManager, job_id: str) -> JobRecord | None:
    job = jm.get(job_id)
    return job if job.state == "running" and job.pid else None


# --- killing the launcher inside its launch window -----------------------------------------

LAUNCHER = r"""
import sys, time
from pathlib import Path
from backend.jobs import JobManager, scheduler
from backend.jobs.record import JobRecord

jobs_dir, where, marker, output = sys.argv[1:5]

def park():
    Path(marker).write_text("parked")
    time.sleep(3600)

if where == "before-spawn":      # the record says running; no supervisor exists yet
    scheduler.spawn_supervisor = lambda *a: park()
elif where == "after-spawn":     # the supervisor runs (waiting for the lock); its pid is not recorded
    real_spawn = scheduler.spawn_supervisor
    def spawn(*a):
        real_spawn(*a)
        park()
    scheduler.spawn_supervisor = spawn
elif where == "in-submit":       # the record is written in its hidden folder, not yet renamed
    real_save = JobRecord.save
    def save(self):
        real_save(self)
        if self.job_dir.name.startswith(".new-"):
            park()
    JobRecord.save = save
JobManager(jobs_dir).submit("sleep", {"seconds": 0.2, "steps": 2, "output": output})
"""


def _kill_launcher_at(jm: JobManager, where: str, tmp_path: Path) -> Path:
    marker, out = tmp_path / "parked", tmp_path / "out.txt"
    proc = subprocess.Popen([sys.executable, "-c", LAUNCHER, str(jm.jobs_dir), where, str(marker), str(out)],
                            cwd=REPO, env=dict(os.environ), start_new_session=True)
    try:
        poll(lambda: marker.exists() or proc.poll() is not None, what="the launcher to reach " + where)
        assert proc.poll() is None, "the launcher ended before the aimed moment"
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(10)
    return out


@pytest.mark.parametrize("where", ["before-spawn", "after-spawn"])
@pytest.mark.slow
def test_a_launcher_killed_in_the_launch_window_does_not_lose_the_job(jm: JobManager, tmp_path: Path,
                                                                      where: str) -> None:
    out = _kill_launcher_at(jm, where, tmp_path)
    [job] = jm.list()
    # The next pass of any gsv command (here `gsv jobs list`) starts the job, or lets the already
    # started supervisor do it; either way it runs exactly once.
    rows = gsv_json("jobs", "list", "--json")
    assert [r["id"] for r in rows] == [job.id] and rows[0]["outcome"] in (None, "succeeded")
    final = jm.wait(job.id, timeout=30)
    assert final.outcome == "succeeded", final.reason
    assert out.exists()
    log = jm.log_path(job.id).read_text()
    assert log.count(": stage sleep") == 1, log
    assert not [p for p in jm.jobs_dir.iterdir() if p.name.startswith(".new-")]


@pytest.mark.slow
def test_a_submission_killed_before_it_was_whole_leaves_nothing_behind(jm: JobManager, tmp_path: Path) -> None:
    _kill_launcher_at(jm, "in-submit", tmp_path)
    assert [p for p in jm.jobs_dir.iterdir() if p.name.startswith(".new-")]  # what the kill left
    assert gsv_json("jobs", "list", "--json") == []
    assert not [p for p in jm.jobs_dir.iterdir() if p.name.startswith(".new-")]


@pytest.mark.slow
def test_launchers_killed_at_random_moments_lose_no_job(jm: JobManager, tmp_path: Path) -> None:
    """kill -9 of `gsv sleep` at spread-out moments of its submission: every job that was recorded
    runs exactly once, and nothing hidden is left in the store."""
    import time

    def entries() -> int:
        return len(list(jm.jobs_dir.iterdir())) if jm.jobs_dir.is_dir() else 0

    for i in range(6):
        out = tmp_path / f"out{i}.txt"
        before = entries()
        cli = subprocess.Popen(gsv_argv_detached(out), cwd=REPO, env=dict(os.environ), start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        poll(lambda before=before, cli=cli: entries() > before or cli.poll() is not None, every=0.002,
             what="the submission to begin")
        time.sleep(0.01 * i)  # from inside the submission to after the launch
        os.killpg(cli.pid, signal.SIGKILL)
        cli.wait(10)
    gsv_json("jobs", "list", "--json")  # one pass of any gsv command resumes what was cut short
    jobs = jm.list()
    assert jobs  # the later kills come after the record was written
    for job in jobs:
        final = jm.wait(job.id, timeout=30)
        assert final.outcome == "succeeded", final.reason
        assert jm.log_path(job.id).read_text().count(": stage sleep") == 1
        assert Path(final.params["output"]).exists()
    assert not [p for p in jm.jobs_dir.iterdir() if p.name.startswith(".new-")]


def gsv_argv_detached(out: Path) -> list[str]:
    from jobs_helpers import gsv_argv

    return gsv_argv("sleep", "--seconds", "0.1", "--steps", "1", "--output", str(out), "--detach")


# --- supervisor (and runner) killed --------------------------------------------------------

@pytest.mark.slow
def test_after_a_reboot_a_job_that_finished_its_stage_is_not_lost(jm: JobManager, tmp_path: Path) -> None:
    """Simulated reboot: the record still says running, from another boot, with no exit record (the
    supervisor never wrote it); the runner's result and the outputs say the stage succeeded."""
    out = tmp_path / "out.txt"
    job = jm.submit("sleep", {"seconds": 0.1, "steps": 1, "output": str(out)})
    jm.wait(job.id, timeout=30)
    path = jm.jobs_dir / job.id / "job.json"
    data = json.loads(path.read_text())
    data.update(state="running", outcome=None, finished=None, boot_id="an-earlier-boot")
    path.write_text(json.dumps(data))
    (jm.jobs_dir / job.id / "exit.json").unlink()
    jm.reconcile()
    rec = jm.get(job.id)
    assert rec.outcome == "succeeded" and "result record" in rec.reason
    # the same without the stage's output: failed, with the missing file named
    data.update(state="running", outcome=None, finished=None)
    path.write_text(json.dumps(data))
    out.unlink()
    jm.reconcile()
    assert jm.get(job.id).outcome == "failed" and str(out) in jm.get(job.id).reason


@pytest.mark.slow
def test_only_the_supervisor_killed_the_outcome_comes_from_the_stage_and_the_queue_advances(
        jm: JobManager, tmp_path: Path) -> None:
    out = tmp_path / "out.txt"
    first = jm.submit("sleep", {"seconds": 1.5, "steps": 3, "output": str(out)}, gpus=["fk"])
    second = jm.submit("sleep", {"seconds": 0.1, "steps": 1}, gpus=["fk"])
    first = poll(lambda: _running_with_pid(jm, first.id), what="the first job to start")
    os.kill(first.supervisor_pid, signal.SIGKILL)
    # No gsv command from here on: only reads. The runner finds its supervisor gone when it ends and
    # hands the job to an adopting supervisor, which settles it and starts the next one.
    done = poll(lambda: (j := jm.get(second.id)).is_finished and j, timeout=30, every=0.1,
                what="the queued job to run with nobody refreshing")
    assert done.outcome == "succeeded"
    rec = jm.get(first.id)
    assert rec.outcome == "succeeded" and out.exists()
    assert "supervisor vanished" in rec.reason
    assert done.started >= rec.finished


@pytest.mark.slow
def test_supervisor_and_runner_killed_while_the_group_lives_on(jm: JobManager) -> None:
    """Processes of the job that outlive its runner and supervisor (a DDP worker) keep the job running
    and its GPU leased; cancel stops them; then the GPU goes to the next job."""
    job = jm.submit("sleep", {"seconds": 60, "steps": 60, "spawn_child": True}, gpus=["fg"])
    nxt = jm.submit("sleep", {"seconds": 0.1, "steps": 1}, gpus=["fg"])
    job = poll(lambda: _running_with_pid(jm, job.id), what="job start")
    poll(lambda: len(procs.group_members(job.pgid)) >= 4, what="the process tree")
    os.kill(job.supervisor_pid, signal.SIGKILL)
    os.kill(job.pid, signal.SIGKILL)
    poll(lambda: not procs.is_alive(job.pid) and not procs.is_alive(job.supervisor_pid), what="the kill")
    left = procs.group_members(job.pgid)
    assert len(left) == 3  # sh and its two sleeps

    rows = {r["id"]: r for r in gsv_json("jobs", "list", "--json")}
    assert rows[job.id]["state"] == "running"
    assert rows[nxt.id]["state"] == "queued" and f"held by job {job.id}" in rows[nxt.id]["waiting"]
    assert (jm.jobs_dir / ".leases" / "gpu-fg").read_text().splitlines()[0] == job.id

    c = gsv("jobs", "cancel", job.id, "--grace", "1")
    assert c.returncode == 0, c.stderr + c.stdout
    assert procs.group_members(job.pgid) == []
    assert jm.get(job.id).outcome == "cancelled"
    assert jm.wait(nxt.id, timeout=30).outcome == "succeeded"


# --- a corrupt record of a running GPU job ---------------------------------------------------

@pytest.mark.slow
def test_a_corrupt_record_of_a_running_gpu_job_keeps_its_lease(jm: JobManager) -> None:
    job = jm.submit("sleep", {"seconds": 60, "steps": 60}, gpus=["fc"])
    nxt = jm.submit("sleep", {"seconds": 0.1, "steps": 1}, gpus=["fc"])
    job = poll(lambda: _running_with_pid(jm, job.id), what="job start")
    poll(lambda: jm.get(job.id).progress.done is not None, what="the stage to run")
    (jm.jobs_dir / job.id / "job.json").write_text('{"id": "' + job.id + '", "stage": "sle')

    jm.reconcile()
    assert jm.get(job.id).is_corrupt
    assert jm.get(nxt.id).state == "queued"  # the GPU is still in use: the next job waits
    assert (jm.jobs_dir / ".leases" / "gpu-fc").read_text().splitlines()[0] == job.id
    problems = gsv("jobs", "list")
    assert problems.returncode == 0 and f"job {job.id}" in problems.stderr

    os.killpg(job.pgid, signal.SIGKILL)  # its processes end (the lease file knows their group)
    poll(lambda: procs.group_members(job.pgid) == [], what="the kill")
    jm.reconcile()
    assert jm.wait(nxt.id, timeout=30).outcome == "succeeded"


# --- garbage in the store ---------------------------------------------------------------------

def _write_job(jm: JobManager, job_id: str, **fields) -> Path:
    d = jm.jobs_dir / job_id
    d.mkdir(parents=True)
    data = {"id": job_id, "stage": "sleep", "params": {}, "state": "finished", "outcome": "succeeded",
            "created": "2026-01-01T00:00:00.000000+00:00", **fields}
    (d / "job.json").write_text(json.dumps(data))
    return d


@pytest.mark.slow
def test_garbage_in_the_store_never_stops_the_commands(jm: JobManager, tmp_path: Path) -> None:
    jm.jobs_dir.mkdir(parents=True, exist_ok=True)
    (jm.jobs_dir / ".lock").mkdir()  # the lock of the wrong file type
    (jm.jobs_dir / ".leases").write_text("not a folder")
    # a record with a pid but no start time: any live process could hold that pid (here: init)
    _write_job(jm, "20260101-000000-aaaa", state="running", outcome=None, pid=1, pgid=1)
    # wrong types in the side files and the events
    d = _write_job(jm, "20260101-000000-bbbb", state="running", outcome=None, pid=4194304, pgid=4194304,
                   pid_start_time=1, boot_id=procs.boot_id())
    (d / "exit.json").write_text('{"exit_code": "zero", "signal": [9]}')
    (d / "result.json").write_text('{"expected_outputs": 5, "exit_code": "0"}')
    (d / "events.jsonl").write_text(
        '{"kind": "progress", "done": "half", "total": {}}\n'
        '{"kind": "progress", "done": 1e999, "total": 2}\n'
        + "[" * 100000 + "]" * 100000 + "\n"
        + '{"kind": "message", "level": "warning", "text": 7}\n')
    _write_job(jm, "20260101-000000-cccc", gpus=["../../x"])

    r = gsv("jobs", "list")
    assert r.returncode == 0, r.stderr
    assert "20260101-000000-cccc" in r.stdout and "corrupt" in r.stdout
    assert ".lock is not a regular file" in r.stderr and "moved aside" in r.stderr
    w = gsv("jobs", "wait", "aaaa", "--quiet", timeout=30)
    assert w.returncode == 1 and "lost" in w.stderr
    show = gsv_json("jobs", "show", "bbbb", "--json")
    assert show["outcome"] == "lost" and show["progress"]["done"] is None

    # a non-UTF-8 lease file on the GPU a submission wants
    (jm.jobs_dir / ".leases" / "gpu-fz").write_bytes(b"\xff\xfe\x00garbage")
    s = gsv("sleep", "--seconds", "0.1", "--steps", "1", "--gpus", "fz")
    assert s.returncode == 0, s.stderr
    assert "succeeded" in s.stderr
    assert not (jm.jobs_dir / ".leases" / "gpu-fz").exists()

    bad = gsv("sleep", "--seconds", "0.1", "--gpus", "../../x", "--detach")
    assert bad.returncode == 2 and "not usable" in bad.stderr
    for args in (("jobs", "show", "cccc"), ("jobs", "logs", "bbbb"), ("jobs", "list", "--json")):
        assert gsv(*args).returncode == 0, args
    # side files of the wrong file type
    (d / "log.txt").mkdir()
    (d / "events.jsonl").unlink()
    (d / "events.jsonl").mkdir()
    assert gsv("jobs", "show", "bbbb").returncode == 0
    logs = gsv("jobs", "logs", "bbbb")
    assert logs.returncode == 2 and "cannot read the log" in logs.stderr and "Traceback" not in logs.stderr


@pytest.mark.slow
def test_the_job_log_carries_what_the_stage_reports(jm: JobManager) -> None:
    job = jm.submit("sleep", {"seconds": 0.2, "steps": 2, "spawn_child": False})
    jm.wait(job.id, timeout=30)
    log = jm.log_path(job.id).read_text()
    assert "info: done" in log
    assert "progress: 2/2 steps" in log
