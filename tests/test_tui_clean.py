"""The Dataset screen's Clean panel driven by Pilot at 80x24: the steps and models the backend
offers, the runner-missing message with its install command, a real ``clean`` job submitted with
the chosen steps and its failure shown on the screen, and the slicer line naming ``clean/``."""

from __future__ import annotations

from pathlib import Path

import pytest
import soundfile as sf
from audio_synth import speechlike
from textual.widgets import Checkbox, Select
from tui_helpers import SIZE, make_app, screen_text, wait_until

from backend.app import clean as cleaning
from backend.clean.catalogue import STEPS
from backend.clean.runner import INSTALL_COMMAND, runner_available
from backend.jobs.manager import JobManager
from backend.workspace import Workspace
from gsv_tui.screens.dataset import DatasetScreen
from gsv_tui.widgets.clean_panel import CleanPanel

pytestmark = pytest.mark.skipif(runner_available(), reason="these tests are about a machine without audio-separator")


@pytest.fixture
def home(tmp_path: Path) -> Path:
    ws = Workspace(tmp_path / "home")
    project = ws.create_project("alice", language="en")
    sf.write(project.raw_dir / "take one.wav", speechlike(3, 44100, seed=1), 44100)
    return ws.root


async def _open_panel(pilot) -> CleanPanel:  # noqa: ANN001
    await pilot.press("ctrl+n")
    panel = pilot.app.screen.query_one(CleanPanel)
    await wait_until(pilot, lambda: not panel.collapsed, what="the panel to open")
    await pilot.pause()
    return panel


async def test_panel_lists_steps_and_models_and_the_install_command(home: Path) -> None:
    app = make_app(home, project="alice")
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, DatasetScreen)
        assert "Clean the recordings before slicing" in screen_text(app)
        assert "threshold" in screen_text(app)  # folded, the panel leaves the slice form in view
        panel = await _open_panel(pilot)
        shown = screen_text(app)
        for step in cleaning.step_choices():
            assert step.title in shown
            options = [value for _, value in panel.query_one(f"#clean-model-{step.step}", Select)._options]
            assert options == [m.name for m in step.models]  # the backend's list, default first
            assert panel.query_one(f"#clean-on-{step.step}", Checkbox).value == step.on_by_default
        assert [s.step for s in cleaning.step_choices()] == list(STEPS)
        assert "mel-roformer-vocals · roformer" in shown
        # The runner is not installed here: the command that installs it shows instead of the keys.
        assert "audio-separator" in shown and INSTALL_COMMAND in shown
        assert "previews 10 s" not in shown
        assert "Clips go to" in shown  # open, the panel still fits above the slicer's lines
        await pilot.press("ctrl+g")  # refused on the screen, no job queued
        await pilot.pause()
        assert JobManager(Workspace(home).jobs_dir).list() == []


async def test_clean_submission_runs_a_real_job_and_shows_why_it_failed(home: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    # The panel refuses to submit without the runner; to exercise the submission on a machine
    # without it, the panel is told the runner is there. The job itself is a real subprocess that
    # looks for the runner on its own, fails, and its reason and fix must reach this screen.
    monkeypatch.setattr(cleaning, "runner_state", lambda: cleaning.RunnerState(True))
    app = make_app(home, project="alice")
    async with app.run_test(size=SIZE) as pilot:
        panel = await _open_panel(pilot)
        assert "previews 10 s" in screen_text(app)
        await pilot.click("#clean-on-denoise")
        await pilot.pause()
        assert panel.settings() == cleaning.CleanSettings(separate="mel-roformer-vocals", denoise="uvr-denoise")
        await pilot.press("ctrl+g")
        screen = app.screen
        assert isinstance(screen, DatasetScreen)
        await wait_until(pilot, lambda: screen.clean_job_id, what="the clean job")
        record = JobManager(Workspace(home).jobs_dir).get(screen.clean_job_id)
        assert record.stage == "clean"
        assert record.params["separate"] == "mel-roformer-vocals" and record.params["denoise"] == "uvr-denoise"
        assert record.params["dereverb"] is None
        await wait_until(pilot, lambda: "cleaning failed" in screen_text(app), timeout=60, what="the failure")
        shown = screen_text(app)
        # Offline, the job stops at the missing model files (before it needs the runner): their
        # names and the command that fetches them must be on this screen.
        assert "cleaning model files missing" in shown and "mel-roformer-vocals" in shown
        assert "fix: run `gsv models fetch --clean mel-roformer-vocals uvr-denoise`" in " ".join(shown.split())
        assert "Clean: cleaning failed" in shown
        await pilot.press("ctrl+n")  # folded again: the slicer's lines are back, the outcome in the title
        await pilot.pause()
        shown = screen_text(app)
        assert "Clean: cleaning failed" in shown and "Clips go to" in shown
        assert app.focused is not None and app.focused.id == "slice-input"


async def test_slicer_line_names_clean_when_it_has_files(home: Path) -> None:
    project = Workspace(home).open_project("alice")
    app = make_app(home, project="alice")
    async with app.run_test(size=SIZE) as pilot:
        assert "slices the project's raw/" in screen_text(app)
    clean = project.root / "clean"
    clean.mkdir()
    sf.write(clean / "take one.wav", speechlike(3, 44100, seed=1), 44100)
    app = make_app(home, project="alice")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "slices the project's clean/" in screen_text(app)
        screen = app.screen
        assert isinstance(screen, DatasetScreen)
        assert screen.build_params().inputs == [clean]  # an empty input slices clean/


async def test_preview_queues_a_ten_second_excerpt_and_play_waits_for_it(home: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    # As above, the panel is told the runner is there; the preview job is real and fails offline.
    monkeypatch.setattr(cleaning, "runner_state", lambda: cleaning.RunnerState(True))
    project = Workspace(home).open_project("alice")
    app = make_app(home, project="alice")
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, DatasetScreen)
        await _open_panel(pilot)
        await pilot.press("ctrl+b")  # nothing rendered yet: says how to get a preview
        await pilot.pause()
        assert any("No preview yet" in n.message for n in app._notifications)
        await pilot.press("ctrl+y")
        await wait_until(pilot, lambda: screen.clean_job_id, what="the preview job")
        record = JobManager(Workspace(home).jobs_dir).get(screen.clean_job_id)
        recording = project.raw_dir / "take one.wav"
        assert record.params["inputs"] == [str(recording)]
        assert record.params["excerpt_seconds"] == 10.0
        assert record.params["excerpt_start"] == cleaning.preview_start(recording) == 0.0  # a 3 s file
        assert Path(record.params["out_dir"]) == project.root / "clean-preview"
        await wait_until(pilot, lambda: "preview failed" in screen_text(app), timeout=60, what="the failure")
        assert screen.preview is None


def test_preview_starts_in_the_middle_of_a_long_recording(tmp_path: Path) -> None:
    long = tmp_path / "long.wav"
    sf.write(long, speechlike(40, 16000, seed=3), 16000)
    assert cleaning.preview_start(long) == pytest.approx(15.0)
    (tmp_path / "not audio.wav").write_text("no")
    assert cleaning.preview_start(tmp_path / "not audio.wav") == 0.0
