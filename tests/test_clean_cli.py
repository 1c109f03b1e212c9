"""``gsv clean`` and its neighbours without running a model: refusals before a job, the offline
error for a missing model, ``gsv models fetch --clean`` offline, and the slicer's default input."""

from __future__ import annotations

import json
from pathlib import Path

import soundfile as sf
from audio_synth import speechlike
from jobs_helpers import gsv, gsv_json


def test_unknown_model_and_no_step_fail_before_a_job(tmp_path: Path) -> None:
    wav = tmp_path / "a.wav"
    sf.write(wav, speechlike(1, 32000), 32000)
    r = gsv("clean", str(wav), "--out", str(tmp_path / "o"), "--separate", "nope")
    assert r.returncode == 2 and "unknown cleaning model 'nope'" in r.stderr and "mel-roformer-vocals" in r.stderr
    r = gsv("clean", str(wav), "--out", str(tmp_path / "o"), "--denoise", "vr-deecho-dereverb")
    assert r.returncode == 2 and "is a dereverb model, not a denoise model" in r.stderr
    r = gsv("clean", str(wav), "--out", str(tmp_path / "o"), "--no-separate")
    assert r.returncode == 2 and "no step chosen" in r.stderr
    assert gsv_json("jobs", "list", "--json") == []


def test_a_missing_model_offline_is_a_named_error_with_the_command(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("GSV_CLEAN_MODELS_DIR", str(tmp_path / "models"))
    wav = tmp_path / "a.wav"
    sf.write(wav, speechlike(1, 32000), 32000)
    r = gsv("clean", str(wav), "--out", str(tmp_path / "o"), "--dereverb", "--now")
    assert r.returncode == 2, r.stderr
    assert "mel-roformer-vocals (MelBandRoformer.ckpt)" in r.stderr and "vr-deecho-dereverb" in r.stderr
    assert "gsv models fetch --clean mel-roformer-vocals vr-deecho-dereverb" in r.stderr
    assert "HF_HUB_OFFLINE" in r.stderr
    assert not (tmp_path / "o" / "a.wav").exists()
    r = gsv("models", "fetch", "--clean")
    assert r.returncode == 2 and "HF_HUB_OFFLINE" in r.stderr and "fix:" in r.stderr


def test_list_models_marks_defaults_and_own_models(tmp_path: Path, monkeypatch) -> None:
    models = tmp_path / "models"
    models.mkdir()
    (models / "mine.pth").write_bytes(b"x")
    (models / "models.json").write_text(json.dumps([{"name": "my-denoise", "step": "denoise", "arch": "vr",
                                                     "filename": "mine.pth", "keep": "No Noise",
                                                     "model_data": {"vr_model_param": "4band_v3"}}]))
    monkeypatch.setenv("GSV_CLEAN_MODELS_DIR", str(models))
    r = gsv("clean", "--list-models")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert any(line.strip().startswith("* mel-roformer-vocals") for line in lines)
    assert any("my-denoise" in line and "here" in line for line in lines)


def test_slicer_reads_clean_by_default_and_says_so(tmp_path: Path) -> None:
    import os

    from backend.workspace import Workspace

    assert gsv("project", "create", "alice", "--language", "en").returncode == 0
    project = Workspace(os.environ["GSV_HOME"]).open_project("alice")
    project.raw_dir.mkdir(parents=True, exist_ok=True)
    sf.write(project.raw_dir / "take.wav", speechlike(6, 32000, seed=1), 32000)

    r = gsv("slice", "--project", "alice", "--now", timeout=120)
    assert r.returncode == 0, r.stderr
    assert "slicing the recordings in" in r.stderr and str(project.raw_dir) in r.stderr
    assert any(p.name.startswith("take.wav_") for p in project.clips_dir.iterdir())

    clean = project.root / "clean"
    clean.mkdir()
    sf.write(clean / "take.wav", speechlike(6, 44100, seed=2), 44100)
    r = gsv("slice", "--project", "alice", "--replace", "--now", timeout=120)
    assert r.returncode == 0, r.stderr
    assert "slicing the cleaned recordings in" in r.stderr and str(clean) in r.stderr
    summary = json.loads((project.root / "clips.slice.json").read_text())
    assert str(clean / "take.wav") in json.dumps(summary, ensure_ascii=False)


def test_a_release_asset_model_is_fetched_over_http(tmp_path: Path, monkeypatch) -> None:
    """Models published only as release assets come over plain HTTP, through the same resumable
    download as the text data (tests/test_download.py resumes one). The loopback server standing in
    for the release host ignores ``Range``, so the cut attempt's part file is started over, not
    appended to."""
    from hub_helpers import serving_folder

    from backend.clean.catalogue import Source
    from backend.clean.fetch import _download

    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    served = tmp_path / "served"
    served.mkdir()
    (served / "UVR-DeNoise.pth").write_bytes(b"weights" * 50_000)
    models = tmp_path / "models"
    models.mkdir()
    (models / "UVR-DeNoise.pth.part").write_bytes(b"weights" * 1000)  # an earlier, cut attempt
    seen: list[tuple[str, int, int | None]] = []
    with serving_folder(served) as server:
        got = _download(Source("UVR-DeNoise.pth", url=f"{server.url}/UVR-DeNoise.pth"), models,
                        lambda *a: seen.append(a))
    assert got == models / "UVR-DeNoise.pth" and got.read_bytes() == b"weights" * 50_000
    assert not (models / "UVR-DeNoise.pth.part").exists() and seen[-1][1:] == (350_000, 350_000)
