"""Tracked jobs end to end: real supervisors, runners and the real ``gsv`` CLI in subprocesses.

The ``sleep`` stage (the job system's self-test) is the workload; nothing of the OS is mocked.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
from jobs_helpers import REPO, gsv, gsv_argv, gsv_json, poll

from backend.jobs import JobManager, procs

ID_RE = re.compile(r"^\d{8}-\d{6}-[0-9a-f]{4}$")




def _running_with_pid(jm: JobManager, job_id: str):
    job = jm.get(job_id)
    return job if job.state == "running" and job.pid else None


@pytest.mark.slow
def test_detach_prints_only_the_id_and_wait_reports_success(jm: JobManager, tmp_path: Path) -> None:
    out = tmp_path / "out.txt"
    r = gsv("sleep", "--seconds", "0.3", "--steps", "3", "--output", str(out), "--detach")
    assert r.returncode == 0, r.stderr
    assert ID_RE.match(r.stdout.strip()) and r.stdout == r.stdout.strip() + "\n"
    job_id = r.stdout.strip()
    w = gsv("jobs", "wait", job_id)
    assert w.returncode == 0, w.stderr
    assert "succeeded" in w.stderr
    rec = gsv_json("jobs", "show", job_id, "--json")
    assert rec["state"] == "finished" and rec["outcome"] == "succeeded" and rec["exit_code"] == 0
    assert rec["progress"] == {"done": 3, "total": 3, "unit": "steps", "label": None}
    assert out.read_text().startswith("gsv sleep self-test")
    for key in ("id", "stage", "project", "state", "outcome", "exit_code", "reason", "gpus", "created",
                "started", "finished", "progress"):
        assert key in rec


@pytest.mark.slow
def test_job_outlives_its_cli_killed_with_sigkill(jm: JobManager, tmp_path: Path) -> None:
    out = tmp_path / "out.txt"
    # The CLI runs in its own session, like a login shell over SSH; killing that whole process group
    # with SIGKILL is what a dropped connection does at worst.
    cli = subprocess.Popen(gsv_argv("sleep", "--seconds", "1.5", "--steps", "5", "--output", str(out)),
                           cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(os.environ),
                           start_new_session=True)
    try:
        job = poll(lambda: next((j for j in jm.list() if j.state == "running" and j.pid), None),
                   what="the job to start")
        os.killpg(cli.pid, signal.SIGKILL)  # no chance to clean up anything
        cli.wait(10)
        assert cli.returncode == -signal.SIGKILL
        assert procs.is_alive(job.pid, job.pid_start_time)
    finally:
        if cli.poll() is None:
            cli.kill()
        cli.communicate()

    def finished():
        rows = gsv_json("jobs", "list", "--json")
        return rows if rows and rows[0]["state"] == "finished" else None

    rows = poll(finished, timeout=30, every=0.3, what="the job to finish")
    assert [(r["id"], r["outcome"]) for r in rows] == [(job.id, "succeeded")]
    assert out.exists()


@pytest.mark.slow
def test_ctrl_c_while_watching_leaves_the_job_running(jm: JobManager) -> None:
    cli = subprocess.Popen(gsv_argv("sleep", "--seconds", "1.5", "--steps", "3"), cwd=REPO, text=True,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(os.environ))
    job = poll(lambda: next((j for j in jm.list() if j.state == "running" and j.pid), None), what="job start")
    time.sleep(0.3)  # let the CLI reach its watch loop
    cli.send_signal(signal.SIGINT)
    _, err = cli.communicate(timeout=20)
    assert cli.returncode == 130
    assert "keeps running" in err and f"gsv jobs cancel {job.id}" in err
    assert jm.wait(job.id, timeout=30).outcome == "succeeded"


@pytest.mark.slow
def test_wait_exit_status_and_failure_reasons(jm: JobManager) -> None:
    ids = {}
    for mode in ("error", "crash", "oom"):
        r = gsv("sleep", "--seconds", "0.2", "--steps", "2", "--fail", mode, "--detach")
        assert r.returncode == 0, r.stderr
        ids[mode] = r.stdout.strip()
    for mode, job_id in ids.items():
        w = gsv("jobs", "wait", job_id, "--quiet")
        assert w.returncode == 1, (mode, w.stderr)
    recs = {m: jm.get(i) for m, i in ids.items()}
    assert all(r.outcome == "failed" for r in recs.values())
    assert recs["error"].exit_code == 2 and "asked to fail" in recs["error"].reason
    assert recs["crash"].exit_code == 1 and "RuntimeError" in recs["crash"].reason
    assert recs["oom"].reason == "CUDA out of memory"
    log = jm.log_path(ids["crash"]).read_text()
    assert "Traceback" in log and "asked to crash" in log


@pytest.mark.slow
def test_succeeded_requires_the_expected_outputs(jm: JobManager, tmp_path: Path) -> None:
    missing = tmp_path / "never.txt"
    r = gsv("sleep", "--seconds", "0.1", "--steps", "1", "--output", str(missing), "--forget-output")
    assert r.returncode == 1
    job = jm.list()[-1]
    assert job.outcome == "failed" and job.exit_code == 3
    assert job.reason == f"expected output missing: {missing}"


@pytest.mark.slow
def test_cancel_stops_the_whole_process_group(jm: JobManager) -> None:
    r = gsv("sleep", "--seconds", "60", "--spawn-child", "--detach")
    job_id = r.stdout.strip()
    job = poll(lambda: _running_with_pid(jm, job_id), what="job start")
    # runner + sh (child) + two sleeps (grandchildren)
    members = poll(lambda: m if len(m := procs.group_members(job.pgid)) >= 4 else None, what="the process tree")
    starts = {pid: procs.start_time(pid) for pid in members}
    c = gsv("jobs", "cancel", job_id, "--grace", "2")
    assert c.returncode == 0, c.stderr
    assert "cancelled" in c.stdout
    assert procs.group_members(job.pgid) == []
    assert not any(procs.is_alive(pid, st) for pid, st in starts.items())
    rec = jm.get(job_id)
    assert rec.state == "finished" and rec.outcome == "cancelled"
    assert "SIGTERM" in rec.reason
    # cancelling again is a clear error, not a crash
    again = gsv("jobs", "cancel", job_id)
    assert again.returncode == 2 and "already finished" in again.stderr


@pytest.mark.slow
def test_cancel_escalates_to_sigkill_when_term_is_ignored(jm: JobManager) -> None:
    job = jm.submit("sleep", {"seconds": 60, "steps": 60, "spawn_child": True, "stubborn_child": True})
    job = poll(lambda: _running_with_pid(jm, job.id), what="job start")
    members = poll(lambda: m if len(m := procs.group_members(job.pgid)) >= 4 else None, what="the process tree")
    t0 = time.monotonic()
    rec = jm.cancel(job.id, grace=0.5)
    assert time.monotonic() - t0 >= 0.5
    assert rec.outcome == "cancelled"
    assert procs.group_members(job.pgid) == []
    assert not any(procs.is_alive(pid) for pid in members)


@pytest.mark.slow
def test_vanished_job_is_reported_lost(jm: JobManager) -> None:
    job = jm.submit("sleep", {"seconds": 60, "steps": 60})
    job = poll(lambda: _running_with_pid(jm, job.id), what="job start")
    os.kill(job.supervisor_pid, signal.SIGKILL)
    os.kill(job.pid, signal.SIGKILL)
    poll(lambda: not procs.is_alive(job.pid) and not procs.is_alive(job.supervisor_pid), what="the kill")
    rows = gsv_json("jobs", "list", "--json")
    assert rows[0]["state"] == "finished" and rows[0]["outcome"] == "lost"
    assert rows[0]["reason"] == "process vanished without an exit record"


@pytest.mark.slow
def test_reused_pid_is_not_mistaken_for_the_job(jm: JobManager) -> None:
    """Reattaching checks pid + start time (+ boot): a live process that is not the job's is not the job."""
    job = jm.submit("sleep", {"seconds": 0.1, "steps": 1})
    jm.wait(job.id, timeout=30)
    path = jm.jobs_dir / job.id / "job.json"
    (jm.jobs_dir / job.id / "exit.json").unlink()
    (jm.jobs_dir / job.id / "result.json").unlink()
    me = procs.proc_stat(os.getpid())  # a live process standing in for the job's runner and supervisor
    # the job's own process group is gone; this test's group (shared with other test workers that
    # started after it) must not stand in for it once the pid is no longer the job's
    dead_group = json.loads(path.read_text())["pgid"]

    def pretend_running(**fields) -> None:
        data = json.loads(path.read_text())
        data.update(state="running", outcome=None, finished=None, pid=os.getpid(), pgid=me.pgid,
                    pid_start_time=me.start_time, supervisor_pid=os.getpid(), supervisor_start_time=me.start_time,
                    boot_id=procs.boot_id())
        data.update(fields)
        path.write_text(json.dumps(data))

    try:
        pretend_running()
        jm.reconcile()
        assert jm.get(job.id).state == "running"  # same pid, same start, same boot: still ours
        pretend_running(pid_start_time=me.start_time + 1, supervisor_start_time=me.start_time + 1, pgid=dead_group)
        jm.reconcile()
        assert jm.get(job.id).outcome == "lost"
        pretend_running(boot_id="another-boot", pgid=dead_group)
        jm.reconcile()
        assert jm.get(job.id).outcome == "lost"
    finally:  # never leave a record pointing at this test process (cleanup would cancel it)
        data = json.loads(path.read_text())
        data.update(state="finished", outcome="lost", pid=None, pgid=None)
        path.write_text(json.dumps(data))


