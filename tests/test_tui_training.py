"""The Training screen on a real ``train-gpt`` job (tiny GPT, the formatted fixture clips) run by the
real job system: live loss curve, epoch/step/ETA from the job's events, cancel, weights to Inference."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Iterator

import pytest
from jobs_helpers import cancel_all
from tui_helpers import SIZE, make_app, notices, screen_text, wait_until

from backend.jobs import JobManager
from backend.workspace import Workspace
from gsv_tui.screens.confirm import ConfirmScreen
from gsv_tui.screens.training import TrainingScreen
from gsv_tui.train_events import TrainState, curve_rows, eta_text, status_line
from gsv_tui.widgets.loss_curve import LossCurve
from gsv_tui.widgets.train_monitor import TrainMonitor
from gsv_tui.widgets.weights_list import WeightsList

FIX = Path(__file__).parent / "fixtures"
BASE = FIX / "gpt_v2_tiny" / "gpt_v2_tiny.ckpt"
BIG = (120, 60)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # the training job's torch: one thread on a shared box
    ws = Workspace(tmp_path / "home")
    p = ws.create_project("alice", language="zh", version="v2")
    p.exp_dir.mkdir(parents=True, exist_ok=True)
    for f in ("2-name2text.txt", "6-name2semantic.tsv"):
        shutil.copy(FIX / "format" / "exp" / f, p.exp_dir / f)
    shutil.copytree(FIX / "format" / "exp" / "3-bert", p.exp_dir / "3-bert")
    yield ws.root
    cancel_all(ws.root)


def _gpt_params(ws: Workspace, epochs: int) -> dict:
    p = ws.open_project("alice")
    return {"exp_dir": str(p.exp_dir), "weights_dir": str(p.gpt_weights_dir("v2")), "exp_name": "alice",
            "version": "v2", "project": "alice", "batch_size": 2, "epochs": epochs, "save_every": 1,
            "s1_path": str(BASE), "metric_interval": 0.0, "repeat_to": 20}


def test_curve_and_status_text() -> None:
    rows = curve_rows([10.0, 8.0, 6.0, 4.0], 4, 2)
    assert rows == ["█▃  ", "██▆▁"]  # 16 levels: 16, 11, 6, 1
    st = TrainState(job_id="j1", stage="train-gpt")
    st.apply({"kind": "progress", "done": 3, "total": 30, "unit": "steps", "label": "epoch 1/3"})
    st.apply({"kind": "metric", "step": 3, "values": {"loss/total": 900.0, "eta_s": 75, "lr": 0.01,
                                                      "samples_per_s": 2.5, "gpu_mem_gb": 3.2,
                                                      "gpu_mem_total_gb": 24.0}})
    assert status_line(st) == ("train-gpt · epoch 1/3 · step 3/30 · ETA 1m15s · loss 900 · 2.5 samples/s · "
                               "GPU 3.2/24 GB")
    assert eta_text(3700) == "ETA 1h01m"


@pytest.mark.slow
async def test_a_running_training_job_shows_its_live_curve_and_eta(home: Path) -> None:
    """At 80×24 the running job's state is in view without scrolling; cancel asks first, and a
    cancelled job shows no ETA."""
    ws = Workspace(home)
    jm = JobManager(ws.jobs_dir)
    job = jm.submit("train-gpt", _gpt_params(ws, epochs=1000), project="alice", gpus=[])  # far more than the test lives: it is cancelled
    app = make_app(home, project="alice")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3")
        await pilot.pause()
        assert isinstance(app.screen, TrainingScreen)
        screen = app.screen
        await wait_until(pilot, lambda: screen.followed == job.id, what="the job to be followed")
        curve = screen.query_one(LossCurve)
        await wait_until(pilot, lambda: len(curve.values) >= 5, timeout=90, what="loss points from the job")
        first = len(curve.values)
        await wait_until(pilot, lambda: len(curve.values) > first, timeout=60, what="the curve to grow")
        text = screen_text(app)  # what the 80×24 terminal shows, nothing scrolled
        assert "ETA " in text and "ETA –" not in text
        assert "epoch " in text and "step " in text and f"job {job.id}" in text
        assert any(ch in text for ch in "▁▂▃▄▅▆▇█")
        assert "logged steps" in text
        # an export appears in the weights list after the first epoch
        weights = screen.query_one(WeightsList)
        await wait_until(pilot, lambda: weights.row_count >= 1, timeout=90, what="the first export listed")
        assert any(str(k.value).endswith("alice-e1.ckpt") for k in weights.rows)
        # cancel from the screen: it asks first; "no" leaves the job running
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the question")
        assert f"Cancel job {job.id}" in screen_text(app)
        await pilot.press("n")
        await pilot.pause(0.3)
        assert jm.get(job.id).state == "running"
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the question")
        await pilot.press("y")
        await wait_until(pilot, lambda: jm.get(job.id).state == "finished", timeout=60, what="the cancel")
        assert jm.get(job.id).outcome == "cancelled"
        await wait_until(pilot, lambda: "cancelled" in str(screen.query_one("#train-status").render()),
                         what="the cancelled state")
        assert "ETA" not in screen_text(app)
        # send the exported GPT to Inference: its list shows it, chosen; the text typed there stays
        from textual.widgets import Select, TextArea

        await pilot.press("4")
        await wait_until(pilot, lambda: app.screen.__class__.__name__ == "InferenceScreen", what="Inference")
        app.screen.query_one("#target-text", TextArea).text = "Typed before."
        await pilot.press("ctrl+t")  # out of the text field, so the mode key works
        await pilot.press("3")
        await wait_until(pilot, lambda: app.screen is screen, what="Training again")
        await pilot.press("i")
        await wait_until(pilot, lambda: app.screen.__class__.__name__ == "InferenceScreen", what="Inference")
        assert app.screen.query_one("#gpt-select", Select).value == weights.pair()["gpt"]
        assert app.screen.query_one("#target-text", TextArea).text == "Typed before."
        assert weights.pair()["gpt"].endswith(".ckpt")


@pytest.mark.slow
async def test_train_both_on_one_gpu_chains_gpt_after_sovits(home: Path) -> None:
    app = make_app(home, project="alice")
    ws = Workspace(home)
    jm = JobManager(ws.jobs_dir)
    async with app.run_test(size=BIG) as pilot:
        await pilot.press("3")
        await pilot.pause()
        screen = app.screen
        from textual.widgets import Input

        screen.query_one("#train-gpus", Input).value = "0"  # one GPU: GPT must wait for SoVITS
        screen.query_one("#gpt-epochs", Input).value = "2"
        screen.query_one("#sovits-text-lr", Input).value = "0.3"  # SoVITS's text learning-rate factor
        screen.action_train("both")
        await wait_until(pilot, lambda: len(jm.list()) == 2, what="two jobs")
        jobs = {j.stage: j for j in jm.list()}
        assert jobs["train-gpt"].after == jobs["train-sovits"].id
        assert jobs["train-gpt"].params["epochs"] == 2 and jobs["train-sovits"].params["epochs"] == 8
        assert jobs["train-sovits"].params["text_lr_weight"] == 0.3
        assert screen.followed == jobs["train-sovits"].id
        assert isinstance(screen.query_one(TrainMonitor), TrainMonitor)


@pytest.mark.slow
async def test_missing_base_models_are_named_and_f_fetches_them_as_a_job(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The base-models line counts what the version lacks; ``f`` runs ``fetch-models`` (a real job
    downloading from a local stand-in of the hub) and the line then says they are all here."""
    from hub_helpers import fake_hub
    from text_records import frontend_data_with_optional

    from backend.pretrained import files_for
    from gsv_tui.widgets.base_models import BaseModels

    # the text data is already there: the fetch takes only the models
    monkeypatch.setenv("GSV_FRONTEND_DATA", str(frontend_data_with_optional(tmp_path / "text-data")))
    ws = Workspace(tmp_path / "home")
    ws.create_project("bob", language="en", version="v1")
    models = tmp_path / "models"
    monkeypatch.setenv("GSV_PRETRAINED_DIR", str(models))
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    files = {f.path: f"{f.path} bytes".encode() * 100 for f in files_for("v1")}
    with fake_hub(files) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        app = make_app(ws.root, project="bob")
        async with app.run_test(size=BIG) as pilot:
            await pilot.press("3")
            line = app.screen.query_one(BaseModels)
            await wait_until(pilot, lambda: "9 of 9 files missing" in screen_text(app), what="the missing count")
            assert "f fetches them" in screen_text(app)
            await pilot.press("f")
            await wait_until(pilot, lambda: line.job_id is not None, what="the fetch job")
            await wait_until(pilot, lambda: "all 9 files here" in screen_text(app), timeout=120,
                             what="the download to finish")
            await pilot.press("f")  # nothing left to fetch: said, no second job
            await wait_until(pilot, lambda: any("are here already" in n.message for n in notices(app)),
                             what="the notice")
    assert all((models / path).read_bytes() == body for path, body in files.items())
    [job] = JobManager(ws.jobs_dir).list()
    assert (job.stage, job.outcome, job.project) == ("fetch-models", "succeeded", "bob")


