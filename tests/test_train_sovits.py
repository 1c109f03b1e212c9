"""SoVITS fine-tuning on a tiny model and a tiny formatted dataset (CPU): data, loss going down,
exports in the official format, resume after SIGKILL of a real job, DDP with 2 processes, cancel.

Tests run with one torch thread per process (they run two at a time on two cores); the
segment is 16 frames instead of 32 to halve the decoder and discriminator work.
"""

from __future__ import annotations

import json
import os
import signal
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from jobs_helpers import gsv, poll
from sovits_train_helpers import BASE_G, FIX, make_exp, make_tiny_d

from backend.jobs import procs
from backend.jobs.manager import JobError, JobManager
from backend.models import load_sovits
from backend.models.sovits.weights import read_sovits
from backend.progress import Reporter, read_events
from backend.train.common import CheckpointStore, RunFinishedError, load_checkpoint_file
from backend.train.data import ExpFolder
from backend.train.distributed import run_training
from backend.train.sovits import SoVITSTrainSettings, prepare
from backend.train.sovits_data import BucketSampler, SoVITSDataset, collate
from backend.workspace import Workspace

SEG = 640 * 16


@pytest.fixture(scope="module")
def tiny_d(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_d(tmp_path_factory.mktemp("tiny_d") / "s2D_tiny.pth")


def _settings(tmp: Path, d: Path, **kw) -> SoVITSTrainSettings:
    base = dict(exp_dir=str(make_exp(tmp / "exp")), weights_dir=str(tmp / "weights"), exp_name="tiny",
                version="v2", pretrained_s2G=str(BASE_G), pretrained_s2D=str(d), batch_size=2, metric_interval_s=0.0,
                segment_size=SEG, repeat_to=0, save_every=1)
    base.update(kw)
    return SoVITSTrainSettings(**base)


# --- data ---------------------------------------------------------------------------------
@pytest.mark.slow
def test_dataset_and_collate_reproduce_the_official_batch(tmp_path: Path) -> None:
    ds = SoVITSDataset(ExpFolder(make_exp(tmp_path / "exp"), "v2"), repeat_to=0)
    assert ds.unique_keys == ["en_fox_44k_stereo.wav", "zh_gongyuan_16k_mono.wav"]
    batch = collate([ds[0], ds[1]])
    with np.load(FIX / "sovits_train_forward" / "batch.npz") as ref:
        for k in ("ssl_lengths", "spec_lengths", "wav_lengths", "text_lengths", "text"):
            assert batch[k].tolist() == ref[k].tolist(), k
        np.testing.assert_allclose(batch["ssl"].numpy(), ref["ssl"], atol=1e-6)
        np.testing.assert_allclose(batch["wav"].numpy(), ref["wav"], atol=1e-7)
        np.testing.assert_allclose(batch["spec"].numpy(), ref["spec"], atol=1e-4, rtol=1e-5)
    assert len(SoVITSDataset(ExpFolder(tmp_path / "exp", "v2")).keys) == 100  # small sets repeated (official)


def test_bucket_sampler_pads_buckets_and_splits_ranks() -> None:
    lengths = [20, 100, 120, 150, 310, 350, 2500]  # 20 and 2500 are outside the boundaries
    ranks = [BucketSampler(lengths, 2, world_size=2, rank=r) for r in (0, 1)]
    for s in ranks:
        s.set_epoch(3)
    b0, b1 = list(ranks[0]), list(ranks[1])
    assert len(b0) == len(b1) == len(ranks[0]) == 2  # bucket (32,300]: 3 items → 4; (300,400]: 2 → 4
    seen = {i for b in b0 + b1 for i in b}
    assert seen == {1, 2, 3, 4, 5}
    for b in b0 + b1:  # a batch never mixes buckets
        assert len({lengths[i] > 300 for i in b}) == 1
    assert list(BucketSampler(lengths, 2, 2, 0)) != [] and b0 == list(ranks[0])  # same epoch, same order


# --- training in process ----------------------------------------------------------------------
@pytest.mark.slow
def test_training_reduces_the_loss_and_exports_official_weights(tmp_path: Path, tiny_d: Path, one_thread) -> None:
    s = _settings(tmp_path, tiny_d, epochs=3, save_every=2, repeat_to=4, learning_rate=1e-3)
    s, plan = prepare(s)
    assert not plan.resuming
    report, events = Reporter.collect()
    run_training("backend.train.sovits:train_worker", s.to_json(), report, nprocs=1, force_cpu=True)
    ends = [e["values"] for e in events if e["kind"] == "metric" and e["values"].get("epoch_end")]
    assert [e["epoch"] for e in ends] == [1, 2, 3]
    warnings = [e["text"] for e in events if e["kind"] == "message" and e["level"] == "warning"]
    assert any("posterior encoder" in w for w in warnings)  # the base is an export: enc_q starts fresh
    assert ends[-1]["loss/total"] < ends[0]["loss/total"]
    steps = [e for e in events if e["kind"] == "metric" and not e["values"].get("epoch_end")]
    assert [e["step"] for e in steps] == [1, 2, 3, 4, 5, 6]
    assert {"loss/mel", "loss/kl", "loss/fm", "loss/gen", "loss/disc", "lr", "samples_per_s", "eta_s",
            "grad_norm_g"} <= set(steps[0]["values"])
    # epoch 2 (the save interval) and epoch 3 (the last, not a multiple of 2) are both exported
    exports = sorted(p.name for p in Path(s.weights_dir).iterdir())
    assert exports == ["tiny_e2_s4.pth", "tiny_e3_s6.pth"]
    final = Path(s.weights_dir) / "tiny_e3_s6.pth"
    f = read_sovits(final)
    assert f.layout == "export" and f.version == "v2" and f.header == b"PK" and f.info == "3epoch_6iteration"
    assert not f.has_posterior and all(v.dtype == torch.float16 for v in f.weight.values())
    assert f.config["model"]["version"] == "v2" and f.config["train"]["segment_size"] == SEG
    assert f.config["data"]["filter_length"] == 2048 and f.config["name"] == "tiny"
    assert len(f.weight) == 529  # the official export of this tiny architecture (reference meta)
    import zipfile

    with zipfile.ZipFile(final) as z:  # pickle protocol 2, config pickled as the official utils.HParams
        pkl = z.read(next(n for n in z.namelist() if n.endswith("data.pkl")))
    assert pkl[:2] == b"\x80\x02" and b"utils\nHParams" in pkl
    model = load_sovits(final)  # our inference loader takes it
    ck = CheckpointStore(s.ckpt_dir).latest()
    trained = load_checkpoint_file(ck.path("G"))["model"]
    for k, v in model.state_dict().items():
        if k in trained and "weight_" not in k and "enc_q" not in k:
            assert torch.equal(v, trained[k].half().to(v.dtype)), k
    assert sorted(p.name for p in s.ckpt_dir.glob("*.pth")) == ["D_6.pth", "G_6.pth"]  # latest only
    assert ck.finished and (ck.epoch, ck.step) == (3, 6)
    # the finished run is not silently "resumed"; more epochs continue it
    with pytest.raises(RunFinishedError, match="already finished"):
        prepare(_settings(tmp_path, tiny_d, epochs=3))
    s4, plan4 = prepare(_settings(tmp_path, tiny_d, epochs=5, repeat_to=4))
    assert plan4.resuming and (plan4.start_epoch, plan4.start_step) == (4, 6)


# --- real jobs --------------------------------------------------------------------------------
@pytest.fixture()
def project(tmp_path: Path, tiny_d: Path, one_thread):
    ws = Workspace()
    p = ws.create_project("voice", language="en", version="v2")
    make_exp(p.exp_dir)
    jm = JobManager(ws.jobs_dir)
    yield p, jm
    for job in jm.list():
        if not job.is_finished and not job.is_corrupt:
            try:
                jm.cancel(job.id, grace=0.5)
            except JobError:
                pass


def _train_args(tiny_d: Path, *extra: str) -> list[str]:
    return ["train-sovits", "--project", "voice", "--gpus", "cpu", "--s2g", str(BASE_G), "--s2d", str(tiny_d),
            "--batch-size", "2", "--repeat-to", "0", "--metric-interval", "0", "--segment-size", str(SEG), *extra]


def _all_pids() -> list[int]:
    return [int(d) for d in os.listdir("/proc") if d.isdigit()]


def _ppid(pid: int) -> int | None:
    st = procs.proc_stat(pid)
    return st.ppid if st else None


def _events(jm: JobManager, job_id: str) -> list[dict]:
    return list(read_events(jm.events_path(job_id)))


@pytest.mark.slow
def test_resume_after_sigkill_continues_from_the_checkpoint(project, tiny_d: Path) -> None:
    p, jm = project
    r = gsv(*_train_args(tiny_d, "--epochs", "60", "--save-every", "1", "--detach"))
    assert r.returncode == 0, r.stderr
    job_id = r.stdout.strip()
    store = CheckpointStore(p.exp_dir / "logs_s2_v2")
    ck = poll(lambda: (c if (c := store.latest()) and c.epoch >= 2 else None), timeout=240, every=0.2,
              what="a second checkpoint")
    job = jm.get(job_id)
    os.killpg(job.pgid, signal.SIGKILL)  # a crash / kill -9: no cleanup code runs
    poll(lambda: jm.get(job_id).is_finished or (jm.reconcile() or jm.get(job_id).is_finished), timeout=30,
         what="the killed job to be noticed")
    assert jm.get(job_id).outcome != "succeeded"
    ck = store.latest()  # the newest complete checkpoint (a save may have finished before the kill)
    assert not ck.finished
    target = ck.epoch + 2
    r = gsv(*_train_args(tiny_d, "--epochs", str(target), "--save-every", "1"), timeout=300)
    assert r.returncode == 0, r.stderr
    resumed = [j for j in jm.list() if j.id != job_id][0]
    texts = [e["text"] for e in _events(jm, resumed.id) if e["kind"] == "message"]
    assert any(f"after epoch {ck.epoch} (step {ck.step})" in t for t in texts), texts
    first_step = min(e["step"] for e in _events(jm, resumed.id) if e["kind"] == "metric")
    assert first_step == ck.step + 1  # same step count: nothing redone, nothing skipped
    end = store.latest()
    assert end.finished and (end.epoch, end.step) == (target, ck.step + 2)
    g = load_checkpoint_file(end.path("G"))
    adam_steps = {float(st["step"]) for st in g["optimizer"]["state"].values()}
    assert adam_steps == {float(end.step)}  # AdamW moments carried over from the checkpoint
    assert (p.sovits_weights_dir("v2") / f"voice_e{target}_s{end.step}.pth").is_file()
    # running the finished command again trains nothing and says so
    again = gsv(*_train_args(tiny_d, "--epochs", str(target)), timeout=120)
    assert again.returncode == 1
    last = jm.list()[-1] if jm.list()[-1].id not in (job_id, resumed.id) else \
        [j for j in jm.list() if j.id not in (job_id, resumed.id)][0]
    assert "already finished" in (last.reason or "") and last.outcome == "failed"


@pytest.mark.slow
def test_ddp_two_cpu_processes_train_and_export_once(project, tiny_d: Path) -> None:
    p, jm = project
    r = gsv(*_train_args(tiny_d, "--epochs", "2", "--save-every", "1", "--cpu-procs", "2", "--batch-size", "1"),
            timeout=300)
    assert r.returncode == 0, r.stderr
    job = jm.list()[-1]
    assert job.outcome == "succeeded"
    events = _events(jm, job.id)
    weights = [e["path"] for e in events if e["kind"] == "artifact" and e.get("role") == "weights"]
    assert [Path(w).name for w in weights] == ["voice_e1_s1.pth", "voice_e2_s2.pth"]  # rank 0 only
    assert sorted(x.name for x in p.sovits_weights_dir("v2").iterdir()) == ["voice_e1_s1.pth", "voice_e2_s2.pth"]
    assert any("2 processes" in e.get("text", "") for e in events if e["kind"] == "message")
    load_sovits(weights[-1])
    assert [e["step"] for e in events if e["kind"] == "metric" and not e["values"].get("epoch_end")] == [1, 2]


@pytest.mark.slow
def test_cancel_leaves_no_processes(project, tiny_d: Path) -> None:
    p, jm = project
    r = gsv(*_train_args(tiny_d, "--epochs", "100", "--cpu-procs", "2", "--batch-size", "1", "--detach"))
    job_id = r.stdout.strip()
    poll(lambda: any(e["kind"] == "metric" for e in _events(jm, job_id)), timeout=240, every=0.2,
         what="the first training step")
    job = jm.get(job_id)
    members = procs.group_members(job.pgid)  # the runner and torchrun; the ranks have sessions of their own
    ranks = [pid for pid in _all_pids() if _ppid(pid) in members and pid not in members]
    assert len(ranks) == 2, (members, ranks)
    everything = {pid: procs.start_time(pid) for pid in members + ranks}
    c = gsv("jobs", "cancel", job_id, "--grace", "5")
    assert c.returncode == 0, c.stderr
    assert procs.group_members(job.pgid) == []
    poll(lambda: not any(procs.is_alive(pid, st) for pid, st in everything.items()), timeout=10,
         what="every training process to exit")
    assert jm.get(job_id).outcome == "cancelled"
    assert json.loads(json.dumps(jm.get(job_id).gpus)) == []


@pytest.mark.slow
def test_v2pro_trains_with_speaker_embeddings_and_exports_with_its_header(tmp_path: Path, one_thread) -> None:
    from backend.models.sovits import SoVITS, SoVITSConfig
    from backend.models.sovits.weights import write_sovits

    torch.manual_seed(0)
    cfg = SoVITSConfig(version="v2Pro", inter_channels=16, hidden_channels=16, filter_channels=32, n_layers=1,
                       upsample_initial_channel=32, gin_channels=16, p_dropout=0.0)
    sd = SoVITS(cfg).state_dict()
    sd["quantizer.vq.layers.0._codebook.inited"].fill_(1)  # a trained codebook, as in any base model
    sd["quantizer.vq.layers.0._codebook.embed"].normal_()
    base = write_sovits(tmp_path / "s2Gv2Pro_tiny.pth", sd,
                        {"model": cfg.to_model_section()}, "v2Pro", 0, 0)
    d = make_tiny_d(tmp_path / "s2Dv2Pro_tiny.pth", version="v2Pro")
    exp = make_exp(tmp_path / "exp")
    (exp / "7-sv_cn").mkdir()
    for i, item in enumerate(("en_fox_44k_stereo.wav", "zh_gongyuan_16k_mono.wav")):
        torch.save(torch.randn(1, 20480, generator=torch.Generator().manual_seed(i)), exp / "7-sv_cn" / f"{item}.pt")
    s = SoVITSTrainSettings(exp_dir=str(exp), weights_dir=str(tmp_path / "w"), exp_name="pro", version="v2Pro",
                            pretrained_s2G=str(base), pretrained_s2D=str(d), batch_size=2, epochs=1,
                            metric_interval_s=0.0, segment_size=SEG, repeat_to=0)
    s, _ = prepare(s)
    report, events = Reporter.collect()
    run_training("backend.train.sovits:train_worker", s.to_json(), report, nprocs=1, force_cpu=True)
    out = tmp_path / "w" / "pro_e1_s1.pth"
    assert out.read_bytes()[:2] == b"05"
    f = read_sovits(out)
    assert f.version == "v2Pro" and "sv_emb.weight" in f.weight and len(f.weight) > 0
    g = load_checkpoint_file(CheckpointStore(s.ckpt_dir).latest().path("G"))
    assert not torch.equal(g["model"]["sv_emb.weight"], sd["sv_emb.weight"])  # the speaker path trained
    load_sovits(out)


@pytest.mark.slow
def test_an_official_runs_checkpoints_are_resumed_without_a_manifest(tmp_path: Path, tiny_d: Path, one_thread) -> None:
    s, _ = prepare(_settings(tmp_path, tiny_d, epochs=1))
    report, _events = Reporter.collect()
    run_training("backend.train.sovits:train_worker", s.to_json(), report, nprocs=1, force_cpu=True)
    (s.ckpt_dir / "gsv-train-state.json").unlink()  # as an official run leaves the folder
    for role in ("G", "D"):
        (s.ckpt_dir / f"{role}_1.pth").rename(s.ckpt_dir / f"{role}_233333333333.pth")
    s2, plan = prepare(_settings(tmp_path, tiny_d, epochs=2))
    assert plan.resuming and plan.checkpoint.files["G"] == "G_233333333333.pth"
    assert (plan.start_epoch, plan.start_step) == (2, 1)


def _fp16_steps(tmp_path: Path, tiny_d: Path, dev: torch.device, amp: bool) -> None:
    from backend.train.common import make_scaler
    from backend.train.sovits import build_discriminator, build_generator, make_optimizers, train_step

    s = _settings(tmp_path, tiny_d)
    ds = SoVITSDataset(ExpFolder(Path(s.exp_dir), "v2"), repeat_to=0)
    batch = {k: v.to(dev) for k, v in collate([ds[0], ds[1]]).items()}
    g, d = build_generator(BASE_G).to(dev), build_discriminator(tiny_d, "v2").to(dev)
    g.cfg = replace(g.cfg, segment_size=SEG // 640)  # frames, as train_worker sets it
    og, od = make_optimizers(g, d, s)
    before = next(g.dec.parameters()).detach().clone()
    scaler = make_scaler(dev, amp)
    for _step in range(12):  # the scaler starts at 2**16 and skips steps whose gradients overflow
        res = train_step(g, d, og, od, scaler, batch, segment_size=SEG, amp=amp)
        assert all(np.isfinite(v) for v in res.losses.values())
        if not torch.equal(before, next(g.dec.parameters()).detach()):
            break
    else:
        raise AssertionError(f"every step overflowed (scale now {scaler.get_scale()})")


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_fp16_step_on_the_gpu(tmp_path: Path, tiny_d: Path) -> None:
    from backend.train.common import precision_for

    dev = torch.device("cuda")
    _fp16_steps(tmp_path, tiny_d, dev, precision_for(dev, True))


@pytest.mark.slow
def test_fp16_autocast_step_on_cpu_as_a_gpu_stand_in(tmp_path: Path, tiny_d: Path, one_thread) -> None:
    """The mixed-precision step (fp16 autocast regions, the fp32 islands, GradScaler) run on the
    CPU because no GPU is available here; production enables it only on capable GPUs."""
    _fp16_steps(tmp_path, tiny_d, torch.device("cpu"), amp=True)


def test_a_base_model_of_another_version_is_refused_before_training(tmp_path: Path, tiny_d: Path) -> None:
    from backend.train.common import TrainError

    with pytest.raises(TrainError, match="is a SoVITS v2 model, but this run trains v2Pro") as e:
        prepare(_settings(tmp_path, tiny_d, version="v2Pro"))
    assert "--version v2" in e.value.fix
    with pytest.raises(TrainError, match="does not exist"):
        prepare(_settings(tmp_path, tmp_path / "missing_s2D.pth"))
