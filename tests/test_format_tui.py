"""The Format action of the Training screen, driven by Pilot at 80x24: the saved summary of a real
formatting run, a real job started from the panel (version and GPUs as chosen), its outcome."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Button, Input, ProgressBar, Select
from tui_helpers import SIZE, make_app, screen_text, wait_until

from backend.app.summaries import FormatSummary
from backend.format.journal import write_summary
from backend.jobs.manager import JobManager
from backend.workspace import Workspace
from gsv_tui.jobwatch import JobView, ProgressView
from gsv_tui.widgets.format_panel import FormatPanel, parse_gpus, summary_text

SUMMARY = {"version": "v2", "items": 3, "kept": 2, "seconds": 75.5, "exp_dir": "x",
           "skipped": [{"item": "b.wav", "step": "ssl", "reason": "too short for training (0.30 s)"}],
           "steps": [{"name": "text", "done": 3, "reused": 0, "skipped": 0},
                     {"name": "ssl", "done": 3, "reused": 0, "skipped": 1}]}


@pytest.fixture
def home(tmp_path: Path) -> Path:
    ws = Workspace(tmp_path / "home")
    p = ws.create_project("alice", language="zh", version="v2")
    p.clips_dir.mkdir(parents=True, exist_ok=True)
    p.transcripts_dir.mkdir(parents=True, exist_ok=True)
    p.transcript_path.write_text(f"{p.clips_dir / 'a.wav'}|alice|ZH|你好。", encoding="utf-8")
    return ws.root


def test_gpu_field_and_summary_text() -> None:
    assert parse_gpus("") is None and parse_gpus("cpu") == [] and parse_gpus("0, 1") == ["0", "1"]
    with pytest.raises(Exception, match="not understood"):
        parse_gpus("first")
    text = summary_text(FormatSummary.from_json(SUMMARY)).plain
    assert "2 clips kept · 1 skipped · 1 min 16 s" in text and "b.wav (ssl): too short" in text


async def _open_training(pilot) -> FormatPanel:  # noqa: ANN001
    await pilot.press("3")
    return await wait_until(pilot, lambda: next(iter(pilot.app.screen.query(FormatPanel)), None), what="panel")


@pytest.mark.slow
async def test_saved_summary_is_shown(home: Path) -> None:
    ws = Workspace(home)
    write_summary(ws.open_project("alice").exp_dir, SUMMARY)
    app = make_app(home, project="alice")
    async with app.run_test(size=SIZE) as pilot:
        panel = await _open_training(pilot)
        assert panel.query_one("#format-version", Select).value == "v2"  # the project's version
        await wait_until(pilot, lambda: "2 clips kept" in screen_text(app), what="summary")
        assert "too short" in screen_text(app)


@pytest.mark.slow
async def test_format_button_starts_the_job_and_shows_its_outcome(home: Path, monkeypatch) -> None:
    monkeypatch.delenv("GSV_PRETRAINED_DIR", raising=False)  # offline with no base models: a named failure
    app = make_app(home, project="alice")
    async with app.run_test(size=SIZE) as pilot:
        panel = await _open_training(pilot)
        assert "Not formatted yet" in screen_text(app)
        panel.query_one("#format-version", Select).value = "v1"
        panel.query_one("#format-gpus", Input).value = "cpu"
        panel.query_one("#format-start", Button).focus()
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: panel.job_id is not None, what="job submitted")
        job = JobManager(Workspace(home).jobs_dir).get(panel.job_id)
        assert job.stage == "format" and job.params["version"] == "v1" and job.gpus == []
        assert job.params["list_path"].endswith("clips.list") and job.project == "alice"
        await wait_until(pilot, lambda: "Formatting failed" in screen_text(app), timeout=60, what="outcome")
        assert "pretrained v1 files missing" in screen_text(app)
        assert "GSV_PRETRAINED_DIR" in screen_text(app)  # the fix says where files go without the network
        bar = panel.query_one("#format-progress", ProgressBar)
        assert bar.total is not None  # at rest beside "failed": a bar without a total pulses as if busy
        await pilot.press("5")  # the mode keys still work from the panel
        await wait_until(pilot, lambda: app.current_mode == "jobs", what="jobs mode")


@pytest.mark.slow
async def test_progress_names_the_step(home: Path) -> None:
    app = make_app(home, project="alice", watch_jobs=False)
    async with app.run_test(size=SIZE) as pilot:
        panel = await _open_training(pilot)
        panel.follow("job1")
        view = JobView("job1", "format", "alice", "running", None, None, None, (), None, None, None,
                       ProgressView(3, 8, "clips", "ssl"), None)
        panel.show_job(view)
        await pilot.pause()
        assert "HuBERT + 32 kHz wavs: 3/8 clips" in screen_text(app)
