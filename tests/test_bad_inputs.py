"""Bad inputs that used to crash with a traceback or mislead silently (issue 17 item 15).

Each case runs the real code on real files; the CLI cases run ``gsv`` as a subprocess, the way a
person meets them: one named line with the fix, exit status 2, no traceback.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from infer_helpers import GPT, HUBERT, SOVITS, write_voice

from backend.config import Config, load_config
from backend.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


def gsv(*args: str, home: Path, config: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), GSV_PRETRAINED_DIR=str(home / "no-pretrained"))
    if config is not None:
        env["GSV_CONFIG"] = str(config)
    return subprocess.run([sys.executable, "-m", "backend.cli", "--home", str(home), *args], capture_output=True,
                          text=True, env=env, timeout=300, cwd=ROOT)


def _named_error(r: subprocess.CompletedProcess[str], *words: str) -> None:
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert r.stderr.startswith("gsv: error:") and "fix:" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr
    for w in words:
        assert w in r.stderr, r.stderr


# --- config.toml ----------------------------------------------------------------------------------

@pytest.mark.slow
def test_a_config_that_is_not_utf8_is_named_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b'precision = "auto"\nlisten_host = "127.0.0.1\xff"\n')
    with pytest.raises(ConfigError, match="not UTF-8.*line 2") as e:
        load_config(path)
    assert e.value.fix and "UTF-8" in e.value.fix
    _named_error(gsv("listen", "--port", "0", home=tmp_path / "home", config=path), "not UTF-8")


@pytest.mark.slow
def test_a_config_that_is_a_folder_is_named(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.mkdir()
    with pytest.raises(ConfigError, match="is a folder"):
        load_config(path)
    _named_error(gsv("listen", "--port", "0", home=tmp_path / "home", config=path), "is a folder")


@pytest.mark.parametrize(("text", "key"), [
    ("gpus = [99999999999999999]", "gpus"),
    ("gpus = [1024]", "gpus"),
    ('listen_host = "my box"', "listen_host"),
    ('listen_host = ""', "listen_host"),
    ('listen_allow_remote = "yes"', "listen_allow_remote"),
])
def test_config_values_out_of_range_are_refused(tmp_path: Path, text: str, key: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=f"`{key}`"):
        load_config(path)


def test_config_accepts_what_the_docs_show(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('gpus = [0, 7]\nlisten_host = "::1"\nlisten_allow_remote = false\n', encoding="utf-8")
    cfg = load_config(path)
    assert (cfg.gpus, cfg.listen_host, cfg.listen_allow_remote) == ([0, 7], "::1", False)
    assert load_config(tmp_path / "absent.toml") == Config()


# --- gsv slice ------------------------------------------------------------------------------------

def _recording(path: Path) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(32000)
        w.writeframes(bytes(32000 * 2 * 3))
    return path


@pytest.mark.slow
def test_slice_out_that_is_a_file_is_named_before_any_job(tmp_path: Path) -> None:
    rec = _recording(tmp_path / "rec.wav")
    target = tmp_path / "passwd"
    target.write_text("root:x:0:0\n")
    r = gsv("slice", str(rec), "--out", str(target), home=tmp_path / "home")
    _named_error(r, "is a file, not a folder")
    assert target.read_text() == "root:x:0:0\n"
    assert not (tmp_path / "home" / "jobs").exists() or not any((tmp_path / "home" / "jobs").iterdir())


@pytest.mark.parametrize(("flag", "words"), [("--threshold", "threshold (nan)"), ("--max-length", "max_length (nan)"),
                                             ("--max-length", "max_length (inf)")])
@pytest.mark.slow
def test_slice_nan_parameters_are_named(tmp_path: Path, flag: str, words: str) -> None:
    rec = _recording(tmp_path / "rec.wav")
    value = "inf" if "inf" in words else "nan"
    r = gsv("slice", str(rec), "--out", str(tmp_path / "clips"), flag, value, home=tmp_path / "home")
    _named_error(r, words)
    assert not (tmp_path / "clips").exists()


# --- HuBERT weights that name code ----------------------------------------------------------------

class _RunsCode:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_hubert_pickle_that_names_code_is_refused_by_name(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    from backend.models.errors import UnsafeWeightsFileError
    from backend.models.ssl import ContentEncoder

    folder = tmp_path / "chinese-hubert-base"
    shutil.copytree(HUBERT, folder)
    for f in folder.glob("*.safetensors"):
        f.unlink()
    marker = tmp_path / "ran"
    torch.save({"weight": _RunsCode(marker)}, folder / "pytorch_model.bin")
    with pytest.raises(UnsafeWeightsFileError, match="ask to run Python code") as e:
        ContentEncoder.from_pretrained(folder)
    assert "gsv models fetch" in (e.value.fix or "")
    assert not marker.exists()


# --- audio ----------------------------------------------------------------------------------------

def _mp3(path: Path, seconds: float) -> Path:
    import av

    rate = 32000
    t = np.arange(int(seconds * rate)) / rate
    x = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)[None]
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libmp3lame", rate=rate)
        stream.layout = "mono"
        for i in range(0, x.shape[1], 1152):
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(x[:, i:i + 1152]), format="flt", layout="mono")
            frame.sample_rate = rate
            for p in stream.encode(frame):
                out.mux(p)
        for p in stream.encode(None):
            out.mux(p)
    return path


def test_a_truncated_mp3_loads_with_a_warning(tmp_path: Path) -> None:
    from backend.audio.io import load_audio

    whole = _mp3(tmp_path / "whole.mp3", 6.0)
    assert load_audio(whole).warnings == []
    cut = tmp_path / "cut.mp3"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    loaded = load_audio(cut)
    assert loaded.duration == pytest.approx(3.0, abs=0.3)
    assert any(w.startswith("truncated: the file says 6.00 s") for w in loaded.warnings), loaded.warnings


@pytest.mark.slow
def test_a_silent_reference_is_refused(tmp_path: Path) -> None:
    from backend.infer.errors import ReferenceAudioError
    from backend.infer.reference import load_reference

    silent = tmp_path / "silent.wav"
    sf.write(silent, np.zeros(4 * 32000, dtype=np.float32), 32000, subtype="PCM_16")
    with pytest.raises(ReferenceAudioError, match="silent"):
        load_reference(silent)
    hiss = tmp_path / "hiss.wav"
    sf.write(hiss, np.random.default_rng(0).normal(0, 1e-4, 4 * 32000).astype(np.float32), 32000)
    with pytest.raises(ReferenceAudioError, match="silent"):
        load_reference(hiss)
    assert load_reference(write_voice(tmp_path / "voice.wav", 4.0)).duration == pytest.approx(4.0, abs=1e-3)
    r = gsv("infer", "--gpt", str(GPT), "--sovits", str(SOVITS), "--ref", str(silent), "--lang", "en",
            "--text", "Hi there.", "--out", str(tmp_path / "o.wav"), home=tmp_path / "home")
    _named_error(r, "silent")
    assert not (tmp_path / "o.wav").exists()


# --- formatting -----------------------------------------------------------------------------------

def test_a_nul_byte_in_list_text_is_skipped_with_its_line(tmp_path: Path) -> None:
    from backend.format.items import read_items

    clips = tmp_path / "clips"
    clips.mkdir()
    for name in ("a.wav", "b.wav", "c.wav"):
        _recording(clips / name)
    lst = tmp_path / "clips.list"
    lst.write_bytes("\n".join([f"{clips / 'a.wav'}|s|EN|fine text", f"{clips / 'b.wav'}|s|EN|bad\x00text",
                               f"{clips / 'c.wav'}\x00|s|EN|bad path"]).encode("utf-8"))
    items, skipped = read_items(lst, "v2")
    assert [i.key for i in items] == ["a.wav"]
    reasons = {s.key: s.reason for s in skipped}
    assert "U+0000" in reasons["line 2"] and "U+0000" in reasons["line 3"]