@pytest.mark.slow
def test_corrupt_record_is_reported_not_crashed_on(jm: JobManager) -> None:
    good = jm.submit("sleep", {"seconds": 0.1, "steps": 1})
    jm.wait(good.id, timeout=30)
    bad = jm.jobs_dir / "20200101-000000-dead"
    bad.mkdir()
    (bad / "job.json").write_text('{"id": "20200101-000000-dead", "stage": "sle')
    half = jm.jobs_dir / "20200101-000000-beef"
    half.mkdir()
    (half / "job.json").write_text('{"id": "x", "stage": "sleep", "state": "exploded"}')

    rows = gsv_json("jobs", "list", "--json")
    by_id = {r["id"]: r for r in rows}
    assert by_id[good.id]["outcome"] == "succeeded"
    for jid in (bad.name, half.name):
        assert by_id[jid]["outcome"] == "corrupt" and by_id[jid]["error"]
    assert "exploded" in by_id[half.name]["error"]
    text = gsv("jobs", "list")
    assert text.returncode == 0 and "corrupt" in text.stdout
    show = gsv("jobs", "show", "dead")
    assert show.returncode == 0 and "job record unreadable" in show.stdout
    cancel = gsv("jobs", "cancel", "dead")
    assert cancel.returncode == 2 and "unreadable" in cancel.stderr


