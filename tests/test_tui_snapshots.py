"""The five modes at 80×24, as SVG snapshots (pytest-textual-snapshot), so a layout change shows
in review. Regenerate after an intended change with ``pytest tests/test_tui_snapshots.py
--snapshot-update`` and look at the SVGs before committing them.

The project has what a person has mid-way: clips, a transcript, a running training job and a
take. Everything is real files in a workspace, except the running job: a real one's losses,
timings and ETA change from run to run, which no snapshot can hold. So the job the screens see
is a fixed :class:`JobsSnapshot`, published as the job watcher would publish it, with the events
file a trainer writes; the clock the Jobs table reads is pinned for the same reason.

Paths are on screen, so the workspace lives at one fixed place (a lock keeps two runs apart).
"""

from __future__ import annotations

import fcntl
import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from transcript_helpers import make_wav
from tui_helpers import make_app, wait_until

from backend.workspace import Workspace
from gsv_tui.jobwatch import JobsSnapshot, JobView, ProgressView
from gsv_tui.messages import JobsUpdated

ROOT = Path(tempfile.gettempdir()) / "gsv-tui-snapshots"
JOB_ID = "20260115-100000-5a9e"
STARTED = 1768471200.0  # 2026-01-15 10:00 UTC: another day, so Start shows a date, not "now"
NOW = STARTED + 754.0
TEXTS = ("今天天气很好，我们一起去公园散步吧。", "这是第二句话，比第一句短一点。", "第三句。")


@pytest.fixture
def home(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    ROOT.mkdir(exist_ok=True)
    with open(ROOT / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        ws_root = ROOT / "home"
        shutil.rmtree(ws_root, ignore_errors=True)
        _build_workspace(ws_root)
        monkeypatch.setattr("gsv_tui.widgets.jobs_table.time.time", lambda: NOW)
        yield ws_root
        shutil.rmtree(ws_root, ignore_errors=True)


def _build_workspace(root: Path) -> None:
    ws = Workspace(root)
    project = ws.create_project("alice", language="zh", version="v2")
    lines = []
    for i, text in enumerate(TEXTS):
        wav = project.clips_dir / f"rec.wav_{i:010d}_{i + 1:010d}.wav"
        make_wav(wav, 2.0 + i, freq=200 + 40 * i)
        lines.append(f"{wav}|alice|ZH|{text}")
    project.transcript_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = project.outputs_dir
    out.mkdir(parents=True, exist_ok=True)
    make_wav(out / "take-0001.wav", 2.5)
    (out / "take-0001.json").write_text(json.dumps({
        "params": {"text": "你好，欢迎使用。", "cut": "cut5", "top_k": 15, "top_p": 1.0, "temperature": 1.0,
                   "speed": 1.0},
        "seed": 1234, "duration": 2.5, "created": "2026-01-15T10:20:00"}), encoding="utf-8")
    events = ws.jobs_dir / JOB_ID / "events.jsonl"
    events.parent.mkdir(parents=True, exist_ok=True)
    evs: list[dict[str, Any]] = []
    for step in range(1, 41):
        evs.append({"kind": "metric", "step": step, "values": {
            "loss/total": round(120.0 / (1 + step / 6), 3), "lr": 0.01, "eta_s": 1800 - step * 10,
            "samples_per_s": 12.5}})
    evs.append({"kind": "progress", "done": 40, "total": 160, "unit": "steps", "label": "epoch 3/12"})
    events.write_text("\n".join(json.dumps(e) for e in evs) + "\n", encoding="utf-8")


def _training_snapshot() -> JobsSnapshot:
    job = JobView(id=JOB_ID, stage="train-gpt", project="alice", state="running", outcome=None, exit_code=None,
                  reason=None, gpus=("0",), created=STARTED, started=STARTED, finished=None,
                  progress=ProgressView(40, 160, "steps", "epoch 3/12"), message=None)
    return JobsSnapshot((job,))


async def _arrive(pilot: Any, mode: str) -> None:
    app = pilot.app
    app.animation_level = "none"  # a pulsing bar is drawn still: a frame of motion is no layout
    app.post_message(JobsUpdated(_training_snapshot()))
    await pilot.pause()
    app.switch_mode(mode)
    await wait_until(pilot, lambda: getattr(app.screen, "MODE", None) == mode, what=f"the {mode} screen")
    if mode == "transcripts":
        await wait_until(pilot, lambda: app.screen.transcript is not None
                         and app.screen.durations_done == (len(TEXTS), len(TEXTS)), what="the transcript")
    await app.workers.wait_for_complete()
    await pilot.pause(0.3)
    for field in app.screen.query("Input"):
        field.cursor_blink = False  # the focused field's cursor is drawn, not blinking
    app.clear_notifications()
    await pilot.pause()


@pytest.mark.parametrize("mode", ["dataset", "transcripts", "training", "inference", "jobs"])
def test_each_mode_at_80x24(home: Path, mode: str, snap_compare: Any) -> None:
    app = make_app(home, project="alice", watch_jobs=False)
    assert snap_compare(app, terminal_size=(80, 24), run_before=lambda pilot: _arrive(pilot, mode))
