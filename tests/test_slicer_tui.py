"""The Dataset screen driven by Pilot at 80x24: input, parameters, a real slice job, the summary."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import soundfile as sf
from audio_synth import speechlike
from textual.widgets import Checkbox, Input
from tui_helpers import SIZE, make_app, screen_text, wait_until

from backend.workspace import Workspace
from gsv_tui.screens.asr_dialog import AsrDialog
from gsv_tui.screens.dataset import DatasetScreen
from gsv_tui.screens.path_browser import PathBrowser
from gsv_tui.screens.transcripts import TranscriptsScreen
from gsv_tui.widgets.path_input import complete_path
from gsv_tui.widgets.slice_form import SliceForm


@pytest.fixture
def home(tmp_path: Path) -> Path:
    ws = Workspace(tmp_path / "home")
    ws.create_project("alice", language="en")
    return ws.root


@pytest.fixture
def recordings(tmp_path: Path) -> Path:
    folder = tmp_path / "my recordings"
    folder.mkdir()
    sf.write(folder / "take one.wav", speechlike(14, 44100, seed=1), 44100)
    sf.write(folder / "take two.flac", speechlike(10, 48000, seed=2), 48000)
    (folder / "notes.wav").write_text("not audio")
    return folder


async def _type(pilot, widget: Input, text: str) -> None:  # noqa: ANN001
    """Replace the field's text; the last few characters are real key presses (long temp paths
    typed key by key would only make the test slow)."""
    widget.focus()
    await pilot.pause()  # focus selects the old text; let that happen first
    widget.value = text[:-4]
    widget.cursor_position = len(widget.value)
    await pilot.press(*list(text[-4:]))


@pytest.mark.slow
async def test_set_input_change_a_parameter_start_and_see_the_summary(home: Path, recordings: Path) -> None:
    app = make_app(home, project="alice")
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, DatasetScreen)
        assert "Clips go to" in screen_text(app) and "threshold" in screen_text(app)
        path_field = screen.query_one("#slice-input", Input)
        await _type(pilot, path_field, str(recordings))
        await pilot.pause()
        assert "folder with 3 file(s)" in screen_text(app)
        min_length = screen.query_one("#param-min_length", Input)
        assert min_length.value == "4000"  # the official default is shown
        await _type(pilot, min_length, "3000")
        await pilot.pause()
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: "Result:" in screen_text(app), timeout=90, what="the slicing result")
        text = screen_text(app)
        clips_dir = home / "projects" / "alice" / "clips"
        clips = sorted(p.name for p in clips_dir.iterdir())
        assert clips and f"{len(clips)} clips" in text
        assert "skipped notes.wav" in text and "not audio" in text
        assert "4–6 s" in text and "only" in text and "1–30 minutes" in text  # histogram and warnings
        summary = json.loads((clips_dir.parent / "clips.slice.json").read_text())
        assert summary["params"]["min_length"] == 3000 and summary["clips"] == len(clips)
        job = app.application.jobs.get(screen.job_id)
        assert (job.stage, job.outcome, job.project) == ("slice", "succeeded", "alice")
        # Again with the same input: refused until "replace" is ticked, then the old clips are backed up.
        first_job = screen.job_id
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert screen.job_id == first_job and len(app.application.jobs.list()) == 1
        screen.query_one("#slice-replace", Checkbox).value = True
        await _type(pilot, screen.query_one("#param-min_length", Input), "4000")
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: screen.job_id != first_job and screen._shown_final == screen.job_id,
                         timeout=90, what="the second slicing")
        assert app.application.jobs.get(screen.job_id).outcome == "succeeded"
        (backup,) = (home / "projects" / "alice" / "trash" / "replaced-clips").iterdir()
        assert sorted(p.name for p in backup.iterdir()) == clips
        await pilot.press("ctrl+t")  # on to ASR: the dialog that starts it
        await wait_until(pilot, lambda: isinstance(app.screen, AsrDialog), what="the ASR dialog")


@pytest.mark.slow
async def test_inconsistent_parameters_are_explained_and_nothing_starts(home: Path, recordings: Path) -> None:
    app = make_app(home, project="alice")
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await _type(pilot, screen.query_one("#slice-input", Input), str(recordings))
        await _type(pilot, screen.query_one("#param-min_interval", Input), "5000")
        await pilot.pause()
        text = screen_text(app)
        assert "min_length (4000 ms) must be ≥ min_interval (5000 ms)" in text
        assert screen.query_one("#param-min_length", Input).has_class("-invalid")
        await _type(pilot, screen.query_one("#param-alpha", Input), "x")  # the field refuses letters
        assert screen.query_one("#param-alpha", Input).value == ""
        await pilot.pause()
        assert "alpha: '' is not a number" in screen_text(app)
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert screen.job_id is None and app.application.jobs.list() == []
        assert app.focused is screen.query_one("#param-alpha", Input) or app.focused.id.startswith("param-")
        await _type(pilot, screen.query_one("#param-alpha", Input), "0.25")
        await _type(pilot, screen.query_one("#param-min_interval", Input), "300")
        await pilot.pause()
        assert "parameters are consistent" in screen_text(app)
        assert screen.query_one(SliceForm).is_valid


@pytest.mark.slow
async def test_path_completion_and_browser(home: Path, recordings: Path) -> None:
    assert complete_path(str(recordings) + "/take o") == str(recordings / "take one.wav")
    assert complete_path(str(recordings.parent) + "/my rec") == str(recordings) + "/"
    app = make_app(home, project="alice")
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        field = screen.query_one("#slice-input", Input)
        await _type(pilot, field, str(recordings.parent) + "/my re")
        await pilot.press("tab")
        assert field.value == str(recordings) + "/"
        await pilot.press("t", "a", "k", "e", " ", "t", "tab")
        assert field.value == str(recordings / "take two.flac")
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert isinstance(app.screen, PathBrowser)
        await pilot.press("f")  # the folder the browser opened in
        await pilot.pause()
        assert isinstance(app.screen, DatasetScreen)
        assert field.value == str(recordings)


@pytest.mark.slow
async def test_without_a_project_the_screen_says_so(tmp_path: Path, recordings: Path) -> None:
    app = make_app(tmp_path / "empty-home")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("escape")  # close the project picker shown at first start
        await pilot.pause()
        assert isinstance(app.screen, DatasetScreen)
        assert "No project open" in screen_text(app)
        await _type(pilot, app.screen.query_one("#slice-input", Input), str(recordings))
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert app.screen.job_id is None


@pytest.mark.slow
async def test_the_last_result_of_the_project_is_shown_on_arrival(home: Path, recordings: Path) -> None:
    from backend.progress import Reporter
    from backend.stages import slice as slice_stage

    clips_dir = home / "projects" / "alice" / "clips"
    slice_stage.run(slice_stage.Params(inputs=[recordings], out_dir=clips_dir, workers=1), Reporter())
    n = len(list(clips_dir.iterdir()))
    app = make_app(home, project="alice")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert f"Last slicing: {n} clips" in text and "skipped notes.wav" in text
        await pilot.press("2")  # the mode keys work on arrival: focus is not in a text field
        await pilot.pause()
        assert isinstance(app.screen, TranscriptsScreen)
