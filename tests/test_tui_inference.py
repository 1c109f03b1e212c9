"""The Inference screen driven by Pilot at 80x24: weights from the project's exports and the
pretrained folder, a reference, text, a real ``infer`` job on the tiny models, the take in the
history, saved elsewhere; the reference handed over through the project settings."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import soundfile as sf

pytest.importorskip("torch")
pytest.importorskip("transformers")

from infer_helpers import GPT, make_pretrained_dir, write_voice  # noqa: E402
from text_records import frontend_data_or_skip  # noqa: E402
from textual.widgets import Input, Select, TextArea  # noqa: E402
from tui_helpers import SIZE, make_app, screen_text, wait_until  # noqa: E402

from backend.app.review import open_transcript  # noqa: E402
from backend.workspace import Workspace  # noqa: E402
from gsv_tui.screens.inference import InferenceScreen, reference_note  # noqa: E402
from gsv_tui.screens.save_as import SaveAsScreen  # noqa: E402
from gsv_tui.widgets.take_history import TakeHistory  # noqa: E402


@pytest.fixture
def pretrained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An official-layout pretrained folder holding the tiny models under the v2 names."""
    root = make_pretrained_dir(tmp_path / "pretrained")
    monkeypatch.setenv("GSV_PRETRAINED_DIR", str(root))
    return root


@pytest.fixture
def home(tmp_path: Path) -> Path:
    ws = Workspace(tmp_path / "home")
    project = ws.create_project("alice", language="en", version="v2")
    export = project.gpt_weights_dir("v2") / "alice-e3.ckpt"
    export.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(GPT, export)
    return ws.root


@pytest.mark.slow
async def test_model_choice_to_a_saved_wav(home: Path, pretrained: Path, tmp_path: Path) -> None:
    frontend_data_or_skip()
    ref = write_voice(tmp_path / "voice.wav", 4.0, seed=3)
    app = make_app(home, project="alice")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4")
        screen = app.screen
        assert isinstance(screen, InferenceScreen)
        gpt = screen.query_one("#gpt-select", Select)
        sovits = screen.query_one("#sovits-select", Select)
        await wait_until(pilot, lambda: gpt.value != Select.NULL and sovits.value != Select.NULL, what="weights")
        assert Path(str(gpt.value)).name == "alice-e3.ckpt"  # the project's export comes first
        assert Path(str(sovits.value)).name == "s2G2333k.pth"  # else the pretrained base model

        # nothing chosen yet: refused with the reasons, no job
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert "choose a reference clip" in str(screen.query_one("#form-problems").render())
        assert screen.job_id is None

        screen.query_one("#ref-path", Input).value = str(ref)
        screen.query_one("#ref-path", Input).focus()
        await pilot.press("enter")
        await wait_until(pilot, lambda: "4.0 s ✓" in screen_text(app), what="reference note")
        screen.query_one("#ref-text", Input).value = "A short sentence for the voice."
        screen.query_one("#target-text", TextArea).text = "Hello there.\nThis is a take."
        screen.query_one("#cut", Select).value = "cut5"
        screen.query_one("#num-seed", Input).value = "7"
        screen.query_one("#num-max_s", Input).value = "0.6"
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: screen.job_id is not None, what="job submitted")
        await wait_until(pilot, lambda: "done:" in screen_text(app) or "failed" in screen_text(app),
                         timeout=240, what="the infer job")
        assert "done:" in screen_text(app), screen_text(app)
        takes = screen.query_one(TakeHistory).takes
        assert len(takes) == 1
        take = takes[0]
        assert take.seed == 7 and take.params["cut"] == "cut5" and take.params["max_tokens"] == 15
        assert take.params["precision"] == "auto"  # config.toml's default
        info = sf.info(take.wav)
        assert (info.samplerate, info.subtype) == (32000, "PCM_16")
        assert info.duration == pytest.approx(take.duration, abs=0.01)
        assert take.wav.parent == Workspace(home).open_project("alice").outputs_dir

        target = tmp_path / "keep" / "best take.wav"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: isinstance(app.screen, SaveAsScreen), what="save dialog")
        app.screen.query_one(Input).value = str(target)
        await pilot.press("enter")
        await wait_until(pilot, lambda: target.is_file(), what="saved copy")
        assert target.read_bytes() == take.wav.read_bytes()
        assert target.with_suffix(".json").is_file()


@pytest.mark.slow
async def test_reference_from_the_transcripts_screen_and_length_notes(home: Path, tmp_path: Path) -> None:
    clip = write_voice(tmp_path / "clips" / "long.wav", 12.0)
    app = make_app(home, project="alice")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4")
        screen = app.screen
        assert isinstance(screen, InferenceScreen)
        await pilot.press("2")  # elsewhere, a clip becomes the reference (what the Transcripts `r` key does)
        project = Workspace(home).open_project("alice")
        listed = project.root / "elsewhere.list"
        listed.write_text(f"{clip}|alice|EN|Said in the clip.\n", encoding="utf-8")
        app.application.set_reference(open_transcript(listed, project.root), 0)
        await pilot.press("4")
        assert app.screen is screen
        await wait_until(pilot, lambda: screen.query_one("#ref-path", Input).value == str(clip), what="reference")
        assert screen.query_one("#ref-text", Input).value == "Said in the clip."
        assert screen.query_one("#ref-lang", Select).value == "en"
        await wait_until(pilot, lambda: "over 10 s" in screen_text(app), what="length note")
        short = write_voice(tmp_path / "short.wav", 2.0)
        screen.use_reference(str(short), "Hi.", "zh")
        assert screen.query_one("#ref-lang", Select).value == "all_zh"
        await wait_until(pilot, lambda: "too short" in screen_text(app), what="short note")


def test_reference_note_words(tmp_path: Path) -> None:
    assert reference_note(str(write_voice(tmp_path / "ok.wav", 5.0))) == "5.0 s ✓"
    assert reference_note(str(tmp_path / "none.wav")) == "file not found"
