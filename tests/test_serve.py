"""``gsv serve`` as its clients use it: a real server subprocess on the tiny models, called over
real HTTP with the request shapes of AstrBot, Open-LLM-VTuber, pyVideoTrans, api.py callers and
OpenAI-style clients; streaming modes in each media type; failures that leave it serving."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator

import av
import httpx
import numpy as np
import pytest
import soundfile as sf
from infer_helpers import make_pretrained_dir, write_voice
from serve_helpers import RunningServe, start_serve
from text_records import frontend_data_or_skip

pytest.importorskip("torch")
frontend_data_or_skip()

REF_TEXT_ZH = "今天天气很好。"
EN_TEXT = "Good morning. How are you today? The weather is fine."


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServe]:
    base = tmp_path_factory.mktemp("serve")
    pretrained = make_pretrained_dir(base / "pretrained", with_bert=True)
    home = base / "home"
    write_voice(home / "refs" / "ref.wav", 4.0, seed=3)
    (home / "refs" / "broken.wav").write_bytes(b"RIFF not really audio")
    from backend.workspace import Workspace

    project = Workspace(home).create_project("alice", language="en", version="v2")
    project.settings["reference"] = {"audio_path": str(home / "refs" / "ref.wav"), "text": "A short sentence.",
                                     "language": "en"}
    project.save()
    config = base / "config.toml"
    config.write_text(f'[serve]\nallowed_dirs = ["{pretrained}"]\n', encoding="utf-8")
    server = start_serve(home, pretrained, config, "--queue", "1")
    yield server
    server.stop()


def _ref(served: RunningServe) -> str:
    return str(served.home / "refs" / "ref.wav")


def _wav(body: bytes) -> tuple[np.ndarray, int]:
    data, sr = sf.read(io.BytesIO(body), dtype="int16")
    assert len(data) > 0
    return data, sr


def _decoded_samples(body: bytes) -> int:
    with av.open(io.BytesIO(body)) as c:
        return sum(f.samples for f in c.decode(audio=0))


def test_astrbot_switches_weights_then_speaks(served: RunningServe) -> None:
    pre = served.home.parent / "pretrained" / "gsv-v2final-pretrained"
    for endpoint, name in (("set_gpt_weights", "s1bert25hz-5kh-longer-epoch=12-step=369668.ckpt"),
                           ("set_sovits_weights", "s2G2333k.pth")):
        r = httpx.get(f"{served.url}/{endpoint}", params={"weights_path": str(pre / name)}, timeout=120)
        assert r.status_code == 200 and r.json() == {"message": "success"}
    params = {"text": "今天我们去公园。", "text_lang": "zh", "ref_audio_path": _ref(served), "prompt_text": REF_TEXT_ZH,
              "prompt_lang": "zh", "top_k": 5, "top_p": 1.0, "temperature": 1.0, "text_split_method": "cut3",
              "batch_size": 1, "batch_threshold": 0.75, "split_bucket": True, "speed_factor": 1.0,
              "fragment_interval": 0.3, "streaming_mode": False, "seed": -1, "parallel_infer": True,
              "repetition_penalty": 1.35, "media_type": "wav"}
    r = httpx.get(f"{served.url}/tts", params=params, timeout=300)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "audio/wav"
    assert _wav(r.content)[1] == 32000


def test_open_llm_vtuber_and_pyvideotrans_shapes(served: RunningServe) -> None:
    r = httpx.get(f"{served.url}/tts", params={
        "text": EN_TEXT, "text_lang": "EN", "ref_audio_path": _ref(served), "prompt_lang": "en",
        "prompt_text": "A short sentence.", "text_split_method": "cut5", "batch_size": "1", "media_type": "wav",
        "streaming_mode": "false", "some_unknown_field": "ignored"}, timeout=300)
    assert r.status_code == 200, r.text
    assert _wav(r.content)[1] == 32000
    r = httpx.post(f"{served.url}/tts", json={
        "text": EN_TEXT, "text_lang": "en", "ref_audio_path": _ref(served), "prompt_text": "A short sentence.",
        "prompt_lang": "EN", "speed_factor": 1.0, "text_split_method": "cut5", "extra": [1, 2]}, timeout=300)
    assert r.status_code == 200, r.text
    assert _wav(r.content)[1] == 32000


def test_legacy_api_and_openai_speech(served: RunningServe) -> None:
    r = httpx.get(f"{served.url}/", params={"refer_wav_path": _ref(served), "prompt_text": "A short sentence.",
                                            "prompt_language": "英文", "text": EN_TEXT, "text_language": "en",
                                            "cut_punc": ".?"}, timeout=300)
    assert r.status_code == 200, r.text
    assert _wav(r.content)[1] == 32000
    r = httpx.get(f"{served.url}/", params={"text": "Hello."}, timeout=60)
    assert r.status_code == 400 and r.json() == {"code": 400, "message": "未指定参考音频且接口无预设"}
    models = httpx.get(f"{served.url}/v1/models", timeout=60).json()
    assert [m["id"] for m in models["data"]] == ["alice"]
    for fmt in ("wav", "mp3"):
        r = httpx.post(f"{served.url}/v1/audio/speech", json={"model": "gsv", "input": EN_TEXT, "voice": "alice",
                                                               "response_format": fmt}, timeout=300)
        assert r.status_code == 200, r.text
        assert _decoded_samples(r.content) > 0
    r = httpx.post(f"{served.url}/tts", json={"text": "Hello there.", "text_lang": "en", "project": "alice"},
                   timeout=300)
    assert r.status_code == 200, r.text  # the project's own reference, weights and language


def test_legacy_change_refer_and_set_model(served: RunningServe) -> None:
    """api.py's way to set the default reference and switch weights, then its ``/`` without a reference."""
    r = httpx.get(f"{served.url}/change_refer", params={"refer_wav_path": _ref(served),
                                                         "prompt_text": "A short sentence.",
                                                         "prompt_language": "英文"}, timeout=60)
    assert r.status_code == 200 and r.json() == {"code": 0, "message": "Success"}
    pretrained = served.home.parent / "pretrained"
    gpt, sovits = next(pretrained.rglob("*.ckpt")), next(pretrained.rglob("s2G*.pth"))
    r = httpx.post(f"{served.url}/set_model", json={"gpt_model_path": str(gpt), "sovits_model_path": str(sovits)},
                   timeout=300)
    assert r.status_code == 200 and r.json() == {"code": 0, "message": "Success"}, r.text
    health = httpx.get(f"{served.url}/health", timeout=60).json()
    assert (health["gpt"], health["sovits"]) == (str(gpt), str(sovits))
    r = httpx.get(f"{served.url}/", params={"text": "Hello there.", "text_language": "en"}, timeout=300)
    assert r.status_code == 200, r.text
    assert _wav(r.content)[1] == 32000


