"""``/tts`` with ``verify``: a real ``gsv serve`` on the tiny models whose verified requests are
heard by the real ASR engine on a tiny random Whisper (``--asr-model``). With
``verify_max_error=0`` only a perfect transcript passes and a random Whisper never hears the text,
so every piece takes exactly ``max_tries`` tries, and the headers say so."""

from __future__ import annotations

import io
from collections.abc import Iterator

import httpx
import numpy as np
import pytest
import soundfile as sf
from infer_helpers import make_pretrained_dir, write_voice
from serve_helpers import RunningServe, start_serve
from text_records import frontend_data_or_skip

pytest.importorskip("torch")
frontend_data_or_skip()

TEXT = "Good morning. How are you today?"  # two pieces with cut5


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServe]:
    from asr_models import build_tiny_whisper

    base = tmp_path_factory.mktemp("serve-verify")
    pretrained = make_pretrained_dir(base / "pretrained", with_bert=True)
    whisper = build_tiny_whisper(base / "whisper-tiny")
    home = base / "home"
    write_voice(home / "refs" / "ref.wav", 4.0, seed=3)
    config = base / "config.toml"
    config.write_text("", encoding="utf-8")
    server = start_serve(home, pretrained, config, "--device", "cpu", "--asr-engine", "faster-whisper",
                         "--asr-model", str(whisper))
    yield server
    server.stop()


def _tts(served: RunningServe, **extra: object) -> dict[str, object]:
    return {"text": TEXT, "text_lang": "en", "ref_audio_path": str(served.home / "refs" / "ref.wav"),
            "prompt_lang": "en", "prompt_text": "A short sentence.", "seed": 11, "text_split_method": "cut5",
            "verify": True, "max_tries": 2, "verify_max_error": 0, **extra}


def test_a_verified_request_takes_exactly_max_tries_per_piece_and_says_so(served: RunningServe) -> None:
    r = httpx.post(f"{served.url}/tts", json=_tts(served), timeout=600)
    assert r.status_code == 200, r.text
    assert r.headers["X-Verify-Tries"] == "2,2"
    kept = [int(k) for k in r.headers["X-Verify-Kept"].split(",")]
    assert len(kept) == 2 and all(k in (1, 2) for k in kept)
    assert r.headers["X-Verify-Failed"] == "2"  # no try of a random voice is heard right
    assert r.headers["X-Seed"] == "11"
    whole, sr = sf.read(io.BytesIO(r.content), dtype="int16")
    assert sr == 32000 and len(whole) > 0

    # GET with booleans as api_v2's fields, streaming_mode 1: the same verified take, in fragments
    query = {**_tts(served), "verify": "true", "streaming_mode": "true", "media_type": "raw", "max_tries": "2"}
    with httpx.stream("GET", f"{served.url}/tts", params=query, timeout=600) as s:
        assert s.status_code == 200
        assert (s.headers["X-Verify-Tries"], s.headers["X-Verify-Kept"]) == ("2,2", r.headers["X-Verify-Kept"])
        body = b"".join(s.iter_raw())
    np.testing.assert_array_equal(np.frombuffer(body, dtype="<i2"), whole)

    plain = httpx.post(f"{served.url}/tts", json=_tts(served, verify=False), timeout=600)
    assert plain.status_code == 200 and "X-Verify-Tries" not in plain.headers
