"""Shared training infrastructure: checkpoint store, resume decisions, progress events, DDP launch."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch

from backend.progress import Reporter
from backend.train.common import (
    CheckpointError,
    CheckpointStore,
    RunFinishedError,
    TrainProgress,
    newest_by_digits,
    plan_resume,
    save_epochs,
)
from backend.train.distributed import run_training

HERE = Path(__file__).parent


def test_store_save_latest_and_prune(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path / "ck")
    assert store.latest() is None
    for epoch, step in ((1, 5), (2, 10)):
        store.save(epoch, step, {"G": {"w": torch.full((3,), float(step))}, "D": {"iteration": epoch}},
                   {"G": f"G_{step}.pth", "D": f"D_{step}.pth"}, total_epochs=4)
    ck = store.latest()
    assert (ck.epoch, ck.step) == (2, 10) and ck.files == {"G": "G_10.pth", "D": "D_10.pth"}
    assert (tmp_path / "ck" / "G_5.pth").is_file()  # kept when not latest-only
    assert torch.equal(store.load(ck, "G")["w"], torch.full((3,), 10.0))
    store.save(3, 15, {"G": {"w": torch.zeros(1)}, "D": {}}, {"G": "G_15.pth", "D": "D_15.pth"},
               keep_latest_only=True)
    assert sorted(p.name for p in (tmp_path / "ck").glob("*.pth")) == ["D_15.pth", "G_15.pth"]


def test_store_survives_a_half_written_next_checkpoint(tmp_path: Path) -> None:
    """A kill after the new G file but before the manifest: the previous checkpoint is still named."""
    store = CheckpointStore(tmp_path)
    store.save(1, 4, {"G": {"a": 1}, "D": {"b": 2}}, {"G": "G_4.pth", "D": "D_4.pth"})
    (tmp_path / "G_8.pth").write_bytes(b"PK\x03\x04 partial")  # the next save died here
    ck = store.latest()
    assert ck.step == 4 and store.load(ck, "G") == {"a": 1}
    (tmp_path / ".D_8.pth.x1y2.tmp").write_bytes(b"half")
    assert [p.name for p in store.remove_temp_files()] == [".D_8.pth.x1y2.tmp"]
    (tmp_path / "D_4.pth").write_bytes(b"garbage")
    with pytest.raises(CheckpointError, match="damaged"):
        store.load(ck, "D")


def test_plan_resume_refuses_a_finished_run_and_offers_more_epochs(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path)
    plan = plan_resume(store, 8)
    assert not plan.resuming and plan.start_epoch == 1
    store.save(4, 40, {"G": {}}, {"G": "G_40.pth"}, total_epochs=8)
    plan = plan_resume(store, 8)
    assert plan.resuming and (plan.start_epoch, plan.start_step) == (5, 40)
    store.save(8, 80, {"G": {}}, {"G": "G_80.pth"}, total_epochs=8)
    store.mark_finished(8)
    with pytest.raises(RunFinishedError) as e:
        plan_resume(store, 8, command_hint="gsv train-sovits --project p")
    assert "already finished" in e.value.message and "--epochs 12" in e.value.fix and "--restart" in e.value.fix
    more = plan_resume(store, 12)
    assert (more.start_epoch, more.start_step) == (9, 80)
    fresh = plan_resume(store, 8, restart=True)
    assert not fresh.resuming and fresh.moved_aside is not None
    assert (fresh.moved_aside / "G_80.pth").is_file() and store.latest() is None  # kept, not deleted


def test_save_epochs_always_include_the_last() -> None:
    assert save_epochs(8, 4) == {4, 8}
    assert save_epochs(10, 4) == {4, 8, 10}
    assert save_epochs(3, 4) == {3}


def test_newest_by_digits_matches_the_official_choice() -> None:
    assert newest_by_digits([Path("G_900.pth"), Path("G_1200.pth"), Path("G_233333333333.pth")]).name == \
        "G_233333333333.pth"
    assert newest_by_digits([]) is None


def test_progress_events() -> None:
    report, events = Reporter.collect()
    prog = TrainProgress(report, total_epochs=2, steps_per_epoch=3, min_interval=0.0)
    prog.start()
    for s in range(1, 4):
        prog.step(s, 1, {"total": 3.0 - s, "mel": 1.0}, lr=1e-4, samples=2)
    means = prog.epoch_end(1, 3)
    assert means == {"total": 1.0, "mel": 1.0}
    metrics = [e for e in events if e["kind"] == "metric"]
    assert [m["step"] for m in metrics] == [1, 2, 3, 3]
    v = metrics[0]["values"]
    assert {"epoch", "lr", "samples_per_s", "eta_s", "loss/total", "loss/mel"} <= set(v)
    assert metrics[-1]["values"]["epoch_end"] == 1
    prog_ev = [e for e in events if e["kind"] == "progress"]
    assert prog_ev[0]["total"] == 6 and prog_ev[-1]["done"] == 3 and prog_ev[-1]["unit"] == "steps"


# --- DDP launch --------------------------------------------------------------------------
def toy_worker(params: dict, report: Reporter, dist) -> None:
    """Two ranks train a linear layer on different data; DDP keeps their weights equal."""
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 1)
    ddp = dist.wrap(model)
    opt = torch.optim.SGD(ddp.parameters(), lr=0.1)
    g = torch.Generator().manual_seed(100 + dist.rank)
    for step in range(1, params["steps"] + 1):
        x = torch.randn(8, 4, generator=g)
        loss = (ddp(x) - x.sum(1, keepdim=True)).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        report.metric(step=step, **dist.all_mean({"loss/total": float(loss.detach())}))
    out = Path(params["out"])
    (out / f"rank{dist.rank}.json").write_text(json.dumps([float(p.detach().sum()) for p in model.parameters()]))
    if params.get("fail_rank") == dist.rank:
        raise RuntimeError("CUDA out of memory. Tried to allocate 1 GiB (toy)")
    if dist.is_main:
        report.artifact(out / "rank0.json", role="weights")
    dist.barrier()


@pytest.fixture()
def worker_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", str(HERE) + os.pathsep + os.environ.get("PYTHONPATH", ""))


@pytest.mark.slow
def test_ddp_two_cpu_processes_average_gradients_and_report_the_first_failure(tmp_path: Path, worker_env: None) -> None:
    """One torchrun launch (they are slow to start): 2 gloo ranks train in step, rank 0's events
    reach the parent, and rank 1's error (a CUDA OOM text) is raised in the parent as the cause."""
    report, events = Reporter.collect()
    with pytest.raises(RuntimeError, match="CUDA out of memory"):
        run_training("test_train_common:toy_worker", {"steps": 3, "out": str(tmp_path), "fail_rank": 1},
                     report, nprocs=2, force_cpu=True)
    r0 = json.loads((tmp_path / "rank0.json").read_text())
    r1 = json.loads((tmp_path / "rank1.json").read_text())
    assert r0 == pytest.approx(r1, abs=1e-6)  # gradients were averaged across the two ranks
    assert [e["step"] for e in events if e["kind"] == "metric"] == [1, 2, 3]  # rank 0's events only


