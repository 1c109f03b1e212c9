"""After a finished run the application layer offers three ways on, each a real ``train-gpt`` run
(tiny GPT, the formatted fixture clips, CPU): more epochs on the same run, start over (the old run's
checkpoints and exports are kept in ``old-<time>/``), and a new run from one of the project's own
exports — the old ones included — as its base model."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

pytest.importorskip("torch")

from backend.app import Application  # noqa: E402
from backend.app import training as requests  # noqa: E402
from backend.app.training import TrainSettings  # noqa: E402
from backend.errors import GsvError  # noqa: E402
from backend.progress import Reporter  # noqa: E402
from backend.workspace import Workspace  # noqa: E402

FIX = Path(__file__).parent / "fixtures"
BASE = FIX / "gpt_v2_tiny" / "gpt_v2_tiny.ckpt"
S1_NAME = "gsv-v2final-pretrained/s1bert25hz-5kh-longer-epoch=12-step=369668.ckpt"

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Application:
    pretrained = tmp_path / "pretrained"
    (pretrained / S1_NAME).parent.mkdir(parents=True)
    shutil.copy(BASE, pretrained / S1_NAME)  # the tiny GPT stands in for the official base model
    monkeypatch.setenv("GSV_PRETRAINED_DIR", str(pretrained))
    ws = Workspace(tmp_path / "home")
    p = ws.create_project("voice", language="zh", version="v2")
    p.exp_dir.mkdir(parents=True, exist_ok=True)
    for f in ("2-name2text.txt", "6-name2semantic.tsv"):
        shutil.copy(FIX / "format" / "exp" / f, p.exp_dir / f)
    shutil.copytree(FIX / "format" / "exp" / "3-bert", p.exp_dir / "3-bert")
    application = Application(workspace=ws)
    application.open_project("voice")
    return application


def _run(plan: requests.TrainPlan) -> list[dict]:
    """Run the plan's one job in this process, as the job runner would (small batches for 2 clips)."""
    from backend.stages import train_gpt

    [job] = plan.jobs
    params = dataclasses.replace(job.params, batch_size=2, repeat_to=20, metric_interval=0.0)
    assert not params.problems()
    report, events = Reporter.collect()
    train_gpt.run(params, report)
    return events


def test_more_epochs_start_over_and_continue_from_an_old_export(app: Application) -> None:
    settings = TrainSettings(gpt_epochs=1, gpt_save_every=1, gpus=[])
    assert requests.finished_run(app, "train-gpt") is None  # nothing trained yet
    _run(requests.train_requests(app, "gpt", settings))
    run = requests.finished_run(app, "train-gpt")
    assert run is not None and run.epoch == 1 and run.suggested_epochs == 2
    weights = run.weights_dir

    # more epochs: the same run goes on from its checkpoint
    with pytest.raises(GsvError, match="already reached epoch 1"):
        requests.more_epochs_request(app, run, 1, settings)
    events = _run(requests.more_epochs_request(app, run, 2, settings))
    assert any("continuing the run" in e.get("text", "") for e in events)
    assert sorted(f.name for f in weights.glob("*.ckpt")) == ["voice-e1.ckpt", "voice-e2.ckpt"]
    e2 = (weights / "voice-e2.ckpt").read_bytes()
    assert requests.finished_run(app, "train-gpt").epoch == 2  # type: ignore[union-attr]

    # start over: the old run's exports are kept, out of the way, and offered as bases
    plan = requests.start_over_request(app, "train-gpt", settings)
    assert plan.jobs[0].params.restart
    _run(plan)
    [old] = [d for d in weights.iterdir() if d.is_dir() and d.name.startswith("old-")]
    assert (old / "voice-e2.ckpt").read_bytes() == e2
    assert sorted(f.name for f in weights.glob("*.ckpt")) == ["voice-e1.ckpt"]  # the new run's
    bases = requests.base_exports(app, "train-gpt")
    assert [(b.path.name, b.old) for b in bases] == [("voice-e1.ckpt", False), ("voice-e2.ckpt", True),
                                                     ("voice-e1.ckpt", True)]
    assert bases[1].label == f"{old.name}/voice-e2.ckpt (epoch 2)"

    # continue from an export: a new run whose base model is the old run's epoch 2
    plan = requests.start_over_request(app, "train-gpt", settings, base=bases[1].path)
    assert plan.jobs[0].params.s1_path == old / "voice-e2.ckpt"
    _run(plan)
    olds = sorted(d.name for d in weights.iterdir() if d.is_dir() and d.name.startswith("old-"))
    assert len(olds) == 2  # the run before it was set aside too
    import torch

    export = torch.load(weights / "voice-e1.ckpt", map_location="cpu", weights_only=True)
    assert Path(export["config"]["pretrained_s1"]).name == "voice-e2.ckpt"  # the base it started from
    assert Path(export["config"]["pretrained_s1"]).parent.name == old.name
