"""``gsv infer --verify`` with the real ASR engine on a tiny random Whisper and a threshold no
tiny output can meet (``--verify-max-error 0``: only a perfect transcript passes, and a random
Whisper never hears the text): every piece is tried exactly ``--max-tries`` times, with a new
seed each time, the best try is kept, and the take's record lists every try with its scores."""

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

ROOT = Path(__file__).resolve().parents[1]


def gsv(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, GSV_PRETRAINED_DIR=str(home / "no-pretrained"), HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1")
    return subprocess.run([sys.executable, "-m", "backend.cli", "--home", str(home), *args], capture_output=True,
                          text=True, env=env, timeout=600, cwd=ROOT, check=False)


def test_verify_retries_every_bad_piece_exactly_max_tries_and_keeps_the_best(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    frontend_data_or_skip()
    from asr_models import build_tiny_whisper

    whisper = build_tiny_whisper(tmp_path / "whisper-tiny")
    ref = write_voice(tmp_path / "ref.wav", 4.0, seed=3)
    out = tmp_path / "take.wav"
    r = gsv("infer", "--gpt", str(GPT), "--sovits", str(SOVITS), "--hubert", str(HUBERT), "--ref", str(ref),
            "--ref-text", "A short sentence.", "--ref-lang", "en", "--text", "Good morning. How are you today?",
            "--lang", "en", "--cut", "cut4", "--seed", "5", "--max-seconds", "0.5", "--out", str(out),
            "--verify", "--max-tries", "3", "--verify-max-error", "0", "--asr-engine", "faster-whisper",
            "--asr-model", str(whisper), "--asr-device", "cpu", "--device", "cpu", "--gpus", "cpu",
            home=tmp_path / "home")
    assert r.returncode == 0, r.stderr
    rec = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
    v = rec["verify"]
    assert v["max_tries"] == 3 and v["max_error"] == 0.0
    assert [p["text"] for p in v["pieces"]] == [p["text"] for p in rec["pieces"]] and len(v["pieces"]) == 2
    seeds = set()
    for piece in v["pieces"]:
        tries = piece["tries"]
        assert len(tries) == 3 and all(t["bad"] for t in tries)
        for t in tries:
            assert t["pace"] == "token cap"  # random tiny GPTs never say stop: every try runs to the cap
            assert t["scores"]["error_rate"] > 0 and t["scores"]["reference_units"] > 0 and t["tokens"] > 0
            seeds.add(t["seed"])
        best = min(range(3), key=lambda k: (tries[k]["scores"]["error_rate"],
                                            tries[k]["scores"]["skips"] + tries[k]["scores"]["repeats"], k))
        assert piece["kept"] == best
        kept = tries[piece["kept"]]
        assert rec["pieces"][piece["index"]]["tokens"] == kept["tokens"]
    assert len(seeds) == 6  # a new seed for every try of every piece
    assert sum("still sounds wrong after 3 tries" in w for w in rec["warnings"]) == 2
    assert sf.info(out).duration == pytest.approx(rec["duration"], abs=0.01)


def test_verify_refuses_auto_language_and_bad_tries(tmp_path: Path) -> None:
    ref = write_voice(tmp_path / "ref.wav", 4.0)
    base = ["infer", "--now", "--gpt", str(GPT), "--sovits", str(SOVITS), "--ref", str(ref), "--text", "Hi.",
            "--out", str(tmp_path / "o.wav"), "--verify"]
    r = gsv(*base, "--lang", "auto", home=tmp_path / "home")
    assert r.returncode == 2 and "--verify needs the text's language" in r.stderr and "fix:" in r.stderr
    r = gsv(*base, "--lang", "en", "--max-tries", "0", home=tmp_path / "home")
    assert r.returncode == 2 and "--max-tries must be between 1 and 20" in r.stderr
