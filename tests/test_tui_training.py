"""The Training screen on a real ``train-gpt`` job (tiny GPT, the formatted fixture clips) run by the
real job system: live loss curve, epoch/step/ETA from the job's events, cancel, weights to Inference."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Iterator

import pytest
from tui_helpers import make_app, notices, screen_text, wait_until

from backend.jobs import JobManager
from backend.jobs.manager import JobError
from backend.workspace import Workspace
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
    jm = JobManager(ws.jobs_dir)
    for job in jm.list():
        if job.state != "finished" and not job.is_corrupt:
            try:
                jm.cancel(job.id, grace=1.0)
            except JobError:  # a chained job is cancelled with its predecessor meanwhile
                pass


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
    ws = Workspace(home)
    jm = JobManager(ws.jobs_dir)
    job = jm.submit("train-gpt", _gpt_params(ws, epochs=40), project="alice", gpus=[])
    app = make_app(home, project="alice")
    async with app.run_test(size=BIG) as pilot:
        await pilot.press("3")
        await pilot.pause()
        assert isinstance(app.screen, TrainingScreen)
        screen = app.screen
        await wait_until(pilot, lambda: screen.followed == job.id, what="the job to be followed")
        curve = screen.query_one(LossCurve)
        await wait_until(pilot, lambda: len(curve.values) >= 5, timeout=90, what="loss points from the job")
        first = len(curve.values)
        await wait_until(pilot, lambda: len(curve.values) > first, timeout=60, what="the curve to grow")
        text = screen_text(app)
        assert "ETA " in text and "ETA –" not in text
        assert "epoch " in text and "step " in text and f"job {job.id}" in text
        assert any(ch in text for ch in "▁▂▃▄▅▆▇█")
        assert "logged steps" in text
        # an export appears in the weights list after the first epoch
        weights = screen.query_one(WeightsList)
        await wait_until(pilot, lambda: weights.row_count >= 1, timeout=90, what="the first export listed")
        assert any(str(k.value).endswith("alice-e1.ckpt") for k in weights.rows)
        # cancel from the screen
        await pilot.press("c")
        await wait_until(pilot, lambda: jm.get(job.id).state == "finished", timeout=60, what="the cancel")
        assert jm.get(job.id).outcome == "cancelled"
        # send the exported GPT to Inference
        await pilot.press("i")
        await wait_until(pilot, lambda: app.screen.__class__.__name__ == "InferenceScreen", what="Inference")
        from textual.widgets import Input

        assert app.screen.query_one("#gpt-path", Input).value.endswith(".ckpt")


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
        screen.action_train("both")
        await wait_until(pilot, lambda: len(jm.list()) == 2, what="two jobs")
        jobs = {j.stage: j for j in jm.list()}
        assert jobs["train-gpt"].after == jobs["train-sovits"].id
        assert jobs["train-gpt"].params["epochs"] == 2 and jobs["train-sovits"].params["epochs"] == 8
        assert screen.followed == jobs["train-sovits"].id
        assert isinstance(screen.query_one(TrainMonitor), TrainMonitor)


@pytest.mark.slow
async def test_missing_base_models_are_named_and_f_fetches_them_as_a_job(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The base-models line counts what the version lacks; ``f`` runs ``fetch-models`` (a real job
    downloading from a local stand-in of the hub) and the line then says they are all here."""
    from hub_helpers import fake_hub
    from text_records import frontend_data_or_skip

    from backend.pretrained import files_for
    from gsv_tui.widgets.base_models import BaseModels

    frontend_data_or_skip()  # the text data is already there: the fetch takes only the models
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
