"""The error contract of ``gsv serve``: api_v2's 400 messages, FastAPI's 422 for wrong types,
confinement, token and Host refusals, size limits. The real FastAPI application and model worker
answer through FastAPI's TestClient; none of these requests reaches synthesis, so no model loads
except where a weights file is tried (and refused) for real."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from backend.serve.app import ServerState, create_app
from backend.serve.safety import PathRules
from backend.serve.voice import VoiceFiles
from backend.serve.worker import ModelWorker


def _client(tmp_path: Path, token: str | None = None, loopback_only: bool = True) -> tuple[TestClient, Path]:
    ws = tmp_path / "ws"
    (ws / "refs").mkdir(parents=True)
    ref = ws / "refs" / "ref.wav"
    ref.write_bytes(b"RIFF")
    state = ServerState(files=VoiceFiles(gpt=ws / "g.ckpt", sovits=ws / "s.pth"), workspace=ws,
                        rules=PathRules([ws]), token=token, loopback_hosts_only=loopback_only, version="v2")
    return TestClient(create_app(state, ModelWorker()), base_url="http://127.0.0.1:9880"), ref


def _base(ref: Path) -> dict[str, str]:
    return {"text": "Hello.", "text_lang": "en", "ref_audio_path": str(ref), "prompt_lang": "en"}


@pytest.mark.parametrize(("change", "expected"), [
    ({"ref_audio_path": ""}, "ref_audio_path is required"),
    ({"text": ""}, "text is required"),
    ({"text_lang": ""}, "text_lang is required"),
    ({"text_lang": "xx"}, "text_lang: xx is not supported in version v2"),
    ({"prompt_lang": ""}, "prompt_lang is required"),
    ({"prompt_lang": "fr"}, "prompt_lang: fr is not supported in version v2"),
    ({"media_type": "mp4"}, "media_type: mp4 is not supported"),
    ({"text_split_method": "cut9"}, "text_split_method:cut9 is not supported"),
    ({"streaming_mode": "7"}, "the value of streaming_mode must be 0, 1, 2, 3(int) or true/false(bool)"),
])
def test_official_400_messages_on_get_and_post(tmp_path: Path, change: dict[str, str], expected: str) -> None:
    client, ref = _client(tmp_path)
    params = {**_base(ref), **change}
    for r in (client.get("/tts", params=params),
              client.post("/tts", json={**params, "streaming_mode": int(params.get("streaming_mode", 0))})):
        assert r.status_code == 400
        assert r.json() == {"message": expected}


@pytest.mark.parametrize(("field", "value"), [("streaming_mode", "ture"), ("top_k", "many"), ("seed", "x"),
                                              ("verify", "ture"), ("max_tries", "many")])
def test_wrong_types_are_422_with_fastapis_detail(tmp_path: Path, field: str, value: str) -> None:
    client, ref = _client(tmp_path)
    r = client.get("/tts", params={**_base(ref), field: value})
    assert r.status_code == 422
    assert any(field in d["loc"] for d in r.json()["detail"])


@pytest.mark.parametrize(("change", "expected"), [
    ({"streaming_mode": 2}, "verify checks whole pieces: use streaming_mode 0 or 1 (false/true), "
                            "not the token-chunk modes 2 and 3"),
    ({"streaming_mode": 3}, "verify checks whole pieces: use streaming_mode 0 or 1 (false/true), "
                            "not the token-chunk modes 2 and 3"),
    ({"max_tries": 0}, "max_tries must be between 1 and 20"),
    ({"max_tries": 21}, "max_tries must be between 1 and 20"),
    ({"verify_max_error": -0.5}, "verify_max_error must be between 0 and 10"),
    ({"text_lang": "auto"}, "verify needs the text's language, not auto: send text_lang all_zh, en, all_ja, all_ko "
                            "or all_yue (or a mixed one such as zh)"),
])
def test_verify_refusals_are_400_with_the_fix_on_get_and_post(tmp_path: Path, change: dict[str, object],
                                                                expected: str) -> None:
    client, ref = _client(tmp_path)
    params = {**_base(ref), "verify": "true", **change}
    for r in (client.get("/tts", params=params), client.post("/tts", json={**params, "verify": True})):
        assert r.status_code == 400
        assert r.json() == {"message": expected}


def test_verify_fields_are_ignored_when_verify_is_off(tmp_path: Path) -> None:
    """Without ``verify`` its own fields are not checked: a client that never verifies is never refused for them."""
    client, ref = _client(tmp_path)
    r = client.get("/tts", params={**_base(ref), "verify": "false", "max_tries": 0, "streaming_mode": 2})
    assert r.status_code == 400  # past every check: it fails only where the (missing) weights load
    assert r.json()["message"] == "tts failed"


def test_paths_outside_the_allowed_folders_are_refused_with_the_rule(tmp_path: Path) -> None:
    client, ref = _client(tmp_path)
    outside = tmp_path / "secret.wav"
    outside.write_bytes(b"RIFF")
    link = ref.parent / "link.wav"
    link.symlink_to(outside)
    for path in (str(outside), str(link), str(ref.parent / ".." / ".." / "secret.wav")):
        r = client.get("/tts", params={**_base(ref), "ref_audio_path": path})
        assert r.status_code == 400
        assert "is not allowed" in r.json()["message"] and "allowed_dirs" in r.json()["message"]
    r = client.get("/set_gpt_weights", params={"weights_path": "/etc/passwd"})
    assert r.status_code == 400 and "is not allowed" in r.json()["message"]


def test_weights_and_control_messages(tmp_path: Path) -> None:
    client, ref = _client(tmp_path)
    assert client.get("/set_gpt_weights").json() == {"message": "gpt weight path is required"}
    assert client.get("/set_sovits_weights").json() == {"message": "sovits weight path is required"}
    bad = ref.parent / "bad.ckpt"
    bad.write_bytes(b"not a checkpoint")
    r = client.get("/set_gpt_weights", params={"weights_path": str(bad)})
    assert r.status_code == 400 and r.json()["message"] == "change gpt weight failed" and r.json()["Exception"]
    r = client.get("/control")
    assert r.status_code == 400 and r.json() == {"message": "command is required"}
    r = client.get("/set_refer_audio", params={"refer_audio_path": str(ref)})
    assert r.status_code == 400 and r.json()["message"] == "set refer audio failed"


def test_legacy_change_refer_and_set_model_messages(tmp_path: Path) -> None:
    client, ref = _client(tmp_path)
    for path in ("/change_refer", "/set_model"):
        r = client.get(path)
        assert r.status_code == 400 and r.json()["code"] == 400 and "send" in r.json()["message"]
    r = client.get("/change_refer", params={"prompt_text": "Hello."})
    assert r.status_code == 400 and "no default reference yet" in r.json()["message"]
    r = client.post("/change_refer", json={"refer_wav_path": "/etc/passwd", "prompt_text": "x",
                                           "prompt_language": "en"})
    assert r.status_code == 400 and "is not allowed" in r.json()["message"] and r.json()["code"] == 400
    r = client.get("/change_refer", params={"refer_wav_path": str(ref), "prompt_text": "x", "prompt_language": "en"})
    assert r.status_code == 400 and r.json()["message"].startswith("refer_wav_path: ")  # not audio
    r = client.get("/set_model", params={"gpt_model_path": "/etc/passwd"})
    assert r.status_code == 400 and "gpt_model_path: /etc/passwd is not allowed" in r.json()["message"]
    bad = ref.parent / "bad.pth"
    bad.write_bytes(b"not weights")
    r = client.post("/set_model", json={"sovits_model_path": str(bad)})
    assert r.status_code == 400 and r.json()["message"].startswith("change weights failed: ")


def test_token_is_required_as_bearer_or_query(tmp_path: Path) -> None:
    client, _ = _client(tmp_path, token="s3cret", loopback_only=False)
    assert client.get("/health").status_code == 401
    assert client.get("/health", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/health", headers={"Authorization": "Bearer s3cret"}).status_code == 200
    assert client.get("/health", params={"token": "s3cret"}).status_code == 200


def test_tokenless_loopback_server_refuses_other_host_names(tmp_path: Path) -> None:
    client, _ = _client(tmp_path)
    assert client.get("/health").status_code == 200
    r = client.get("/health", headers={"Host": "evil.example:9880"})
    assert r.status_code == 403


def test_oversized_bodies_and_texts_are_refused(tmp_path: Path) -> None:
    client, ref = _client(tmp_path)
    r = client.post("/tts", content=b"{" + b" " * (2 << 20) + b"}", headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    r = client.post("/tts", json={**_base(ref), "text": "a" * 6000})
    assert r.status_code == 400 and "longer than" in r.json()["message"]


def test_upload_ref_checks_the_clip_and_returns_a_usable_path(tmp_path: Path) -> None:
    from infer_helpers import write_voice

    client, ref = _client(tmp_path)
    good = write_voice(tmp_path / "mine.wav", 4.0).read_bytes()
    r = client.post("/upload_ref", files={"file": ("mine.wav", good, "audio/wav")})
    assert r.status_code == 200, r.text
    stored = Path(r.json()["ref_audio_path"])
    assert stored.read_bytes() == good and stored.parent == ref.parents[1] / "serve-uploads"
    assert r.json()["duration"] == pytest.approx(4.0, abs=0.01)
    again = client.post("/upload_ref", content=good, headers={"Content-Type": "audio/wav"})
    assert again.json()["ref_audio_path"] == str(stored)  # same content, same id
    short = write_voice(tmp_path / "short.wav", 1.0).read_bytes()
    r = client.post("/upload_ref", files={"file": ("short.wav", short, "audio/wav")})
    assert r.status_code == 400 and r.json()["message"] == "upload refused" and "3–10 s" in r.json()["Exception"]
    assert len(list(stored.parent.iterdir())) == 1  # the refused clip is not kept
    r = client.post("/upload_ref", files={"other": ("x.txt", b"hello", "text/plain")}, data={"a": "b"})
    assert r.status_code == 400
