"""``gsv serve`` as a tracked job: it says where it listens and logs each request in its events,
and ``gsv jobs cancel`` stops it cleanly (outcome cancelled, port released). Also the named
errors before anything starts: no token beyond loopback, a port already taken."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from infer_helpers import make_pretrained_dir, write_voice
from serve_helpers import ROOT, free_port, serve_env, wait_ready
from text_records import frontend_data_or_skip


def gsv(home: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "backend.cli", "--home", str(home), *args], capture_output=True,
                          text=True, env=env, timeout=300, cwd=ROOT, check=False)


def _events(home: Path, job_id: str) -> list[dict[str, object]]:
    path = home / "jobs" / job_id / "events.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _texts(home: Path, job_id: str) -> str:
    return "\n".join(str(e.get("text", "")) for e in _events(home, job_id))


def test_serve_job_logs_requests_and_cancels_cleanly(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    frontend_data_or_skip()
    pretrained = make_pretrained_dir(tmp_path / "pretrained")
    home = tmp_path / "home"
    ref = write_voice(home / "refs" / "ref.wav", 4.0)
    env = serve_env(home, pretrained, tmp_path / "config.toml")
    port = free_port()
    r = gsv(home, env, "serve", "--detach", "--gpus", "cpu", "--port", str(port), "--max-seconds", "0.5",
            "--ref", str(ref), "--ref-text", "A short sentence.", "--ref-lang", "en")
    assert r.returncode == 0, r.stderr
    job_id = r.stdout.strip().splitlines()[-1]
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, None, home / "jobs" / job_id / "log.txt")
        reply = httpx.get(f"{url}/tts", params={"text": "Hello there.", "text_lang": "en"}, timeout=300)
        assert reply.status_code == 200  # the default reference given at start
        deadline = time.monotonic() + 30
        while "GET /tts 200" not in _texts(home, job_id) and time.monotonic() < deadline:
            time.sleep(0.2)
        texts = _texts(home, job_id)
        assert f"serving on {url}" in texts and "curl -o out.wav" in texts and "GET /tts 200" in texts
        summary = [e for e in _events(home, job_id) if e.get("kind") == "summary"]
        assert summary and summary[-1]["data"]["url"] == url  # type: ignore[index]
    finally:
        c = gsv(home, env, "jobs", "cancel", job_id)
    assert c.returncode == 0, c.stderr
    show = json.loads(gsv(home, env, "jobs", "show", job_id, "--json").stdout)
    assert show["outcome"] == "cancelled"
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))  # released


def test_refuses_to_listen_beyond_loopback_without_a_token(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = serve_env(home, tmp_path / "none", tmp_path / "config.toml")
    gpt, sovits = tmp_path / "g.ckpt", tmp_path / "s.pth"
    gpt.write_bytes(b"x")
    sovits.write_bytes(b"x")
    r = gsv(home, env, "serve", "--now", "--host", "0.0.0.0", "--gpt", str(gpt), "--sovits", str(sovits))
    assert r.returncode == 2
    assert "no token" in r.stderr and "--token" in r.stderr


def test_a_taken_port_is_a_named_error(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    home = tmp_path / "home"
    pretrained = make_pretrained_dir(tmp_path / "pretrained")
    env = serve_env(home, pretrained, tmp_path / "config.toml")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        r = gsv(home, env, "serve", "--now", "--port", str(port))
    assert r.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in r.stderr and "--port" in r.stderr