def test_single_process_runs_in_place(tmp_path: Path) -> None:
    report, events = Reporter.collect()
    run_training("test_train_common:toy_worker", {"steps": 2, "out": str(tmp_path)}, report, nprocs=1,
                 force_cpu=True)
    assert (tmp_path / "rank0.json").is_file() and len([e for e in events if e["kind"] == "metric"]) == 2


def test_restart_moves_the_old_runs_exports_with_its_checkpoints(tmp_path: Path) -> None:
    from backend.train.common import ExportFiles

    store = CheckpointStore(tmp_path / "logs_s2_v2")
    weights = tmp_path / "SoVITS_weights_v2"
    weights.mkdir()
    exports = {"voice_e2_s2.pth": b"run 1, epoch 2", "voice_e4_s4.pth": b"run 1, epoch 4"}
    for name, data in exports.items():
        (weights / name).write_bytes(data)
    (weights / "other_e2_s2.pth").write_bytes(b"another experiment")  # not this run's: stays
    store.save(4, 4, {"G": {}}, {"G": "G_4.pth"}, total_epochs=4, exports=[str(weights / n) for n in exports])
    plan = plan_resume(store, 4, restart=True, exports=ExportFiles.sovits(weights, "voice"))
    assert plan.moved_aside is not None and plan.exports_moved_to == weights / plan.moved_aside.name
    assert {p.name: p.read_bytes() for p in plan.exports_moved_to.iterdir()} == exports
    assert sorted(p.name for p in weights.iterdir() if p.is_file()) == ["other_e2_s2.pth"]
    notes = plan.restart_notes()
    assert str(plan.moved_aside) in notes[0] and str(plan.exports_moved_to) in notes[1]
    # a base model that was one of them ("continue from my own export") is found where it went
    assert plan.moved_path(weights / "voice_e4_s4.pth") == plan.exports_moved_to / "voice_e4_s4.pth"
    # exports without any checkpoint (logs deleted by hand) are kept as well
    (weights / "voice_e2_s2.pth").write_bytes(b"run 2")
    again = plan_resume(store, 4, restart=True, exports=ExportFiles.sovits(weights, "voice"))
    assert again.moved_aside is None and (again.exports_moved_to / "voice_e2_s2.pth").read_bytes() == b"run 2"
    assert again.exports_moved_to != plan.exports_moved_to
