"""Fun-ASR-Nano through the REAL FunASR engine on a tiny random model laid out as the published
one: the .list and its language tags, confidence, the named model and its VAD (a tiny FSMN VAD
that hears speech everywhere) found through the Hugging Face cache (a cache folder the test
fills, read by the real huggingface_hub), an LM folder that names a hub repo, broken folders and
the offline errors. The recognised words are random noise."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from asr_models import build_tiny_fsmn_vad, build_tiny_nano

from backend.asr import AsrError, AsrModelMissing, AsrOptions, make_engine
from backend.asr import nano as nano_mod
from backend.progress import Reporter
from backend.stages import asr as asr_stage
from backend.transcripts.listfile import Clip, parse_bytes

SNAPSHOT = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture(scope="session")
def tiny_nano(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_nano(tmp_path_factory.mktemp("asr") / "nano-tiny")


@pytest.fixture(scope="session")
def tiny_vad(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_fsmn_vad(tmp_path_factory.mktemp("asr") / "fsmn-vad-tiny")


@pytest.fixture
def clips(tmp_path: Path) -> Path:
    folder = tmp_path / "clips 声音"
    folder.mkdir()
    for i, seconds in enumerate((1.2, 2.0, 1.6)):
        t = np.arange(int(32000 * seconds)) / 32000
        sf.write(folder / f"take_{i:010d}_{i + 1:010d}.wav", (0.3 * np.sin(2 * np.pi * (180 + 40 * i) * t)).astype("float32"),
                 32000, subtype="PCM_16")
    return folder


def _rows(path: Path) -> list[Clip]:
    return [r for r in parse_bytes(path.read_bytes()).rows if isinstance(r, Clip)]


def _hf_cache_with(cache: Path, repo: str, folder: Path) -> None:
    """Put ``folder`` where huggingface_hub keeps a downloaded snapshot of ``repo``."""
    root = cache / ("models--" + repo.replace("/", "--"))
    shutil.copytree(folder, root / "snapshots" / SNAPSHOT)
    (root / "refs").mkdir(parents=True)
    (root / "refs" / "main").write_text(SNAPSHOT)


@pytest.fixture
def hf_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty Hugging Face cache for this test (huggingface_hub reads the folder at call time)."""
    import huggingface_hub.constants

    cache = tmp_path / "hf-hub"
    cache.mkdir()
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return cache


@pytest.mark.parametrize(("language", "tag"), [("zh", "ZH"), ("auto", "ZH"), ("ja", "JA")])
def test_nano_folder_writes_the_official_list(clips: Path, tmp_path: Path, tiny_nano: Path,
                                              monkeypatch: pytest.MonkeyPatch, language: str, tag: str) -> None:
    """From another working directory (config.yaml names the LM folder relative to the model):
    one line per clip, tagged with the requested language (the model reports none: auto is zh),
    and a confidence per clip from the LM's token scores."""
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    report, _ = Reporter.collect()
    asr_stage.run(asr_stage.Params(input_dir=clips, out_dir=out, engine="funasr", model=str(tiny_nano),
                                   language=language, vad=False, batch_size=2, device="cpu"), report)
    lst = out / "clips 声音.list"
    rows = _rows(lst)
    assert [Path(r.path) for r in rows] == sorted(clips.glob("*.wav"))
    assert {r.speaker for r in rows} == {"clips 声音"} and {r.lang for r in rows} == {tag}
    assert not lst.read_bytes().endswith(b"\n")
    side = json.loads((out / "clips 声音.list.asr.json").read_text(encoding="utf-8"))
    for r in rows:
        assert r.text and all("\u4e00" <= ch <= "\u9fff" for ch in r.text)  # the tiny LM's CJK tokens
        score = side["clips"][r.path]["avg_logprob"]
        assert isinstance(score, float) and score <= 0.0


def test_nano_batches_clips_and_gives_each_its_own_text(tiny_nano: Path, tmp_path: Path) -> None:
    """Clips in one LM batch come back to their own clips: the same recording at the first and last
    place of a batch reads the same, another recording between them reads otherwise. (Batched and
    one-at-a-time runs are not compared token for token: the batch changes the order of the sums,
    and that flips the near-ties a random tiny LM is full of over hundreds of tokens.)"""
    t = np.arange(int(32000 * 1.6)) / 32000
    paths = []
    for i, hz in enumerate((180, 260, 180)):
        paths.append(tmp_path / f"take_{i}.wav")
        sf.write(paths[-1], (0.3 * np.sin(2 * np.pi * hz * t)).astype("float32"), 32000, subtype="PCM_16")
    engine = make_engine(AsrOptions(engine="funasr", model=str(tiny_nano), language="zh", vad=False,
                                    batch_size=3, device="cpu"))
    assert engine.batched
    got = list(engine.transcribe(paths))
    assert [Path(r.path) for r in got] == paths and all(r.text for r in got)
    assert got[0].text == got[2].text != got[1].text