@pytest.mark.slow
def test_unknown_job_id_is_a_clear_error() -> None:
    r = gsv("jobs", "show", "nope")
    assert r.returncode == 2 and "no job 'nope'" in r.stderr and "fix:" in r.stderr


@pytest.mark.slow
def test_logs_prints_the_stage_output(jm: JobManager) -> None:
    job = jm.submit("sleep", {"seconds": 0.1, "steps": 1, "fail": "crash"})
    r = gsv("jobs", "logs", job.id, "--follow")  # returns once the job is over
    assert r.returncode == 0
    assert "asked to crash" in r.stdout and "finished: failed" in r.stdout


@pytest.mark.slow
def test_progress_bar_redraws_in_place_on_a_terminal(jm: JobManager) -> None:
    import pty

    master, slave = pty.openpty()
    env = dict(os.environ, COLUMNS="80")
    cli = subprocess.Popen(gsv_argv("sleep", "--seconds", "0.6", "--steps", "3"), cwd=REPO, env=env,
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:  # EIO: the terminal's other side is closed
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    cli.wait(30)
    screen = b"".join(chunks).decode()
    assert cli.returncode == 0
    assert "\r[####################] 3/3 steps 100%" in screen
    assert screen.rstrip().endswith("succeeded")


@pytest.mark.slow
def test_now_runs_in_process_without_a_job(jm: JobManager, tmp_path: Path) -> None:
    out = tmp_path / "now.txt"
    r = gsv("sleep", "--seconds", "0.1", "--steps", "2", "--output", str(out), "--now")
    assert r.returncode == 0 and out.exists() and "2/2 steps 100%" in r.stderr
    r = gsv("sleep", "--seconds", "0.1", "--steps", "2", "--output", str(tmp_path / "no"), "--forget-output", "--now")
    assert r.returncode == 1 and "expected output missing" in r.stderr
    r = gsv("sleep", "--now", "--detach")
    assert r.returncode == 2 and "--now" in r.stderr
    assert jm.list() == []
