"""``gsv clean`` end to end with the real runner (audio-separator) on tiny models built here.

The models are a Mel-Band Roformer and a VR 5.1 network with random weights, written in the
runner's own file formats (see clean_helpers). The jobs are real tracked subprocesses; a proxy
that refuses every connection is set, so any attempt of the runner to reach the network fails
the test. `./setup.sh test` installs the runner (`gsv install-cleaner`'s list), so CI runs them;
where it is not installed they are skipped, and the chain itself is tested without it in
test_clean_chain.py.
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from jobs_helpers import gsv, gsv_json, poll

pytest.importorskip("audio_separator", reason="the optional cleaning runner is not installed")

from clean_helpers import build_tiny_models, write_tone


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("clean-models")
    build_tiny_models(d)
    return d


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch, tiny_models: Path) -> None:
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.setenv(var, "http://127.0.0.1:9")  # the discard port: nothing listens
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("GSV_CLEAN_MODELS_DIR", str(tiny_models))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")


def _events(job: dict) -> list[dict]:
    return [json.loads(line) for line in Path(job["events"]).read_text().splitlines()]


def test_clean_job_outputs_rates_lengths_order_and_a_corrupt_file(tmp_path: Path, tiny_models: Path) -> None:
    src = tmp_path / "recordings"
    src.mkdir()
    write_tone(src / "a.wav", 2.5, 32000, 1)
    write_tone(src / "b.flac", 1.2, 48000, 2, seed=2)
    (src / "broken.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEnot audio at all")
    before = {p.name: p.read_bytes() for p in src.iterdir()}
    assert gsv("project", "create", "alice", "--language", "en").returncode == 0

    r = gsv("clean", str(src), "--project", "alice", "--separate", "tiny-vocals", "--dereverb", "tiny-dereverb",
            "--chunk-seconds", "1.5", "--overlap-seconds", "0.25", "--gpus", "cpu", timeout=900)
    assert r.returncode == 0, r.stderr

    (job,) = gsv_json("jobs", "list", "--json")
    assert (job["stage"], job["outcome"], job["project"]) == ("clean", "succeeded", "alice")
    out = Path(job["params"]["out_dir"])
    assert out.name == "clean" and out.parent.name == "alice"
    assert sorted(p.name for p in out.iterdir()) == ["a.wav", "b.wav"]
    for name, seconds in (("a.wav", 2.5), ("b.wav", 1.2)):
        info = sf.info(out / name)
        assert (info.samplerate, info.channels) == (44100, 2)
        assert abs(info.frames - seconds * 44100) <= 1, (name, info.frames)
    assert {p.name: p.read_bytes() for p in src.iterdir()} == before  # originals untouched

    summary = json.loads((out.parent / "clean.clean.json").read_text())
    rows = {Path(f["input"]).name: f for f in summary["files"]}
    assert [c["model"] for c in summary["chain"]] == ["tiny-vocals", "tiny-dereverb"]
    assert rows["broken.wav"]["status"] == "failed" and "broken.wav" in rows["broken.wav"]["error"]
    assert rows["a.wav"]["status"] == "cleaned" and rows["a.wav"]["chunks"] == 2
    assert np.isfinite(rows["a.wav"]["rms_db_before"]) and np.isfinite(rows["a.wav"]["rms_db_after"])
    progress = [(e["done"], e["total"]) for e in _events(job) if e["kind"] == "progress" and e.get("unit") == "chunks"
                and e.get("label") == "a.wav"]
    assert progress == [(1, 2), (2, 2)]

    # The order: the job's output equals separate-then-dereverb run here, not the reverse.
    from backend.clean.catalogue import lookup
    from backend.clean.chain import Chunking, clean_file
    from backend.clean.fetch import local_models
    from backend.clean.runner import StepRunner

    own = local_models(tiny_models)
    sep = StepRunner(lookup("tiny-vocals", "separate", own), tiny_models, tmp_path / "w1", "cpu")
    der = StepRunner(lookup("tiny-dereverb", "dereverb", own), tiny_models, tmp_path / "w2", "cpu")
    chunking = Chunking(1.5, 0.25)
    clean_file(src / "b.flac", tmp_path / "fwd.wav", [sep, der], tmp_path / "w3", chunking=chunking)
    clean_file(src / "b.flac", tmp_path / "rev.wav", [der, sep], tmp_path / "w4", chunking=chunking)
    job_b, fwd, rev = (sf.read(p)[0] for p in (out / "b.wav", tmp_path / "fwd.wav", tmp_path / "rev.wav"))
    assert np.abs(job_b - fwd).max() <= 2 / 32768
    assert np.abs(job_b - rev).max() > 1e-3


def test_a_killed_batch_resumes_keeping_finished_files(tmp_path: Path) -> None:
    from backend.jobs.manager import JobManager
    from backend.stages.clean import Params
    from backend.workspace import Workspace

    src = tmp_path / "rec"
    src.mkdir()
    for k in range(4):
        write_tone(src / f"r{k}.wav", 2.0, 44100, 1, seed=k)
    out = tmp_path / "out"
    jm = JobManager(Workspace(os.environ["GSV_HOME"]).jobs_dir)
    params = Params(inputs=[src], out_dir=out, separate="tiny-vocals", chunk_seconds=1.0, overlap_seconds=0.2)
    job = jm.submit("clean", params)
    poll(lambda: (out / "r0.wav").exists(), timeout=600, every=0.2, what="the first cleaned file")
    rec = jm.get(job.id)
    os.killpg(rec.pgid, signal.SIGKILL)  # no chance to tidy up: like a crash or a lost machine
    final = jm.wait(job.id, timeout=60)
    assert final.outcome != "succeeded"
    finished = {p.name: p.stat().st_mtime_ns for p in out.glob("*.wav")}
    assert "r0.wav" in finished and len(finished) < 4

    again = jm.submit("clean", params)
    done = jm.wait(again.id, timeout=900)
    assert done.outcome == "succeeded", done.reason
    assert sorted(p.name for p in out.iterdir()) == [f"r{k}.wav" for k in range(4)]  # no partial files left
    assert all((out / n).stat().st_mtime_ns == t for n, t in finished.items())  # kept, not redone
    rows = json.loads((tmp_path / "out.clean.json").read_text())["files"]
    assert sorted(r["status"] for r in rows) == sorted(["kept"] * len(finished) + ["cleaned"] * (4 - len(finished)))


def test_preview_renders_an_excerpt_and_its_original(tmp_path: Path) -> None:
    from backend.app.clean import preview_params, project_params
    from backend.jobs.manager import JobManager
    from backend.workspace import Workspace

    ws = Workspace(os.environ["GSV_HOME"])
    project = ws.create_project("bob", language="en")
    project.raw_dir.mkdir(parents=True, exist_ok=True)
    write_tone(project.raw_dir / "long take.wav", 4.0, 48000, 2)
    params = preview_params(project, project_params(project, separate="tiny-vocals"), project.raw_dir / "long take.wav",
                            1.0, seconds=1.5)
    jm = JobManager(ws.jobs_dir)
    done = jm.wait(jm.submit("clean", params, project="bob").id, timeout=600)
    assert done.outcome == "succeeded", done.reason
    preview = project.root / "clean-preview"
    for name in ("long take.original.wav", "long take.cleaned.wav"):
        info = sf.info(preview / name)
        assert (info.samplerate, abs(info.frames - 1.5 * 44100) <= 1) == (44100, True)
    assert not (project.root / "clean").exists()  # a preview is not a cleaned recording


def test_replace_backs_up_the_earlier_output(tmp_path: Path) -> None:
    from backend.jobs.manager import JobManager
    from backend.stages.clean import Params
    from backend.workspace import Workspace

    src = tmp_path / "rec"
    src.mkdir()
    write_tone(src / "one.wav", 1.0, 44100, 1)
    out, backup = tmp_path / "out", tmp_path / "backup"
    out.mkdir()
    earlier = b"RIFF earlier output, whatever it was"
    (out / "one.wav").write_bytes(earlier)
    jm = JobManager(Workspace(os.environ["GSV_HOME"]).jobs_dir)
    params = Params(inputs=[src], out_dir=out, separate="tiny-vocals", replace=True, backup_dir=backup)
    done = jm.wait(jm.submit("clean", params).id, timeout=600)
    assert done.outcome == "succeeded", done.reason
    assert sf.info(out / "one.wav").samplerate == 44100
    (saved,) = backup.glob("*/one.wav")
    assert saved.read_bytes() == earlier
    (row,) = json.loads((tmp_path / "out.clean.json").read_text())["files"]
    assert row["status"] == "cleaned" and row["replaced_to"] == str(saved)


def test_the_multiband_vr_resamplers_load() -> None:
    # The catalogue's VR models are 4-band (the tiny one above is 1-band): the runner resamples
    # their bands through librosa with kaiser_fast (resampy) and sinc_fastest (samplerate, whose
    # 0.2 wheels carry libsamplerate: no system package).
    import librosa

    from backend.clean.catalogue import lookup
    from backend.clean.runner import _check_band_resampler

    x = np.sin(np.linspace(0, 200, 44100)).astype(np.float32)
    for res_type in ("kaiser_fast", "sinc_fastest"):
        y = librosa.resample(x, orig_sr=44100, target_sr=11025, res_type=res_type)
        assert abs(len(y) - 11025) <= 1 and np.isfinite(y).all(), res_type
    _check_band_resampler(lookup("vr-deecho-dereverb"))  # raises when libsamplerate cannot load