def _tts(served: RunningServe, **extra: object) -> dict[str, object]:
    return {"text": EN_TEXT, "text_lang": "en", "ref_audio_path": _ref(served), "prompt_lang": "en",
            "prompt_text": "A short sentence.", "seed": 7, "text_split_method": "cut5", **extra}


@pytest.mark.parametrize("media_type", ["wav", "raw", "ogg"])
def test_streaming_modes_decode_and_mode_1_equals_the_whole_body(served: RunningServe, media_type: str) -> None:
    whole = httpx.post(f"{served.url}/tts", json=_tts(served, media_type="wav"), timeout=300)
    reference, sr = _wav(whole.content)
    classic = httpx.post(f"{served.url}/tts", json=_tts(served, media_type="wav", parallel_infer=False), timeout=300)
    classic_samples, _ = _wav(classic.content)  # token-chunk streaming draws its tokens the classic way
    for mode in (1, 2, 3):
        with httpx.stream("POST", f"{served.url}/tts", json=_tts(served, media_type=media_type, streaming_mode=mode),
                          timeout=300) as r:
            assert r.status_code == 200
            chunks = list(r.iter_raw())
        body = b"".join(chunks)
        if media_type == "raw":
            samples = np.frombuffer(body, dtype="<i2")
        elif media_type == "wav":
            assert body[:4] == b"RIFF" and body[40:44] == b"\xff\xff\xff\xff"  # unknown length
            samples = np.frombuffer(body[44:], dtype="<i2")
            assert _wav(body)[1] == sr
        else:
            assert _decoded_samples(body) > 0
            continue
        if mode == 1:
            np.testing.assert_array_equal(samples, reference)
        else:  # the classic path's tokens decoded in parts: about as long (one token = 1280 samples a piece)
            assert abs(len(samples) - len(classic_samples)) <= 1280 * 3


def test_first_audio_arrives_before_the_text_is_synthesised(served: RunningServe) -> None:
    text = " ".join(f"Sentence number {i}." for i in range(1, 31))
    with httpx.stream("POST", f"{served.url}/tts", json=_tts(served, text=text, streaming_mode=1, media_type="raw"),
                      timeout=300) as r:
        body = r.iter_raw()
        first = next(body)
        assert first
        during = httpx.get(f"{served.url}/health", timeout=60).json()["current"]
        rest = b"".join(body)
    assert during["finished"] is False and during["chunks"] < 30
    assert rest and httpx.get(f"{served.url}/health", timeout=60).json()["current"]["finished"] is True


def test_failed_synthesis_then_a_good_request(served: RunningServe) -> None:
    r = httpx.post(f"{served.url}/tts", json=_tts(served, ref_audio_path=str(served.home / "refs" / "broken.wav")),
                   timeout=300)
    assert r.status_code == 400
    assert r.json()["message"] == "tts failed" and "reference clip" in r.json()["Exception"]
    r = httpx.post(f"{served.url}/tts", json=_tts(served), timeout=300)
    assert r.status_code == 200 and _wav(r.content)[1] == 32000


def test_a_full_queue_answers_503_with_retry_after(served: RunningServe) -> None:
    text = " ".join(f"Sentence number {i}." for i in range(1, 16))
    codes: list[int] = []
    retry: list[str] = []

    def call() -> None:
        r = httpx.post(f"{served.url}/tts", json=_tts(served, text=text), timeout=300)
        codes.append(r.status_code)
        if r.status_code == 503:
            retry.append(r.headers.get("retry-after", ""))

    threads = [threading.Thread(target=call) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert 503 in codes and 200 in codes and all(c in (200, 503) for c in codes)
    assert retry and all(x.isdigit() for x in retry)
    r = httpx.post(f"{served.url}/tts", json=_tts(served), timeout=300)
    assert r.status_code == 200  # still serving


def test_control_restart_reloads_and_keeps_serving_then_exit_stops(served: RunningServe) -> None:
    import time

    assert httpx.get(f"{served.url}/control", params={"command": "restart"}, timeout=60).status_code == 200
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:  # the restarted server has a fresh worker (no request served yet)
        assert served.proc.poll() is None
        try:
            if httpx.get(f"{served.url}/health", timeout=2).json()["current"]["requests"] == 0:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    else:
        raise AssertionError("the server did not come back after restart")
    r = httpx.post(f"{served.url}/tts", json=_tts(served), timeout=300)
    assert r.status_code == 200 and _wav(r.content)[1] == 32000
    assert httpx.get(f"{served.url}/control", params={"command": "exit"}, timeout=60).status_code == 200
    assert served.proc.wait(60) == 0