def test_the_named_model_runs_with_its_vad_from_the_hugging_face_cache(tiny_nano: Path, tiny_vad: Path, clips: Path,
                                                                       hf_cache: Path) -> None:
    """The official combination: Fun-ASR-Nano behind FunASR's fsmn-vad, both from the hub's cache."""
    _hf_cache_with(hf_cache, nano_mod.REPO, tiny_nano)
    _hf_cache_with(hf_cache, nano_mod.VAD_REPO, tiny_vad)
    engine = make_engine(AsrOptions(engine="funasr", model="fun-asr-nano", language="zh", device="cpu"))
    assert engine.model.vad_model is not None
    results = list(engine.transcribe(sorted(clips.glob("*.wav"))))
    assert len(results) == 3 and all(r.error is None and r.text and r.avg_logprob is not None for r in results)


def test_an_lm_folder_named_as_a_hub_repo_is_fetched_too(tiny_nano: Path, tmp_path: Path, hf_cache: Path) -> None:
    """A model whose config.yaml names its LM by a hub repo id gets that repo through the same
    cache (offline here: it must be there), instead of transformers going to the network."""
    folder = tmp_path / "nano-hub-llm"
    shutil.copytree(tiny_nano, folder, ignore=shutil.ignore_patterns("Qwen3-tiny"))
    config = folder / "config.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace("init_param_path: Qwen3-tiny",
                                                                 "init_param_path: acme/Qwen3-tiny"), encoding="utf-8")
    with pytest.raises(AsrModelMissing) as e:
        nano_mod.load_overrides(folder)
    assert "acme/Qwen3-tiny" in e.value.message and "hf download acme/Qwen3-tiny" in e.value.fix
    _hf_cache_with(hf_cache, "acme/Qwen3-tiny", tiny_nano / "Qwen3-tiny")
    overrides = nano_mod.load_overrides(folder)
    assert Path(overrides["llm_conf"]["init_param_path"]).parent.name == "snapshots"
    engine = make_engine(AsrOptions(engine="funasr", model=str(folder), language="zh", vad=False, device="cpu"))
    assert engine.nano and engine.model is not None


def test_missing_nano_names_every_repo_and_command(hf_cache: Path) -> None:
    with pytest.raises(AsrModelMissing) as e:
        make_engine(AsrOptions(engine="funasr", model="fun-asr-nano", language="zh", device="cpu"))
    for repo in (nano_mod.REPO, nano_mod.VAD_REPO):  # the model and the VAD the official loads with it
        assert repo in e.value.message and f"hf download {repo}" in e.value.fix
    with pytest.raises(AsrModelMissing) as e:
        make_engine(AsrOptions(engine="funasr", model="fun-asr-nano", language="zh", vad=False, device="cpu"))
    assert nano_mod.VAD_REPO not in e.value.message and f"hf download {nano_mod.REPO}" in e.value.fix


@pytest.mark.parametrize(("remove", "says"), [("Qwen3-tiny", "Qwen3-tiny"), ("model.pt", "model.pt"),
                                              ("Qwen3-tiny/config.json", "config.json")])
def test_a_broken_nano_folder_is_named(tiny_nano: Path, tmp_path: Path, remove: str, says: str) -> None:
    folder = tmp_path / "nano-broken"
    shutil.copytree(tiny_nano, folder)
    target = folder / remove
    shutil.rmtree(target) if target.is_dir() else target.unlink()
    with pytest.raises(AsrError) as e:
        make_engine(AsrOptions(engine="funasr", model=str(folder), language="zh", vad=False, device="cpu"))
    assert says in e.value.message and e.value.fix


def test_nano_languages_are_the_official_list() -> None:
    from backend.app.dataset import asr_engine_options
    from backend.asr.funasr import model_languages

    assert model_languages("fun-asr-nano") == ("zh", "en", "ja", "ko", "yue")
    assert ("funasr", "fun-asr-nano") in {(engine, model) for _, _, engine, model in asr_engine_options()}


@pytest.mark.slow
def test_gsv_asr_with_the_named_model(tiny_nano: Path, tiny_vad: Path, clips: Path, tmp_path: Path) -> None:
    """`gsv asr --model fun-asr-nano` as a tracked job: the model and its VAD come from the
    Hugging Face cache."""
    cache = tmp_path / "hf-hub"
    _hf_cache_with(cache, nano_mod.REPO, tiny_nano)
    _hf_cache_with(cache, nano_mod.VAD_REPO, tiny_vad)
    out = tmp_path / "out"
    env = {**os.environ, "HF_HUB_CACHE": str(cache), "HF_HUB_OFFLINE": "1"}
    r = subprocess.run([sys.executable, "-m", "backend.cli", "--home", str(tmp_path / "home"), "asr", str(clips),
                        "--out", str(out), "--engine", "funasr", "--model", "fun-asr-nano", "--language", "auto",
                        "--device", "cpu", "--gpus", "cpu"],
                       capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    rows = _rows(out / "clips 声音.list")
    assert len(rows) == 3 and {r.lang for r in rows} == {"ZH"}
