"""``gsv format`` end to end: a run killed (SIGKILL) mid-step, then the real tracked job resumes it.

Real processes and files; tiny random models given with --bert-dir/--hubert-dir/--s2g.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

pytest.importorskip("torch")

from backend.format import journal, layout  # noqa: E402
from backend.jobs.events import read_events  # noqa: E402
from backend.jobs.manager import JobManager  # noqa: E402
from text_records import frontend_data_or_skip  # noqa: E402
from backend.train.data import ExpFolder  # noqa: E402
from backend.workspace import Workspace  # noqa: E402

from format_helpers import HUBERT_DIR, S2G_PATH, list_lines, make_clips, unpack_bert  # noqa: E402
from jobs_helpers import REPO, gsv, gsv_argv  # noqa: E402

frontend_data_or_skip()

N = 24


def test_kill_mid_run_then_job_resumes(tmp_path: Path) -> None:
    ws = Workspace()
    project = ws.create_project("voice", language="zh", version="v2")
    clips = make_clips(project.clips_dir, N, seconds=2.5)
    project.transcripts_dir.mkdir(parents=True, exist_ok=True)
    project.transcript_path.write_text("\n".join(list_lines(clips)), encoding="utf-8")
    models = ["--bert-dir", str(unpack_bert(tmp_path)), "--hubert-dir", str(HUBERT_DIR), "--s2g", str(S2G_PATH),
              "--allow-pypinyin"]  # no G2PW model offline: the v2 Chinese is read with pypinyin, explicitly

    proc = subprocess.Popen(gsv_argv("format", "--project", "voice", *models, "--gpus", "cpu", "--now"),
                            cwd=REPO, env=dict(os.environ), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    part = journal.state_dir(project.exp_dir) / "ssl.000.jsonl"
    deadline = time.monotonic() + 240
    while journal.count_lines(part) < 3:
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        assert time.monotonic() < deadline, "the ssl step never started"
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = journal.count_lines(part)
    assert 3 <= done_before < N
    assert not (project.exp_dir / layout.NAME2SEMANTIC).exists()

    r = gsv("format", "--project", "voice", *models, "--gpus", "cpu", "--detach")
    assert r.returncode == 0, r.stderr
    job_id = r.stdout.strip()
    w = gsv("jobs", "wait", job_id, timeout=300)
    assert w.returncode == 0, w.stderr + gsv("jobs", "logs", job_id).stdout
    job = JobManager(ws.jobs_dir).get(job_id)
    summary = [e for e in read_events(job.events_path) if e["kind"] == "summary"][-1]["data"]
    steps = {s["name"]: s for s in summary["steps"]}
    assert steps["text"]["reused"] == N and steps["text"]["done"] == 0  # text finished before the kill
    assert steps["ssl"]["reused"] >= done_before and steps["ssl"]["done"] == N - steps["ssl"]["reused"]
    assert steps["semantic"]["done"] == N
    assert summary["kept"] == N and summary["skipped"] == []
    exp = ExpFolder(project.exp_dir, "v2")
    assert len(exp.sovits_items()) == N and len(exp.gpt_items()) == N
    leftovers = [p for d in ("3-bert", "4-cnhubert", "5-wav32k") for p in (project.exp_dir / d).iterdir()
                 if p.name.startswith(".")]
    assert leftovers == []  # temp files of the killed write are cleaned up
    assert json.loads(json.dumps(summary))["version"] == "v2"


def test_format_without_a_transcript_is_a_named_error() -> None:
    Workspace().create_project("empty", language="en", version="v2")
    r = gsv("format", "--project", "empty", "--gpus", "cpu")
    assert r.returncode == 2 and "transcript not found" in r.stderr and "fix:" in r.stderr
    r = gsv("format", "--list", "x.list")
    assert r.returncode == 2 and "--list needs --exp" in r.stderr