async def test_a_finished_run_offers_more_epochs_start_over_or_an_export(home: Path, tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """``r`` (and ``g``) on a finished GPT run ask how to go on; each answer is a real job that
    trains: more epochs on the same run, a new run with the old one kept in ``old-<time>/``, and a
    new run from one of those old exports."""
    from textual.widgets import Button, Input, Select

    from gsv_tui.screens.run_choice import RunChoiceScreen

    s1 = tmp_path / "pretrained" / "gsv-v2final-pretrained" / "s1bert25hz-5kh-longer-epoch=12-step=369668.ckpt"
    s1.parent.mkdir(parents=True)
    shutil.copy(BASE, s1)  # the tiny GPT as the pretrained base the form's jobs start from
    monkeypatch.setenv("GSV_PRETRAINED_DIR", str(tmp_path / "pretrained"))
    ws = Workspace(home)
    jm = JobManager(ws.jobs_dir)
    first = jm.submit("train-gpt", _gpt_params(ws, epochs=1), project="alice", gpus=[])
    weights_dir = ws.open_project("alice").gpt_weights_dir("v2")
    app = make_app(home, project="alice")

    async def finished(pilot, job_id: str) -> None:  # noqa: ANN001
        await wait_until(pilot, lambda: jm.get(job_id).state == "finished", timeout=180, what=f"job {job_id}")
        assert jm.get(job_id).outcome == "succeeded", jm.get(job_id).reason
        await wait_until(pilot, lambda: (app.jobs_snapshot.get(job_id) or first).state == "finished"
                         and app.jobs_snapshot.get(job_id) is not None, what="the snapshot")

    async def ask(pilot, key: str = "r") -> RunChoiceScreen:  # noqa: ANN001
        await pilot.press(key)
        return await wait_until(pilot, lambda: app.screen if isinstance(app.screen, RunChoiceScreen) else None,
                                what="the question")

    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3")
        screen = app.screen
        await finished(pilot, first.id)
        await wait_until(pilot, lambda: screen.followed == first.id, what="the job followed")
        screen.query_one("#train-batch", Input).value = "2"
        screen.query_one("#gpt-epochs", Input).value = "1"

        # more epochs: the same run trains on to epoch 2
        dialog = await ask(pilot)
        assert "finished at epoch 1" in screen_text(app)
        assert dialog.query_one("#rerun-epochs", Input).value == "2"
        await pilot.press("enter")  # the focused "More epochs" button
        more = await wait_until(pilot, lambda: screen.followed if screen.followed != first.id else None,
                                what="the new job")
        assert (jm.get(more).params["epochs"], jm.get(more).params["restart"]) == (2, False)
        await finished(pilot, more)
        assert (weights_dir / "alice-e2.ckpt").is_file()

        # g with the form asking for no more epochs than done: the same question
        dialog = await ask(pilot, "g")
        dialog.query_one("#rerun-over", Button).press()  # start over
        over = await wait_until(pilot, lambda: screen.followed if screen.followed not in (first.id, more) else None,
                                what="the restart job")
        assert jm.get(over).params["restart"] is True
        assert any("old-<time>/" in n.message for n in app._notifications)
        await finished(pilot, over)
        [old] = [d for d in weights_dir.iterdir() if d.name.startswith("old-")]
        assert sorted(f.name for f in old.glob("*.ckpt")) == ["alice-e1.ckpt", "alice-e2.ckpt"]

        # continue from an export of the earlier run
        dialog = await ask(pilot)
        base = dialog.query_one("#rerun-base-select", Select)
        options = [str(v) for _, v in base._options if isinstance(v, str)]
        assert str(old / "alice-e2.ckpt") in options and str(weights_dir / "alice-e1.ckpt") in options
        base.value = str(old / "alice-e2.ckpt")
        dialog.query_one("#rerun-base", Button).press()
        from_base = await wait_until(
            pilot, lambda: screen.followed if screen.followed not in (first.id, more, over) else None, what="job")
        params = jm.get(from_base).params
        assert params["restart"] is True and params["s1_path"] == str(old / "alice-e2.ckpt")
        await finished(pilot, from_base)
