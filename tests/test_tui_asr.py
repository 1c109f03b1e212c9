"""ASR from the Dataset screen: ctrl+t asks engine/language (preselected by the project's language)
and what to do with an existing .list, then runs the real `asr` job on a tiny FunASR model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from asr_models import build_tiny_paraformer
from textual.widgets import Static
from tui_helpers import SIZE, make_app, wait_until

from backend.transcripts.listfile import Clip, parse_bytes
from backend.workspace import Workspace
from gsv_tui.screens.asr_dialog import AsrDialog


@pytest.fixture(scope="module")
def paraformer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_paraformer(tmp_path_factory.mktemp("asr") / "paraformer-tiny")


def _project(home: Path) -> Path:
    project = Workspace(home).create_project("声音", language="zh")
    t = np.arange(32000 * 2) / 32000
    for i in range(2):
        sf.write(project.clips_dir / f"rec.wav_{i:010d}_{i + 1:010d}.wav", (0.3 * np.sin(2 * np.pi * 200 * t)).astype("float32"),
                 32000, subtype="PCM_16")
    return project.transcript_path


@pytest.mark.slow
async def test_transcribe_from_the_dataset_screen(tmp_path: Path, paraformer: Path) -> None:
    home = tmp_path / "home"
    transcript = _project(home)
    app = make_app(home, project="声音")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+t")
        dialog = await wait_until(pilot, lambda: app.screen if isinstance(app.screen, AsrDialog) else None,
                                  what="the ASR dialog")
        choice = dialog.choice()
        assert (choice.engine, choice.language, choice.on_existing) == ("funasr", "zh", "merge")
        dialog.query_one("#asr-model").value = str(paraformer)
        await pilot.press("ctrl+r")
        job = await wait_until(pilot, lambda: next((j for j in app.application.jobs.list() if j.stage == "asr"), None),
                               what="the asr job")
        assert job.params["engine"] == "funasr" and job.params["project"] == "声音"
        done = app.application.jobs.wait(job.id, timeout=240)
        assert done.outcome == "succeeded", done.reason
    rows = [r for r in parse_bytes(transcript.read_bytes()).rows if isinstance(r, Clip)]
    assert len(rows) == 2 and {r.lang for r in rows} == {"ZH"}


@pytest.mark.slow
async def test_an_existing_transcript_is_asked_about(tmp_path: Path) -> None:
    home = tmp_path / "home"
    transcript = _project(home)
    transcript.write_text("x.wav|s|ZH|人工校对", encoding="utf-8")
    app = make_app(home, project="声音", watch_jobs=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+t")
        dialog = await wait_until(pilot, lambda: app.screen if isinstance(app.screen, AsrDialog) else None,
                                  what="the ASR dialog")
        assert dialog.existing_list == "clips.list" and dialog.choice().on_existing == "merge"
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, AsrDialog), what="the dialog to close")
    assert transcript.read_text(encoding="utf-8") == "x.wav|s|ZH|人工校对"


async def test_a_failed_transcription_says_why_on_the_dataset_screen(tmp_path: Path) -> None:
    """The real asr job fails (its model folder does not exist); the reason and the fix show on
    Dataset, where it was started, not only on the Jobs screen."""
    home = tmp_path / "home"
    _project(home)
    app = make_app(home, project="声音")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+t")
        dialog = await wait_until(pilot, lambda: app.screen if isinstance(app.screen, AsrDialog) else None,
                                  what="the ASR dialog")
        dialog.query_one("#asr-model").value = str(tmp_path / "no-such-model")
        await pilot.press("ctrl+r")
        screen = app.screen
        await wait_until(pilot, lambda: getattr(screen, "_asr_shown_final", None) is not None, timeout=240,
                         what="the asr job's end")
        job = app.application.jobs.get(screen.asr_job_id)
        assert job.outcome == "failed"
        # on Dataset itself: the result area says why (read from the widget: at 80×24 under a busy
        # machine the frame may be taken while the body scrolls to it)
        headline = screen.query_one("#summary-headline", Static)
        await wait_until(pilot, lambda: "no-such-model" in str(headline.render()), what="the reason on Dataset")
        assert str(headline.render()).startswith("Transcription failed:")
        assert any(n.title == "transcription failed" for n in app._notifications)


async def test_the_dialog_fits_80_columns_and_offers_sensevoice_and_nano(tmp_path: Path) -> None:
    home = tmp_path / "home"
    transcript = _project(home)
    transcript.write_text("x.wav|s|ZH|人工校对", encoding="utf-8")  # the tallest form: with the radio set
    app = make_app(home, project="声音", watch_jobs=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+t")
        dialog = await wait_until(pilot, lambda: app.screen if isinstance(app.screen, AsrDialog) else None,
                                  what="the ASR dialog")
        await pilot.pause()
        box = dialog.query_one("Vertical").region
        for wid in ("#asr-engine", "#asr-language", "#asr-model", "#asr-existing"):
            r = dialog.query_one(wid).region
            assert r.width > 0 and box.x < r.x and r.right < box.right and r.bottom <= box.bottom <= 24, wid
        assert dialog.query_one("#asr-language").region.width >= 20  # "auto"/"yue" and the arrow, whole
        engine = dialog.query_one("#asr-engine")
        assert engine.value == "funasr"  # Chinese project: Paraformer preselected
        labels = [str(label) for label, _ in engine._options]
        assert any("SenseVoice" in label for label in labels)
        engine.value = "funasr:sensevoice"
        choice = dialog.choice()
        assert (choice.engine, choice.model) == ("funasr", "sensevoice")
        dialog.query_one("#asr-model").value = "/my/sensevoice-folder"
        assert dialog.choice().model == "/my/sensevoice-folder"  # a typed model wins over the preset
        dialog.query_one("#asr-model").value = ""
        assert any("Fun-ASR-Nano" in label for label in labels)
        engine.value = "funasr:fun-asr-nano"
        choice = dialog.choice()
        assert (choice.engine, choice.model, choice.language) == ("funasr", "fun-asr-nano", "zh")
