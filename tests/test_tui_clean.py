"""The Dataset screen's Clean panel driven by Pilot at 80x24: the steps and models the backend
offers, the runner-missing message with its install key and command, the install job run by that
key (real pip into a throwaway environment, from wheels made here) and the panel's keys after it,
a real ``clean`` job submitted with the chosen steps and its failure shown on the screen, and the
slicer line naming ``clean/``.

Whether the runner is installed differs between machines (CI installs it). The tests that need
it missing replace the declared requirement list by packages nobody has (the probe wheels of
install_helpers), so the check itself still runs for real.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pytest
import soundfile as sf
from audio_synth import speechlike
from install_helpers import DEP, RUNNER, make_venv, site_packages, write_wheels
from textual.widgets import Checkbox, Select
from tui_helpers import SIZE, make_app, screen_text, wait_until

from backend.app import clean as cleaning
from backend.clean import install
from backend.clean.catalogue import STEPS
from backend.clean.runner import INSTALL_COMMAND
from backend.jobs.manager import JobManager
from backend.workspace import Workspace
from gsv_tui.screens.dataset import DatasetScreen
from gsv_tui.widgets.clean_panel import CleanPanel


@pytest.fixture
def no_runner(monkeypatch: pytest.MonkeyPatch) -> None:
    """The runner's declared packages become the probe wheels', which nothing has installed."""
    monkeypatch.setattr(install, "RUNNER", (RUNNER,))
    monkeypatch.setattr(install, "RUNNER_DEPS", (DEP,))


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


async def test_panel_lists_steps_and_models_and_the_install_command(home: Path, no_runner: None) -> None:
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
        # The runner is not installed: the key and the command that install it show instead of the keys.
        assert "audio-separator" in shown and INSTALL_COMMAND in shown and "ctrl+e installs it here" in shown
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


async def test_install_key_runs_the_install_job_and_the_panel_gets_its_keys(home: Path, tmp_path: Path, no_runner: None,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    # The job installs into a throwaway environment from wheels made here (no network); that
    # environment's packages are put on this process's path, so the panel's own check, which
    # reads the installed packages afresh, must see the install without a restart.
    wheels = write_wheels(tmp_path / "wheels")
    python = make_venv(tmp_path / "env")
    monkeypatch.syspath_prepend(str(site_packages(python)))
    monkeypatch.setattr(cleaning, "runner_install_request",
                        functools.partial(cleaning.runner_install_request, python=python, find_links=(wheels,),
                                          no_index=True))
    app = make_app(home, project="alice")
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, DatasetScreen)
        await _open_panel(pilot)
        assert "ctrl+e installs it here" in screen_text(app) and "previews 10 s" not in screen_text(app)
        await pilot.press("ctrl+e")
        await wait_until(pilot, lambda: screen.clean_job_id, what="the install job")
        record = JobManager(Workspace(home).jobs_dir).get(screen.clean_job_id)
        assert record.stage == "install-cleaner"
        assert (record.params["requirements"], record.params["no_deps"]) == ([DEP], [RUNNER])
        await wait_until(pilot, lambda: "runner installed" in screen_text(app), timeout=120, what="the install")
        shown = screen_text(app)
        assert "previews 10 s" in shown and "installs it here" not in shown  # the normal keys, no restart
        assert "Clean: runner install done" in shown
        assert JobManager(Workspace(home).jobs_dir).get(record.id).outcome == "succeeded"
        await pilot.press("ctrl+e")  # installed now: says so, starts nothing
        await pilot.pause()
        assert len(JobManager(Workspace(home).jobs_dir).list()) == 1
        assert any("installed already" in n.message for n in app._notifications)


async def test_install_refused_shows_the_reason_and_fix(home: Path, tmp_path: Path, no_runner: None,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    bare = make_venv(tmp_path / "bare", with_pip=False)
    monkeypatch.setattr(cleaning, "runner_install_request",
                        functools.partial(cleaning.runner_install_request, python=bare))
    app = make_app(home, project="alice")
    async with app.run_test(size=SIZE) as pilot:
        await _open_panel(pilot)
        await pilot.press("ctrl+e")
        await wait_until(pilot, lambda: "pip is not installed" in screen_text(app), what="the refusal")
        assert "ensurepip" in " ".join(screen_text(app).split())
        assert JobManager(Workspace(home).jobs_dir).list() == []
