"""``gsv train-gpt`` end to end on CPU: the tiny GPT (2 layers, 64 wide) and the two formatted fixture
clips (phones, BERT, semantic tokens) in a real project; a real subprocess killed with SIGKILL."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest
import torch

from backend.errors import GsvError
from backend.jobs.events import Reporter
from backend.workspace import Workspace
from jobs_helpers import REPO, gsv_argv, poll
from thread_helpers import torch_threads

FIX = Path(__file__).parent / "fixtures"
BASE = FIX / "gpt_v2_tiny" / "gpt_v2_tiny.ckpt"
# 2 clips repeated to 20 items, batches of 2: 10 batches (2 optimiser steps) per epoch
ARGS = ["--batch-size", "2", "--epochs", "3", "--save-every", "2", "--metric-interval", "0", "--repeat-to", "20"]


pytestmark = pytest.mark.usefixtures("one_thread")  # two threads make this tiny model ~40× slower here


def _project(home: Path, name: str = "voice"):
    ws = Workspace(home)
    p = ws.create_project(name, language="zh", version="v2")
    exp = p.exp_dir
    exp.mkdir(parents=True, exist_ok=True)
    for f in ("2-name2text.txt", "6-name2semantic.tsv"):
        shutil.copy(FIX / "format" / "exp" / f, exp / f)
    shutil.copytree(FIX / "format" / "exp" / "3-bert", exp / "3-bert")
    return ws, p


def _params(ws: Workspace, name: str, *extra: str):
    from backend.cli import build_parser
    from backend.stages import train_gpt

    args = build_parser().parse_args(["train-gpt", "--project", name, "--s1", str(BASE), *ARGS, *extra])
    args.job_gpus = []
    return train_gpt.params_from_args(args, ws)


def _run(ws: Workspace, name: str, *extra: str):
    from backend.stages import train_gpt

    params = _params(ws, name, *extra)
    report, events = Reporter.collect()
    train_gpt.run(params, report)
    return params, events


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """One uninterrupted 3-epoch run (shared by the tests that only read its results)."""
    home = tmp_path_factory.mktemp("gpt_run")
    ws, p = _project(home)
    with torch_threads(1):
        params, events = _run(ws, p.name)
    return ws, p, params, events


def test_a_few_cpu_steps_reduce_the_loss(finished_run):
    _ws, _p, _params_, events = finished_run
    ends = [e for e in events if e["kind"] == "metric" and e["values"].get("epoch_end")]
    means = [e["values"]["loss/total"] for e in ends]
    assert len(means) == 3
    assert means[-1] < means[1] < means[0], means
    steps = [e for e in events if e["kind"] == "metric" and "eta_s" in e["values"]]
    assert steps and all("lr" in e["values"] and "top_3_acc" in e["values"] for e in steps)


def test_exports_at_every_save_and_the_final_epoch_in_the_official_format(finished_run):
    from backend.models import load_gpt

    _ws, p, params, events = finished_run
    weights = sorted(x.name for x in params.weights_dir.iterdir())
    assert weights == ["voice-e2.ckpt", "voice-e3.ckpt"]  # every 2nd epoch, and always the last one
    arts = [e["path"] for e in events if e["kind"] == "artifact" and e.get("role") == "weights"]
    assert [Path(a).name for a in arts] == weights
    data = torch.load(params.weights_dir / "voice-e3.ckpt", map_location="cpu", weights_only=True)
    assert list(data) == ["weight", "config", "info"]
    assert data["info"] == "GPT-e3"
    base = torch.load(BASE, map_location="cpu", weights_only=True)
    assert list(data["weight"]) == list(base["weight"])
    assert all(v.dtype == torch.float16 for v in data["weight"].values())
    cfg = data["config"]
    assert {"train", "optimizer", "data", "model", "inference", "pretrained_s1", "train_semantic_path",
            "train_phoneme_path", "output_dir"} <= set(cfg)
    assert cfg["model"] == base["config"]["model"]
    assert cfg["data"]["max_sec"] == 54 and cfg["train"]["exp_name"] == "voice" and cfg["train"]["epochs"] == 3
    with open(params.weights_dir / "voice-e3.ckpt", "rb") as f:
        assert f.read(2) == b"PK"
    model = load_gpt(params.weights_dir / "voice-e3.ckpt")
    trained = {k: v for k, v in model.state_dict().items()}
    first = load_gpt(BASE).state_dict()
    assert any(not torch.equal(trained[k], first[k]) for k in trained)
    from backend.stages import train_gpt

    assert train_gpt.expected_outputs(params) == [params.weights_dir / "voice-e3.ckpt"]


def test_a_finished_run_is_not_resumed_into_nothing(finished_run):
    from backend.train.common import RunFinishedError

    ws, p, _params_, _events = finished_run
    with pytest.raises(RunFinishedError) as err:
        _run(ws, p.name)
    assert "--epochs" in err.value.fix


def test_resume_after_sigkill_continues_with_the_optimiser_state(tmp_path, finished_run):
    from backend.train.common import CheckpointStore

    ws, p = _project(tmp_path / "home")
    params = _params(ws, p.name, "--save-every", "1")
    store = CheckpointStore(params.exp_dir / "logs_s1_v2")
    argv = gsv_argv("--home", str(ws.root), "train-gpt", "--project", p.name, "--s1", str(BASE), *ARGS,
                    "--save-every", "1", "--now")
    proc = subprocess.Popen(argv, cwd=REPO, env={**os.environ, "OMP_NUM_THREADS": "1"}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True)
    try:
        poll(lambda: (ck := store.latest()) is not None and ck.epoch >= 1 or proc.poll() is not None,
             timeout=120, every=0.01, what="the first checkpoint")
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read().decode() if proc.stderr else ""
    ck = store.latest()
    assert ck is not None and not ck.finished and 1 <= ck.epoch < 3
    saved = torch.load(ck.path("GPT"), map_location="cpu", weights_only=True)
    assert saved["gsv"]["optimizer"]["state"] and saved["global_step"] == ck.step
    # what a kill in the middle of a save leaves: the temp files of the atomic writes
    leftovers = [store.folder / f".gpt-e{ck.epoch + 1}-s99.ckpt.k1ll.tmp",
                 Path(params.weights_dir) / f".{p.name}-e{ck.epoch + 1}.ckpt.k1ll.tmp"]
    for f in leftovers:
        f.write_bytes(b"half a checkpoint")

    _params2, events = _run(ws, p.name, "--save-every", "1")
    infos = " ".join(e.get("text", "") for e in events if e["kind"] == "message" and e["level"] == "info")
    assert f"after epoch {ck.epoch}" in infos
    assert not any(f.exists() for f in leftovers)
    end = store.latest()
    assert end is not None and end.finished and end.epoch == 3
    # same step count and the same weights as the run that was never interrupted
    _ws, _p, ref_params, _ = finished_run
    ref = CheckpointStore(ref_params.exp_dir / "logs_s1_v2").latest()
    assert end.step == ref.step
    got = torch.load(end.path("GPT"), map_location="cpu", weights_only=True)
    want = torch.load(ref.path("GPT"), map_location="cpu", weights_only=True)
    assert got["gsv"]["batches"] == want["gsv"]["batches"]
    for k, v in want["state_dict"].items():
        torch.testing.assert_close(got["state_dict"][k], v, rtol=0, atol=1e-5, msg=k)
    opt_got, opt_want = got["gsv"]["optimizer"]["state"], want["gsv"]["optimizer"]["state"]
    assert opt_got.keys() == opt_want.keys()
    for i in opt_want:
        assert opt_got[i]["step"] == opt_want[i]["step"]
        torch.testing.assert_close(opt_got[i]["exp_avg_sq"], opt_want[i]["exp_avg_sq"], rtol=1e-4, atol=1e-6)


def test_bad_options_are_named_errors(tmp_path):
    ws, p = _project(tmp_path / "home")
    with pytest.raises(GsvError):
        _params(ws, p.name, "--epochs", "0")
    with pytest.raises(GsvError):
        _params(ws, p.name, "--batch-size", "0")


def test_dpo_warns_and_trains(tmp_path):
    ws, p = _project(tmp_path / "home")
    params, events = _run(ws, p.name, "--dpo", "--epochs", "1", "--save-every", "1")
    warns = " ".join(e.get("text", "") for e in events if e["kind"] == "message" and e["level"] == "warning")
    assert "clean" in warns and "12 GB" in warns
    steps = [e["values"] for e in events if e["kind"] == "metric" and "loss/dpo" in e["values"]]
    assert steps and all("loss/ce" in v for v in steps)
    assert (params.weights_dir / "voice-e1.ckpt").is_file()


def test_two_cpu_processes_under_torchrun_train_and_export_once(tmp_path, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    ws, p = _project(tmp_path / "home")
    params, events = _run(ws, p.name, "--cpu-procs", "2", "--epochs", "1", "--save-every", "1")
    assert sorted(x.name for x in params.weights_dir.iterdir()) == ["voice-e1.ckpt"]
    arts = [e for e in events if e["kind"] == "artifact" and e.get("role") == "weights"]
    assert len(arts) == 1
    infos = " ".join(e["text"] for e in events if e["kind"] == "message")
    assert "2 processes" in infos
    from backend.models import load_gpt

    load_gpt(params.weights_dir / "voice-e1.ckpt")


def test_too_few_batches_per_epoch_to_ever_step_is_refused(tmp_path):
    from backend.train.common import TrainError

    ws, p = _project(tmp_path / "home")
    with pytest.raises(TrainError) as err:  # 2 clips × 4 = 8 items, batches of 2: 4 batches, no optimiser step
        _run(ws, p.name, "--repeat-to", "8")
    assert "--batch-size" in err.value.fix


def test_restart_keeps_the_earlier_runs_exports(tmp_path):
    """--restart trains the same epochs again: the first run's exports move aside, never overwritten."""
    ws, p = _project(tmp_path / "ws")
    params, _ = _run(ws, p.name, "--epochs", "1")
    first = params.weights_dir / "voice-e1.ckpt"
    first_bytes = first.read_bytes()
    # the restart continues from the first run's own export as its base model
    _, events = _run(ws, p.name, "--epochs", "1", "--restart", "--s1", str(first))
    moved = [e for e in events if e.get("kind") == "message" and "exports were moved" in e.get("text", "")]
    assert len(moved) == 1
    old = [d for d in params.weights_dir.iterdir() if d.is_dir() and d.name.startswith("old-")]
    assert len(old) == 1 and str(old[0]) in moved[0]["text"]
    assert (old[0] / "voice-e1.ckpt").read_bytes() == first_bytes  # kept whole
    assert first.is_file() and first.read_bytes() != first_bytes  # the new run's own export
    assert (p.exp_dir / "logs_s1_v2" / old[0].name).is_dir()  # the checkpoints went to the same name


