"""From a recording to new speech through the real ``gsv`` commands, one after the other, on tiny
models: project → slice → ASR → review (texts set through the transcript model, as the review
screen does) → format → SoVITS and GPT fine-tuning → synthesis with the project's own exports.

Each stage runs as a tracked job in its own process and hands the next one files on disk only, so
this checks the seams the per-stage tests cannot: the folders, names and versions one stage
writes are the ones the next looks for. The pretrained base models are the tiny ones under their
official names in a ``GSV_PRETRAINED_DIR`` folder; the ASR model is a tiny random Whisper (its
words are noise, hence the review step). It runs in English, Korean and Cantonese: the seams
differ per language (KO/YUE list codes, the Korean and Cantonese frontends in formatting and
inference, the language options).
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


# (language, project name, review sentences, text to speak, inference option)
JOURNEYS = {
    "en": ("carol", SENTENCES, "Hello there, this is carol.", "en"),
    "ko": ("minji", ("안녕하세요. 만나서 반갑습니다.", "오늘 날씨가 정말 좋네요.", "저는 3시에 학교에 가요.",
                     "커피 한 잔 주세요.", "이 책은 정말 재미있어요.", "내일 다시 만나요."),
           "안녕하세요, 저는 민지예요.", "all_ko"),
    "yue": ("kaming", ("你食咗飯未呀？", "今日天氣好好。", "我哋一齊去飲茶啦。", "佢聽日返香港。",
                       "呢本書好好睇。", "唔該晒你。"),
            "你好，我係家明。", "all_yue"),
}


@pytest.mark.slow
@pytest.mark.parametrize("language", list(JOURNEYS))
def test_recording_to_speech_through_every_stage(tmp_path: Path, language: str) -> None:
    name, sentences, speak, option = JOURNEYS[language]
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

    gsv("project", "create", name, "--language", language, "--version", "v2")
    recording = tmp_path / "recording.wav"
    sf.write(recording, speechlike(24.0, seed=5, pauses=(0.5, 0.9), words=(1.5, 3.0)), 32000)
    gsv("slice", str(recording), "--project", name)
    project = home / "projects" / name
    clips = sorted((project / "clips").glob("*.wav"))
    assert len(clips) >= 4

    gsv("asr", "--project", name, "--engine", "faster-whisper", "--model", str(whisper), "--language", language,
        "--device", "cpu", "--gpus", "cpu")
    from backend.transcripts import Transcript

    t = Transcript.open(project / "transcripts" / "clips.list")
    assert len(t) == len(clips) and {c.lang for c in t.clips()} == {language.upper()}
    for n in range(len(t)):  # the review: a person types what was said
        t.set_text(n, sentences[n % len(sentences)])
    t.save()

    gsv("format", "--project", name, "--gpus", "cpu")
    exp = project / "exp"
    semantic = (exp / "6-name2semantic.tsv").read_text(encoding="utf-8").splitlines()
    assert len(semantic) == len(clips) + 1  # a header line, then one line per clip
    phones = {line.split("\t")[1] for line in (exp / "2-name2text.txt").read_text(encoding="utf-8").splitlines()}
    want = {"en": "F AA1 K S", "ko": "ㅇ ㅏ ㄴ ㄴ ㅣ ㅓ ㅇ", "yue": "Yn Yei5 Ys Yik6"}[language]
    assert any(want in p for p in phones), phones  # the language's own frontend wrote the phones

    gsv("train-sovits", "--project", name, "--epochs", "1", "--batch-size", "2", "--repeat-to", "4",
        "--gpus", "cpu")
    gsv("train-gpt", "--project", name, "--epochs", "1", "--batch-size", "2", "--repeat-to", "12",
        "--gpus", "cpu")
    [sovits_export] = (project / "weights").glob(f"SoVITS_weights_v2/{name}_e1_s*.pth")
    [gpt_export] = (project / "weights").glob(f"GPT_weights_v2/{name}-e1.ckpt")

    out = tmp_path / "hello.wav"
    gsv("infer", "--project", name, "--ref", str(clips[0]), "--ref-text", sentences[0], "--ref-lang", option,
        "--text", speak, "--lang", option, "--out", str(out), "--max-seconds", "0.6",
        "--device", "cpu", "--gpus", "cpu")
    info = sf.info(out)
    assert (info.samplerate, info.subtype) == (32000, "PCM_16") and info.frames > 0
    record = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
    assert Path(record["params"]["gpt"]) == gpt_export and Path(record["params"]["sovits"]) == sovits_export
