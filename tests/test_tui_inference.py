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
from textual.widgets import Input, ProgressBar, Select, TextArea  # noqa: E402
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
        bar = screen.query_one("#infer-progress", ProgressBar)
        assert bar.total is not None  # idle: at rest (a bar without a total pulses as if busy)

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
        screen.query_one("#num-repetition_penalty", Input).value = "1.2"
        aux = write_voice(tmp_path / "more of the voice.wav", 3.5, seed=5)
        screen.query_one("#aux-refs", Input).value = f"{aux}; "
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
        assert take.params["repetition_penalty"] == 1.2
        assert take.params["refs"] == [str(ref), str(aux)]  # the second clip joins for the timbre
        assert bar.total is not None and bar.progress == bar.total
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


async def test_a_take_fills_the_form_and_the_lists_show_the_weights_used(home: Path, tmp_path: Path) -> None:
    """ctrl+g loads a take into the form without starting it, and its weights become the lists'
    choice (shown by name); a path typed beside a list joins it. What the lists show is what a
    synthesis gets: no second, hidden source."""
    from backend.app.inference import takes

    project = Workspace(home).open_project("alice")
    gpt_dir = project.gpt_weights_dir("v2")
    elsewhere = tmp_path / "other models" / "borrowed-e9.ckpt"
    elsewhere.parent.mkdir()
    shutil.copy(GPT, elsewhere)
    ref = write_voice(tmp_path / "voice.wav", 4.0, seed=3)
    # a take made earlier with the borrowed GPT (the record ``gsv infer`` writes beside its wav)
    outputs = project.outputs_dir
    outputs.mkdir(parents=True, exist_ok=True)
    write_voice(outputs / "take-1.wav", 1.0)
    import json

    (outputs / "take-1.json").write_text(json.dumps({
        "params": {"text": "Spoken before.", "lang": "en", "refs": [str(ref)], "ref_text": "Said.", "ref_lang": "en",
                   "gpt": str(elsewhere), "sovits": None, "seed": 11, "top_k": 5, "cut": "cut0"},
        "seed": 11, "duration": 1.0, "created": "2026-12-07T10:00:00"}), encoding="utf-8")
    app = make_app(home, project="alice")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4")
        screen = app.screen
        assert isinstance(screen, InferenceScreen)
        gpt = screen.query_one("#gpt-select", Select)
        await wait_until(pilot, lambda: gpt.value == str(gpt_dir / "alice-e3.ckpt"), what="the export chosen")
        assert len(takes(app.application)) == 1
        await pilot.press("ctrl+t")
        await pilot.press("ctrl+g")
        await pilot.pause(0.3)
        assert gpt.value == str(elsewhere)  # the take's GPT is now the list's choice
        assert "borrowed-e9.ckpt" in screen_text(app)  # by name, in full, at 80 columns
        assert screen.query_one("#target-text", TextArea).text == "Spoken before."
        assert screen.query_one("#num-seed", Input).value == "11"
        assert screen.job_id is None and not app.application.jobs.list()  # filled, not started
        assert "loaded" in screen_text(app)
        settings, _ = screen.form.settings()
        assert settings.gpt == str(elsewhere)
        # the person goes back to the project's export: that is what a synthesis would use
        gpt.value = str(gpt_dir / "alice-e3.ckpt")
        assert screen.form.settings()[0].gpt == str(gpt_dir / "alice-e3.ckpt")
        # a typed path joins the list and is chosen; a wrong one is named and not taken
        field = screen.query_one("#gpt-path", Input)
        field.value = str(tmp_path / "nope.ckpt")
        field.focus()
        await pilot.press("enter")
        assert "does not exist" in str(screen.query_one("#form-problems").render())
        assert gpt.value == str(gpt_dir / "alice-e3.ckpt")
        field.value = str(elsewhere)
        await pilot.press("enter")
        assert gpt.value == str(elsewhere) and field.value == ""
