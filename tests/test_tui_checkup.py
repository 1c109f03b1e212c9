"""The checkup on the Training screen and the verify switch on the Inference screen, in the real
app driven by Pilot: a report written by the real ``gsv checkup`` job on the tiny project of
tests/test_checkup_stage.py is shown best first, its pair goes to Inference, its takes play
through a real subprocess player; a training plan queues a checkup behind it (the switch beside
the table turns that off, in project.toml); "verify" reaches the ``infer`` job's parameters."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest

pytest.importorskip("torch")

from checkup_helpers import make_checkup_project, run_checkup  # noqa: E402
from infer_helpers import make_pretrained_dir, write_voice  # noqa: E402
from jobs_helpers import cancel_all
from textual.widgets import Checkbox, Input, Select, TextArea  # noqa: E402
from tui_helpers import SIZE, make_app, screen_text, wait_until  # noqa: E402

from backend.app import training as requests  # noqa: E402
from backend.jobs import JobManager  # noqa: E402
from backend.workspace import Workspace  # noqa: E402
from gsv_tui.screens.training import TrainingScreen  # noqa: E402
from gsv_tui.widgets.checkup_table import CheckupPanel, CheckupTable  # noqa: E402

RECORDER = """
import json, os, sys, time
with open(os.environ["REC_FILE"], "a") as f:
    f.write(json.dumps(sys.argv[1:]) + "\\n")
time.sleep(30)
"""


@pytest.fixture
def checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201 - CheckupProject
    """The tiny checkup project after a real ``gsv checkup`` job (2 sentences, CPU)."""
    from text_records import frontend_data_or_skip

    frontend_data_or_skip()
    cp = make_checkup_project(tmp_path)
    r = run_checkup(cp, limit=2)
    assert r.returncode == 0, f"{r.stdout}\n{r.stderr}"
    rec = tmp_path / "played.jsonl"
    (tmp_path / "recorder.py").write_text(RECORDER)
    monkeypatch.setenv("REC_FILE", str(rec))
    monkeypatch.setenv("GSV_PLAYER", f"{sys.executable} {tmp_path / 'recorder.py'} {{path}}")
    monkeypatch.setenv("GSV_PRETRAINED_DIR", str(cp.pretrained))
    yield cp, rec
    cancel_all(cp.home)


def _played(rec: Path, n: int) -> list[list[str]]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        lines = rec.read_text().splitlines() if rec.exists() else []
        if len(lines) >= n:
            return [json.loads(x) for x in lines]
        time.sleep(0.05)
    raise AssertionError(f"the player was started fewer than {n} times")


async def test_the_latest_checkup_is_a_table_whose_pair_goes_to_inference(checked) -> None:  # noqa: ANN001
    from backend.checkup import latest_report

    cp, rec = checked
    report = latest_report(Workspace(cp.home).open_project(cp.name))
    assert report is not None and report.best is not None
    app = make_app(cp.home, project=cp.name)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3")
        screen = app.screen
        assert isinstance(screen, TrainingScreen)
        table = screen.query_one(CheckupTable)
        await wait_until(pilot, lambda: table.row_count == 3, what="the checkup table")
        # the recommendation first, marked; every pair in the report's order; at 80×24, nothing
        # scrolled, beside the (idle) training monitor
        assert [r.label for r in table.view.rows] == [p.label for p, _ in report.rows()]
        first = table.view.rows[0]
        assert first.recommended and first.label == report.best.label
        assert [r.recommended for r in table.view.rows] == [True, False, False]
        text = screen_text(app)
        assert "No training job yet" in text and "Why ★: lowest problem score" in text
        assert f"★ {report.best.label}" in " ".join(text.split())
        assert "u: to Inference" in text and "t: play a take" in text
        # t plays the highlighted pair's takes one after the other (worst first), through the player
        await pilot.press("t")
        await pilot.pause(0.2)
        await pilot.press("t")
        played = _played(rec, 2)
        paths = {str(report.take_path(t)) for t in report.best.takes}
        assert {argv[-1] for argv in played} == paths and played[0] != played[1]
        assert f"{report.best.label} take 2/2" in str(screen.query_one("#checkup-take").render())
        # the cursor on another pair, u: Inference gets that pair's weights
        table.focus()
        await pilot.press("down")
        await pilot.press("u")
        await wait_until(pilot, lambda: app.screen.__class__.__name__ == "InferenceScreen", what="Inference")
        second = report.rows()[1][0]
        await wait_until(pilot, lambda: app.screen.query_one("#sovits-select", Select).value == second.sovits,
                         what="the SoVITS weights of the pair")
        assert app.screen.query_one("#gpt-select", Select).value == second.gpt
        # back, the recommended pair: ★ row first
        app.screen.query_one("#target-text", TextArea).text = "Typed before."
        await pilot.press("ctrl+t")
        await pilot.press("3")
        await wait_until(pilot, lambda: app.screen is screen, what="Training again")
        table.move_cursor(row=0)
        await pilot.press("u")
        await wait_until(pilot, lambda: app.screen.__class__.__name__ == "InferenceScreen", what="Inference")
        await wait_until(pilot, lambda: app.screen.query_one("#gpt-select", Select).value == report.best.gpt,
                         what="the recommended GPT")
        assert app.screen.query_one("#sovits-select", Select).value == report.best.sovits
        assert app.screen.query_one("#target-text", TextArea).text == "Typed before."


@pytest.fixture
def with_reference(tmp_path: Path) -> Iterator[Path]:
    ws = Workspace(tmp_path / "home")
    project = ws.create_project("eve", language="en", version="v2")
    clip = write_voice(project.clips_dir / "a.wav", 4.0)
    project.settings["reference"] = {"audio_path": str(clip), "text": "Hello there.", "language": "en"}
    project.save()
    yield ws.root
    cancel_all(ws.root)


def _sleep_plan(n: int) -> requests.TrainPlan:
    """Stand-ins for training jobs: the real job system's ``sleep`` stage, chained as "train both" is."""
    return requests.TrainPlan([requests.TrainJob("sleep", {"seconds": 60.0}, []) for _ in range(n)], chained=True)


