"""The job record on disk, reading /proc, and recognising CUDA out-of-memory (in-process, fast)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from backend.jobs import procs
from backend.jobs.record import JobRecord, load_record, read_progress
from backend.jobs.runner import is_cuda_oom


def _job(tmp_path: Path) -> JobRecord:
    d = tmp_path / "20261201-120000-abcd"
    d.mkdir()
    return JobRecord(id=d.name, stage="sleep", params={"seconds": 1.0}, project="小明", gpus=["0", "1"],
                     created="2026-12-01T12:00:00.000000+00:00", job_dir=d)


def test_record_round_trips_and_ignores_fields_from_newer_versions(tmp_path: Path) -> None:
    job = _job(tmp_path)
    job.save()
    data = json.loads((job.job_dir / "job.json").read_text(encoding="utf-8"))
    assert "progress" not in data and "job_dir" not in data and data["project"] == "小明"
    data["added_later"] = {"x": 1}
    (job.job_dir / "job.json").write_text(json.dumps(data), encoding="utf-8")
    back = load_record(job.job_dir)
    assert back == job and back.error is None
    pub = back.to_json()
    assert pub["progress"] == {"done": None, "total": None, "unit": None, "label": None}
    assert pub["log"].endswith("log.txt") and pub["events"].endswith("events.jsonl")


@pytest.mark.parametrize("content, why", [
    ("", "Expecting value"),
    ("[1, 2]", "not a JSON object"),
    ('{"stage": "sleep"}', "missing id"),
    ('{"id": "20261201-120000-0bad", "stage": "s", "state": "paused"}', "unknown state 'paused'"),
    ('{"id": "20261201-120000-0bad", "stage": "s", "outcome": "great"}', "unknown outcome 'great'"),
    ('{"id": "20261201-120000-0bad", "stage": "s", "gpus": "0"}', "bad gpus"),
    ('{"id": "20261201-120000-0bad", "stage": "s", "pid": {"a": 1}}', "bad pid"),
    # values that would become file names, kill arguments or crashes further on
    ('{"id": "20261201-120000-0bad", "stage": "s", "gpus": ["a/b"]}', "bad gpus"),
    ('{"id": "20261201-120000-0bad", "stage": "s", "gpus": ["../../x"]}', "bad gpus"),
    ('{"id": "20261201-120000-0bad", "stage": "s", "gpus": [".."]}', "bad gpus"),
    ('{"id": "20261201-120000-0bad", "stage": "s", "gpus": [99999999999999999]}', "bad gpus"),
    ('{"id": "20261201-120000-0bad", "stage": "s", "pgid": 99999999999999999999}', "bad pgid"),
    ('{"id": "20261201-120000-0bad", "stage": "s", "pid": true}', "bad pid"),
    ('{"id": "20261201-120000-0bad", "stage": "s", "argv": [1]}', "bad argv"),
    ('{"id": "20261201-120000-0bad", "stage": "s", "cancel_requested": "yes"}', "bad cancel_requested"),
    ('{"id": "20261201-120000-0bad", "stage": ["s"]}', "bad stage"),
    pytest.param('{"id": "20261201-120000-0bad", "stage": "s", "params": ' + "[" * 100000 + "]" * 100000 + "}",
                 "nested too deeply", id="nested-100000-deep"),
    ('{"id": "20261201-120000-0bad", "stage": "s", "colour": 1, "gpus": [0]}', None),  # odd but readable
    ('{"id": "20261201-120000-0000", "stage": "s"}', "does not match its folder"),
    (b"\xff\xfe{", "utf-8"),
])
def test_unreadable_records_become_corrupt_entries(tmp_path: Path, content, why) -> None:
    d = tmp_path / "20261201-120000-0bad"
    d.mkdir()
    (d / "job.json").write_bytes(content if isinstance(content, bytes) else content.encode())
    rec = load_record(d)
    if why is None:
        assert not rec.is_corrupt and rec.gpus == ["0"]
        return
    assert rec.is_corrupt and rec.state == "finished" and rec.id == d.name
    assert why in rec.error and rec.reason.startswith("job record unreadable")


def test_missing_record_is_corrupt(tmp_path: Path) -> None:
    d = tmp_path / "20261201-120000-0000"
    d.mkdir()
    assert "is missing" in load_record(d).error


def test_progress_is_found_behind_a_long_tail_of_metrics(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    lines = [json.dumps({"kind": "progress", "t": 0, "done": 7, "total": 9, "unit": "epochs"})]
    lines += [json.dumps({"kind": "metric", "t": 0, "values": {"loss": i}}) for i in range(5000)]
    path.write_text("\n".join(lines) + "\n" + '{"kind": "progress", "do')  # a half-written last line
    p = read_progress(path)
    assert (p.done, p.total, p.unit, p.fraction) == (7, 9, "epochs", 7 / 9)
    assert read_progress(tmp_path / "absent.jsonl").done is None


def test_proc_stat_reads_names_with_spaces_and_parentheses(tmp_path: Path) -> None:
    odd = tmp_path / "a) b (c"
    shutil.copy(shutil.which("sleep"), odd)
    p = subprocess.Popen([str(odd), "30"])
    try:
        st = procs.proc_stat(p.pid)
        assert st is not None and st.ppid == procs.proc_stat(p.pid).ppid and st.state in "RS"
        assert procs.is_alive(p.pid, st.start_time)
        assert not procs.is_alive(p.pid, st.start_time + 1)  # same pid, another start: not ours
    finally:
        p.kill()
        p.wait()
    assert not procs.is_alive(p.pid)


def test_cuda_oom_is_recognised_by_type_or_text_even_when_wrapped() -> None:
    class OutOfMemoryError(RuntimeError):
        pass

    OutOfMemoryError.__module__ = "torch.cuda"  # how torch names its class
    assert is_cuda_oom(OutOfMemoryError("whatever"))
    try:
        try:
            raise RuntimeError("CUDA out of memory. Tried to allocate 20.00 MiB")
        except RuntimeError as inner:
            raise ValueError("worker 1 failed") from inner
    except ValueError as outer:
        assert is_cuda_oom(outer)
    assert not is_cuda_oom(RuntimeError("out of memory in a list"))


def test_oom_in_a_worker_log_is_named_in_the_reason(tmp_path: Path) -> None:
    """A stage whose worker process died of OOM fails with a generic error; the log tells the truth."""
    from backend.jobs import scheduler

    job = _job(tmp_path)
    job.state = "running"
    job.save()
    (job.job_dir / "log.txt").write_text("rank 1: torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 1 GiB\n")
    (job.job_dir / "result.json").write_text('{"expected_outputs": [], "reason": "training worker 1 failed"}')
    scheduler.finalize_from_exit(tmp_path, job, {"exit_code": 2, "signal": None, "time": "2026-12-01T12:00:01.000000+00:00"})
    rec = load_record(job.job_dir)
    assert rec.outcome == "failed" and rec.exit_code == 2
    assert rec.reason == "CUDA out of memory (in the log); training worker 1 failed"


def test_the_log_echo_writes_what_a_trainer_reports(tmp_path: Path) -> None:
    import io

    from backend.progress import LogEcho, Reporter, read_events

    log = io.StringIO()
    report = Reporter.to_file(tmp_path / "events.jsonl", echo=LogEcho(log, progress_every=3600))
    report.progress(0, 30, "steps", label="epoch 1/3")
    report.progress(1, 30, "steps", label="epoch 1/3")  # within progress_every: not repeated
    report.metric(step=10, loss=2.5, lr=0.0001)
    report.artifact("/w/alice_e1_s10.pth", role="weights")
    report.warning("training on the CPU")
    report.progress(30, 30, "steps", label="epoch 3/3")  # the end is always written
    lines = [line.split("] ", 1)[1] for line in log.getvalue().splitlines()]
    assert lines == ["progress: 0/30 steps  epoch 1/3", "step 10: loss=2.5  lr=0.0001",
                     "saved weights: /w/alice_e1_s10.pth", "warning: training on the CPU",
                     "progress: 30/30 steps  epoch 3/3"]
    assert len(list(read_events(tmp_path / "events.jsonl"))) == 6  # the events file keeps everything
