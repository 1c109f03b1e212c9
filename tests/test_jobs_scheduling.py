"""GPU leases, the queue and chains, with real jobs (the ``sleep`` self-test stage).

CI has no GPU; GPU ids are only names to the scheduler, so fake ids ("fa", "fb") exercise the same
leases a real "0" or "1" would. Nothing here touches CUDA.
"""

from __future__ import annotations

import os
import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest
from jobs_helpers import REPO, gsv, gsv_argv, poll

from backend.jobs import JobError, JobManager, JobRecord


def _overlap(a: JobRecord, b: JobRecord) -> bool:
    return a.started < b.finished and b.started < a.finished  # ISO UTC strings compare as times


@pytest.mark.slow
def test_same_gpu_runs_one_after_the_other_different_gpus_at_once(jm: JobManager) -> None:
    a = jm.submit("sleep", {"seconds": 1.5, "steps": 3}, gpus=["fa"])
    b = jm.submit("sleep", {"seconds": 0.3, "steps": 1}, gpus=["fa"])
    c = jm.submit("sleep", {"seconds": 0.3, "steps": 1}, gpus=["fb"])
    assert a.state == "running" and c.state == "running"
    assert b.state == "queued"
    assert "GPU fa (held by job " + a.id in jm.waiting_reason(jm.get(b.id))
    a, b, c = (jm.wait(j.id, timeout=30) for j in (a, b, c))
    assert [j.outcome for j in (a, b, c)] == ["succeeded"] * 3
    assert b.started >= a.finished  # b waited for the GPU
    assert _overlap(a, c)  # another GPU: at the same time
    assert not (jm.jobs_dir / ".leases" / "gpu-fa").exists()


@pytest.mark.slow
def test_multi_gpu_job_leases_every_gpu_it_uses(jm: JobManager) -> None:
    both = jm.submit("sleep", {"seconds": 0.8, "steps": 2}, gpus=["fa", "fb"])
    later = jm.submit("sleep", {"seconds": 0.1, "steps": 1}, gpus=["fb"])
    assert both.state == "running" and later.state == "queued"
    both, later = jm.wait(both.id, timeout=30), jm.wait(later.id, timeout=30)
    assert later.started >= both.finished


@pytest.mark.slow
def test_queue_advances_with_nobody_watching(jm: JobManager) -> None:
    """The next GPU job starts from the finishing job's supervisor, not from this process."""
    a = jm.submit("sleep", {"seconds": 0.4, "steps": 1}, gpus=["fa"])
    b = jm.submit("sleep", {"seconds": 0.1, "steps": 1}, gpus=["fa"])
    # no reconcile/wait here: only read the record files
    rec = poll(lambda: (r if (r := jm.get(b.id)).is_finished else None), timeout=30, every=0.1,
               what="the queued job to run by itself")
    assert rec.outcome == "succeeded" and rec.started >= jm.get(a.id).finished


@pytest.mark.slow
def test_concurrent_submitters_never_share_a_gpu(jm: JobManager) -> None:
    """Several processes submit to the same GPU at the same moment: the jobs still run one by one."""
    argv = gsv_argv("sleep", "--seconds", "0.3", "--steps", "1", "--gpus", "fa", "--detach")
    procs = [subprocess.Popen(argv, cwd=REPO, stdout=subprocess.PIPE, text=True, env=dict(os.environ))
             for _ in range(3)]
    ids = [p.communicate(timeout=60)[0].strip() for p in procs]
    jobs = sorted((jm.wait(i, timeout=60) for i in ids), key=lambda j: j.started)
    assert all(j.outcome == "succeeded" for j in jobs)
    for first, second in zip(jobs, jobs[1:]):
        assert second.started >= first.finished