def test_checkpoints_are_in_the_official_layout_and_an_official_one_is_resumed(tmp_path, finished_run):
    """The official ``s1_train.py`` resumes from ``logs_s1_<ver>/ckpt/epoch=E-step=S.ckpt`` (Lightning's
    0-based epoch); ours are written there. A run whose only checkpoint is such a file — no manifest,
    no state of ours in it, as the official trainer leaves it — resumes from it."""
    from backend.train.common import MANIFEST, CheckpointStore

    _ws, _p, ref_params, _ = finished_run
    ref = CheckpointStore(ref_params.exp_dir / "logs_s1_v2").latest()
    assert ref is not None and ref.files["GPT"] == f"ckpt/epoch=2-step={ref.step}.ckpt"
    data = torch.load(ref.path("GPT"), map_location="cpu", weights_only=True)
    assert data["epoch"] == 2 and data["global_step"] == ref.step and data["pytorch-lightning_version"]
    assert data["loops"]["fit_loop"]["epoch_progress"]["current"]["completed"] == 3
    assert data["optimizer_states"][0]["state"] and data["lr_schedulers"][0]["_current_step"] == ref.step

    ws, p = _project(tmp_path / "home")
    params, _ = _run(ws, p.name, "--epochs", "1")
    run_dir = params.exp_dir / "logs_s1_v2"
    [saved] = (run_dir / "ckpt").glob("epoch=0-step=*.ckpt")
    official = torch.load(saved, map_location="cpu", weights_only=True)
    step = official["global_step"]
    del official["gsv"]  # the official trainer's file: Lightning's keys only
    torch.save(official, saved)
    (run_dir / MANIFEST).unlink()

    _params2, events = _run(ws, p.name, "--epochs", "2")
    infos = " ".join(e.get("text", "") for e in events if e["kind"] == "message" and e["level"] == "info")
    assert f"resuming after epoch 1 of 2 (optimiser step {step})" in infos
    end = CheckpointStore(run_dir).latest()
    assert end is not None and end.finished and end.epoch == 2 and end.step == 2 * step
    assert end.files["GPT"] == f"ckpt/epoch=1-step={2 * step}.ckpt"
    assert sorted(x.name for x in params.weights_dir.iterdir()) == ["voice-e1.ckpt", "voice-e2.ckpt"]
