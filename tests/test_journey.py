"""From a recording to new speech through the real ``gsv`` commands, one after the other, on tiny
models: project → slice → ASR → review (texts set through the transcript model, as the review
screen does) → format → SoVITS and GPT fine-tuning → synthesis with the project's own exports.

Each stage runs as a tracked job in its own process and hands the next one files on disk only, so
this checks the seams the per-stage tests cannot: the folders, names and versions one stage
writes are the ones the next looks for. The pretrained base models are the tiny ones under their
official names in a ``GSV_PRETRAINED_DIR`` folder; the ASR model is a tiny random Whisper (its
words are noise, hence the review step).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import soundfile as sf

torch = pytest.importorskip("torch")

from asr_models import build_tiny_whisper  # noqa: E402
from audio_synth import speechlike  # noqa: E402
from infer_helpers import make_pretrained_dir  # noqa: E402
from sovits_train_helpers import make_tiny_d  # noqa: E402
from text_records import frontend_data_or_skip  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SENTENCES = ("The quick brown fox jumps.", "It was not amused at all.", "Then it went to sleep.",
             "Morning came with rain.", "The fox woke up hungry.", "It found an apple.")


@pytest.mark.slow
def test_recording_to_speech_through_every_stage(tmp_path: Path) -> None:
    frontend_data_or_skip()
    pretrained = make_pretrained_dir(tmp_path / "pretrained", with_bert=True)
    make_tiny_d(pretrained / "gsv-v2final-pretrained" / "s2D2333k.pth")
    whisper = build_tiny_whisper(tmp_path / "whisper-tiny")
    home = tmp_path / "home"
    env = {**os.environ, "GSV_HOME": str(home), "GSV_PRETRAINED_DIR": str(pretrained), "HF_HUB_OFFLINE": "1",
           "OMP_NUM_THREADS": "1"}

    def gsv(*args: str) -> str:
        r = subprocess.run([sys.executable, "-m", "backend.cli", *args], capture_output=True, text=True,
                           timeout=600, cwd=ROOT, env=env)
        assert r.returncode == 0, f"gsv {' '.join(args)}:\n{r.stdout}\n{r.stderr}"
        return r.stdout

    gsv("project", "create", "carol", "--language", "en", "--version", "v2")
    recording = tmp_path / "recording.wav"
    sf.write(recording, speechlike(24.0, seed=5, pauses=(0.5, 0.9), words=(1.5, 3.0)), 32000)
    gsv("slice", str(recording), "--project", "carol")
    project = home / "projects" / "carol"
    clips = sorted((project / "clips").glob("*.wav"))
    assert len(clips) >= 4

    gsv("asr", "--project", "carol", "--engine", "faster-whisper", "--model", str(whisper), "--language", "en",
        "--device", "cpu", "--gpus", "cpu")
    from backend.transcripts import Transcript

    t = Transcript.open(project / "transcripts" / "clips.list")
    assert len(t) == len(clips) and {c.lang for c in t.clips()} == {"EN"}
    for n in range(len(t)):  # the review: a person types what was said
        t.set_text(n, SENTENCES[n % len(SENTENCES)])
    t.save()

    gsv("format", "--project", "carol", "--gpus", "cpu")
    exp = project / "exp"
    semantic = (exp / "6-name2semantic.tsv").read_text(encoding="utf-8").splitlines()
    assert len(semantic) == len(clips) + 1  # a header line, then one line per clip

    gsv("train-sovits", "--project", "carol", "--epochs", "1", "--batch-size", "2", "--repeat-to", "4",
        "--gpus", "cpu")
    gsv("train-gpt", "--project", "carol", "--epochs", "1", "--batch-size", "2", "--repeat-to", "12",
        "--gpus", "cpu")
    [sovits_export] = (project / "weights").glob("SoVITS_weights_v2/carol_e1_s*.pth")
    [gpt_export] = (project / "weights").glob("GPT_weights_v2/carol-e1.ckpt")

    out = tmp_path / "hello.wav"
    gsv("infer", "--project", "carol", "--ref", str(clips[0]), "--ref-text", SENTENCES[0], "--ref-lang", "en",
        "--text", "Hello there, this is carol.", "--lang", "en", "--out", str(out), "--max-seconds", "0.6",
        "--device", "cpu", "--gpus", "cpu")
    info = sf.info(out)
    assert (info.samplerate, info.subtype) == (32000, "PCM_16") and info.frames > 0
    record = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
    assert Path(record["params"]["gpt"]) == gpt_export and Path(record["params"]["sovits"]) == sovits_export
