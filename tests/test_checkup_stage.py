"""``gsv checkup`` as a tracked job on a tiny project: every export is scored by the real ASR
engine (a tiny random Whisper, so its words are noise and the scores are poor — what is checked
is that every pair and take is measured, recorded and ranked), the report and its summary are
written in the project, and the backend API the Training screen uses reads it back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import soundfile as sf

pytest.importorskip("torch")

from checkup_helpers import checkup_env, make_checkup_project, run_checkup

ROOT = Path(__file__).resolve().parents[1]


def test_checkup_job_scores_every_export_and_recommends_a_pair(tmp_path: Path) -> None:
    from text_records import frontend_data_or_skip

    frontend_data_or_skip()
    cp = make_checkup_project(tmp_path)
    env = checkup_env(cp)
    r = run_checkup(cp, limit=3)
    assert r.returncode == 0, f"{r.stdout}\n{r.stderr}"

    from backend.checkup import latest_report
    from backend.workspace import Workspace

    project = Workspace(cp.home).open_project(cp.name)
    [path] = (project.root / "checkups").glob("*.json")
    report = latest_report(project)
    assert report is not None and report.path == path
    data = json.loads(path.read_text(encoding="utf-8"))
    # two SoVITS exports with the latest GPT, then the other GPT export with the best SoVITS
    assert [p["sweep"] for p in data["pairs"]] == ["sovits", "sovits", "gpt"]
    assert [Path(p["sovits"]).name for p in data["pairs"][:2]] == ["dora_e1_s4.pth", "dora_e2_s8.pth"]
    assert {Path(p["gpt"]).name for p in data["pairs"][:2]} == {"dora-e2.ckpt"}
    assert Path(data["pairs"][2]["gpt"]).name == "dora-e1.ckpt"
    assert Path(data["pairs"][2]["sovits"]).name in {"dora_e1_s4.pth", "dora_e2_s8.pth"}
    assert len(data["sentences"]) == 3 and data["unit"] == "wer"
    assert data["reference"]["audio_path"].endswith("clip_0.wav")
    for pair in report.pairs:
        assert len(pair.takes) == 3
        assert set(pair.timings) == {"synthesis_s", "asr_s", "likeness_s"}
        for i, take in enumerate(pair.takes):
            assert take.seed == 1234 + i  # the same seed per sentence for every pair: repeatable
            assert sf.info(report.take_path(take)).samplerate == 32000
            assert 0.0 <= take.scores["error_rate"] and take.scores["reference_units"] > 0
            assert take.tokens > 0 and take.phones > 0
            # random tiny GPTs never say stop: every take runs to the 0.5 s cap, and is called a runaway
            assert take.hit_cap and take.pace == "token cap"
            assert take.likeness_ref is not None and -1.0 <= take.likeness_ref <= 1.0
            assert take.likeness_train is not None
        s = pair.summary()
        assert s["takes"] == 3 and s["runaways"] == 3 and s["median_error"] is not None
        assert s["likeness_train"] is not None
    assert report.best is not None and data["recommended"] in (0, 1, 2) and data["reason"]
    assert report.rows()[0][0] is report.best
    md = path.with_suffix(".md").read_text(encoding="utf-8")
    assert f"**Recommended:** {report.best.label}" in md and md.count("| SoVITS e") == 3

    jobs = json.loads(subprocess.run([sys.executable, "-m", "backend.cli", "jobs", "list", "--json"],
                                     capture_output=True, text=True, cwd=ROOT, env=env, timeout=120, check=False).stdout)
    assert [(j["stage"], j["project"], j["outcome"]) for j in jobs] == [("checkup", "dora", "succeeded")]


def test_checkup_without_exports_or_reference_says_what_to_do(tmp_path: Path) -> None:
    from backend.workspace import Workspace

    home = tmp_path / "home"
    Workspace(home).create_project("empty", language="en", version="v2")
    env = {**os.environ, "GSV_HOME": str(home), "GSV_PRETRAINED_DIR": str(tmp_path / "none")}
    r = subprocess.run([sys.executable, "-m", "backend.cli", "checkup", "--project", "empty", "--now"],
                       capture_output=True, text=True, timeout=120, cwd=ROOT, env=env, check=False)
    assert r.returncode == 2 and "no reference clip" in r.stderr and "fix:" in r.stderr
    assert "Traceback" not in r.stderr