@pytest.mark.slow
def test_chained_job_does_not_start_after_its_predecessor_failed(jm: JobManager) -> None:
    bad = jm.submit("sleep", {"seconds": 0.2, "steps": 2, "fail": "crash"})
    chained = jm.submit("sleep", {"seconds": 0.1, "steps": 1}, after=bad.id)
    assert chained.state == "queued"
    chained = jm.wait(chained.id, timeout=30)
    assert jm.get(bad.id).outcome == "failed"
    assert chained.outcome == "cancelled" and chained.started is None and chained.pid is None
    assert bad.id in chained.reason and "failed" in chained.reason
    assert jm.log_path(chained.id).read_text() == ""


@pytest.mark.slow
def test_chained_job_runs_after_its_predecessor_succeeded(jm: JobManager) -> None:
    first = jm.submit("sleep", {"seconds": 0.3, "steps": 1})
    r = gsv("sleep", "--seconds", "0.1", "--steps", "1", "--after", first.id[-4:], "--detach")
    assert r.returncode == 0, r.stderr
    second = jm.wait(r.stdout.strip(), timeout=30)
    assert second.after == first.id and second.outcome == "succeeded"
    assert second.started >= jm.get(first.id).finished


@pytest.mark.slow
def test_cancelled_queued_job_never_starts_and_frees_its_place(jm: JobManager) -> None:
    a = jm.submit("sleep", {"seconds": 30, "steps": 30}, gpus=["fa"])
    b = jm.submit("sleep", {"seconds": 0.1, "steps": 1}, gpus=["fa"])
    b = jm.cancel(b.id)
    assert b.outcome == "cancelled" and b.reason == "cancelled before it started" and b.pid is None
    a = jm.cancel(a.id, grace=1)
    assert a.outcome == "cancelled"
    c = jm.submit("sleep", {"seconds": 0.1, "steps": 1}, gpus=["fa"])
    assert c.state == "running"  # the GPU is free again
    assert jm.wait(c.id, timeout=30).outcome == "succeeded"


@pytest.mark.slow
def test_gpu_stage_defaults_to_the_configured_gpus(jm: JobManager, tmp_path) -> None:
    config = os.environ["GSV_CONFIG"]
    with open(config, "w") as f:
        f.write("gpus = [3, 5]\n")
    r = gsv("gpu-sleep", "--seconds", "0.1", "--steps", "1", "--detach")
    assert r.returncode == 0, r.stderr
    assert jm.get(r.stdout.strip()).gpus == ["3", "5"]
    r = gsv("sleep", "--seconds", "0.1", "--steps", "1", "--detach")  # a CPU stage leases nothing
    assert jm.get(r.stdout.strip()).gpus == []
    r = gsv("gpu-sleep", "--seconds", "0.1", "--steps", "1", "--gpus", "cpu", "--detach")
    assert jm.get(r.stdout.strip()).gpus == []


@pytest.mark.slow
def test_bad_requests_are_named_errors(jm: JobManager) -> None:
    with pytest.raises(JobError, match="unknown stage"):
        jm.submit("no-such-stage", {})
    with pytest.raises(JobError, match="bad parameters"):
        jm.submit("sleep", {"secs": 1})
    with pytest.raises(JobError, match="GPU id"):
        jm.submit("sleep", {}, gpus=["0 1"])
    with pytest.raises(JobError, match="no job"):
        jm.submit("sleep", {}, after="19990101-000000-0000")
    r = gsv("sleep", "--gpus", "a b")
    assert r.returncode == 2 and "GPU id" in r.stderr
    assert jm.list() == []


@pytest.mark.slow
def test_reconcile_is_safe_from_many_threads(jm: JobManager) -> None:
    jobs = [jm.submit("sleep", {"seconds": 0.2, "steps": 1}, gpus=["fa"]) for _ in range(3)]
    with ThreadPoolExecutor(4) as pool:
        for _ in range(20):
            pool.submit(jm.reconcile)
    done = sorted((jm.wait(j.id, timeout=30) for j in jobs), key=lambda j: j.started)
    assert [j.outcome for j in done] == ["succeeded"] * 3
    for first, second in zip(done, done[1:]):
        assert second.started >= first.finished