async def test_a_training_plan_queues_a_checkup_the_screen_shows_and_the_switch_turns_off(with_reference: Path) -> None:
    jm = JobManager(Workspace(with_reference).jobs_dir)
    app = make_app(with_reference, project="eve")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3")
        screen = app.screen
        assert isinstance(screen, TrainingScreen)
        panel = screen.query_one(CheckupPanel)
        box = panel.query_one("#checkup-after", Checkbox)
        assert box.value  # on by default
        assert "No checkup yet" in screen_text(app)
        screen._submit_plan(_sleep_plan(2))  # what b does once the form's plan is built
        await wait_until(pilot, lambda: len(jm.list()) == 3, what="three jobs")
        jobs = jm.list()
        checkup = next(j for j in jobs if j.stage == "checkup")
        sleeps = [j for j in jobs if j.stage == "sleep"]
        last_sleep = next(j for j in sleeps if j.after is not None)  # the second waits for the first
        assert checkup.after == last_sleep.id and checkup.project == "eve" and checkup.gpus == []
        await wait_until(pilot, lambda: f"Checkup job {checkup.id} queued" in screen_text(app),
                         what="the queued checkup")
        # off: stored in project.toml; the next plan queues no checkup
        box.value = False
        await wait_until(pilot, lambda: Workspace(with_reference).open_project("eve").settings.get(
            "checkup_after_training") is False, what="the setting saved")
        screen._submit_plan(_sleep_plan(1))
        await wait_until(pilot, lambda: len(jm.list()) == 4, what="the fourth job")
        await pilot.pause(0.5)
        assert [j.stage for j in jm.list()].count("checkup") == 1


def test_submit_plan_chains_a_checkup_or_says_why_not(with_reference: Path) -> None:
    from backend.app import Application
    from backend.app import checkup as checkups

    app = Application.from_args(home=with_reference)
    app.open_project("eve")
    done = requests.submit_plan(app, _sleep_plan(1))
    assert done.checkup is not None and done.checkup.job is not None
    assert done.checkup.job.after == done.records[0].id and done.checkup.job.stage == "checkup"
    # no reference clip: training is still queued, the reason comes back
    app.project.settings.pop("reference")
    Path(app.project.root / "clips" / "a.wav").unlink()
    done = requests.submit_plan(app, _sleep_plan(1))
    assert len(done.records) == 1 and done.checkup is not None and done.checkup.job is None
    assert "no reference clip" in done.checkup.skipped and "Transcripts screen" in done.checkup.skipped
    checkups.set_after_training(app, False)
    assert Workspace(with_reference).open_project("eve").settings["checkup_after_training"] is False
    done = requests.submit_plan(app, _sleep_plan(1))
    assert done.checkup is not None and done.checkup.off and done.checkup.job is None


async def test_verify_on_the_inference_form_reaches_the_job(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from infer_helpers import GPT
    from text_records import frontend_data_or_skip

    frontend_data_or_skip()
    monkeypatch.setenv("GSV_PRETRAINED_DIR", str(make_pretrained_dir(tmp_path / "pretrained")))
    ws = Workspace(tmp_path / "home")
    project = ws.create_project("alice", language="en", version="v2")
    export = project.gpt_weights_dir("v2") / "alice-e3.ckpt"
    export.parent.mkdir(parents=True, exist_ok=True)
    export.write_bytes(Path(GPT).read_bytes())
    ref = write_voice(tmp_path / "voice.wav", 4.0, seed=3)
    app = make_app(ws.root, project="alice")
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("4")
            screen = app.screen
            form = screen.form
            await wait_until(pilot, lambda: form.query_one("#gpt-select", Select).value != Select.NULL,
                             what="weights")
            form.query_one("#ref-path", Input).value = str(ref)
            form.query_one("#ref-text", Input).value = "A short sentence for the voice."
            form.query_one("#target-text", TextArea).text = "Hello there."
            form.query_one("#num-max_s", Input).value = "0.6"
            form.query_one("#max-tries", Input).value = "25"  # out of range: refused with the reason
            form.query_one("#verify", Checkbox).value = True
            await pilot.press("ctrl+r")
            await pilot.pause()
            assert "tries (with verify) must be between 1 and 20" in str(form.query_one("#form-problems").render())
            assert screen.job_id is None
            form.query_one("#max-tries", Input).value = "2"
            await pilot.press("ctrl+r")
            await wait_until(pilot, lambda: screen.job_id is not None, what="job submitted")
            job = JobManager(ws.jobs_dir).get(screen.job_id)
            assert job.stage == "infer" and job.params["verify"] is True and job.params["max_tries"] == 2
    finally:
        cancel_all(ws.root)


async def test_k_without_a_reference_clip_is_refused_with_the_fix(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "home")
    ws.create_project("bob", language="en", version="v2")
    app = make_app(ws.root, project="bob")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3")
        await pilot.press("k")
        await wait_until(pilot, lambda: any("no reference clip" in str(n.message) for n in app._notifications),
                         what="the refusal")
        note = next(str(n.message) for n in app._notifications if "no reference clip" in str(n.message))
        assert "Transcripts screen" in note
    assert JobManager(ws.jobs_dir).list() == []
