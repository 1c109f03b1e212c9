"""``gsv infer`` as a person runs it: a real subprocess on the tiny models (``--now``), the
result record beside the wav, and the one-line named errors for bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import soundfile as sf
from infer_helpers import GPT, HUBERT, SOVITS, write_voice
from text_records import frontend_data_or_skip


def gsv(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, GSV_PRETRAINED_DIR=str(home / "no-pretrained"))
    return subprocess.run([sys.executable, "-m", "backend.cli", "--home", str(home), *args], capture_output=True,
                          text=True, env=env, timeout=600, cwd=Path(__file__).parents[1])


@pytest.mark.slow
def test_infer_now_writes_the_wav_and_its_record(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    frontend_data_or_skip()
    ref = write_voice(tmp_path / "long ref.wav", 12.0, seed=5)
    out = tmp_path / "out" / "take.wav"
    out.parent.mkdir()
    out.write_bytes(b"an earlier take")
    r = gsv("infer", "--now", "--gpt", str(GPT), "--sovits", str(SOVITS), "--hubert", str(HUBERT),
            "--ref", str(ref), "--trim-ref", "best", "--ref-text", "A short sentence.", "--ref-lang", "en",
            "--text", "Good morning. How are you today?", "--lang", "en", "--cut", "cut4", "--seed", "11",
            "--max-seconds", "0.5", "--out", str(out), home=tmp_path / "home")
    assert r.returncode == 0, r.stderr
    rec = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
    assert rec["seed"] == 11 and rec["params"]["cut"] == "cut4" and rec["sample_rate"] == 32000
    from backend.text.cutting import split_for_inference

    pieces = [p["text"] for p in rec["pieces"]]
    assert pieces == split_for_inference("Good morning. How are you today?", "en", "cut4") and len(pieces) == 2
    a, b = rec["ref_window"]
    assert 3.0 <= b - a <= 10.0
    assert any("trimmed" in w for w in rec["warnings"])
    info = sf.info(out)
    assert (info.samplerate, info.subtype) == (32000, "PCM_16")
    assert info.duration == pytest.approx(rec["duration"], abs=0.01)
    assert out.with_name("take.prev.wav").read_bytes() == b"an earlier take"  # never overwritten


@pytest.mark.parametrize(("extra", "words"), [
    (["--gpt", "missing.ckpt"], "GPT weights"),
    (["--ref", "nowhere.wav"], "reference clip"),
    (["--top-k", "0"], "top_k"),
])
@pytest.mark.slow
def test_bad_input_is_one_named_line(tmp_path: Path, extra: list[str], words: str) -> None:
    ref = write_voice(tmp_path / "ref.wav", 4.0)
    base = {"--gpt": str(GPT), "--sovits": str(SOVITS), "--ref": str(ref), "--lang": "en", "--text": "Hi there.",
            "--out": str(tmp_path / "o.wav")}
    for flag, value in zip(extra[::2], extra[1::2]):
        base[flag] = value if flag != "--gpt" and flag != "--ref" else str(tmp_path / value)
    args = [x for kv in base.items() for x in kv]
    r = gsv("infer", "--now", *args, home=tmp_path / "home")
    assert r.returncode == 2
    assert r.stderr.startswith("gsv: error:") and words in r.stderr and "fix:" in r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.slow
def test_unreadable_reference_fails_the_run_with_its_name(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    bad = tmp_path / "ref.wav"
    bad.write_text("not audio at all")
    r = gsv("infer", "--now", "--gpt", str(GPT), "--sovits", str(SOVITS), "--hubert", str(HUBERT),
            "--ref", str(bad), "--lang", "en", "--text", "Hi there.", "--out", str(tmp_path / "o.wav"),
            home=tmp_path / "home")
    assert r.returncode != 0
    assert "cannot read the reference clip" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "o.wav").exists()


@pytest.mark.slow
def test_project_defaults_without_any_weights_say_how_to_get_them(tmp_path: Path) -> None:
    from backend.workspace import Workspace

    home = tmp_path / "home"
    Workspace(home).create_project("bob", language="en", version="v2")
    ref = write_voice(tmp_path / "ref.wav", 4.0)
    r = gsv("infer", "--now", "--project", "bob", "--ref", str(ref), "--text", "Hi there.", home=home)
    assert r.returncode == 2
    assert "no GPT weights given, none exported in the project" in r.stderr
    assert "gsv models fetch v2" in r.stderr


def test_project_defaults_pick_the_latest_export(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import argparse
    import shutil

    from backend.stages import infer as stage
    from backend.workspace import Workspace

    ws = Workspace(tmp_path / "home")
    project = ws.create_project("carol", language="zh", version="v2")
    gdir, sdir = project.gpt_weights_dir("v2"), project.sovits_weights_dir("v2")
    gdir.mkdir(parents=True, exist_ok=True)
    sdir.mkdir(parents=True, exist_ok=True)
    for e in (4, 12, 8):
        shutil.copy(GPT, gdir / f"carol-e{e}.ckpt")
        shutil.copy(SOVITS, sdir / f"carol_e{e}_s{e * 10}.pth")
    ref = write_voice(tmp_path / "ref.wav", 4.0)
    parser = argparse.ArgumentParser()
    stage.add_arguments(parser)
    params = stage.params_from_args(parser.parse_args(["--project", "carol", "--ref", str(ref), "--text", "你好。"]), ws)
    assert params.gpt.name == "carol-e12.ckpt" and params.sovits.name == "carol_e12_s120.pth"
    assert params.lang == "all_zh" and params.ref_lang == "all_zh"
    assert params.out.parent == project.outputs_dir and params.out.suffix == ".wav"
    assert params.precision == "auto"
    # the precision comes from config.toml unless --precision says otherwise
    (tmp_path / "config.toml").write_text('precision = "bf16"\n', encoding="utf-8")
    monkeypatch.setenv("GSV_CONFIG", str(tmp_path / "config.toml"))
    args = ["--project", "carol", "--ref", str(ref), "--text", "你好。"]
    assert stage.params_from_args(parser.parse_args(args), ws).precision == "bf16"
    assert stage.params_from_args(parser.parse_args([*args, "--precision", "fp32"]), ws).precision == "fp32"
