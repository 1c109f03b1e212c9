"""The listening bridge: token, path confinement, bytes/ranges, and ordered play/stop events."""

from __future__ import annotations

import http.client
import json
import os
import threading
from pathlib import Path

import pytest
from audio_synth import silent_wav

from backend.listen import BridgeError, ListenBridge, ssh_forward_hint


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj 声音"
    silent_wav(root / "clips" / "a b.wav")
    silent_wav(tmp_path / "secret.wav")
    (tmp_path / "secret.txt").write_text("secret")
    (root / "notes.txt").write_text("not audio")
    os.symlink(tmp_path / "secret.wav", root / "clips" / "escape.wav")
    return root


@pytest.fixture
def bridge(project: Path):
    with ListenBridge([project], port=0) as b:
        yield b


def _get(bridge: ListenBridge, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", bridge.port, timeout=5)
    conn.request("GET", path, headers=headers or {})
    r = conn.getresponse()
    body = r.read()
    conn.close()
    return r.status, {k.lower(): v for k, v in r.getheaders()}, body


def test_every_request_needs_the_token(bridge: ListenBridge) -> None:
    assert _get(bridge, "/")[0] == 403
    assert _get(bridge, "/?t=wrong")[0] == 403
    assert _get(bridge, "/events")[0] == 403
    assert _get(bridge, "/files/0/clips/a%20b.wav")[0] == 403
    status, headers, body = _get(bridge, f"/?t={bridge.token}")
    assert status == 200 and headers["content-type"].startswith("text/html") and b"EventSource" in body


def test_non_loopback_host_header_is_refused(bridge: ListenBridge) -> None:
    assert _get(bridge, f"/?t={bridge.token}", {"Host": "evil.example:9877"})[0] == 403
    assert _get(bridge, f"/?t={bridge.token}", {"Host": "localhost:8000"})[0] == 200


@pytest.mark.parametrize("rel", [
    "../secret.wav", "..%2fsecret.wav", "%2e%2e/secret.wav", "clips/../../secret.wav",
    "%2Ftmp%2Fsecret.wav", "/etc/passwd", "clips/escape.wav", "notes.txt", "../secret.txt",
    "clips/missing.wav", "clips/a%00.wav",
])
def test_paths_outside_the_project_are_refused(bridge: ListenBridge, rel: str) -> None:
    assert _get(bridge, f"/files/0/{rel}?t={bridge.token}")[0] == 403
    assert _get(bridge, f"/files/7/clips/a%20b.wav?t={bridge.token}")[0] == 403


def test_serves_bytes_with_type_and_ranges(bridge: ListenBridge, project: Path) -> None:
    data = (project / "clips" / "a b.wav").read_bytes()
    url = bridge.url_for(project / "clips" / "a b.wav")
    status, headers, body = _get(bridge, url)
    assert status == 200 and body == data
    assert headers["content-type"] == "audio/wav" and headers["accept-ranges"] == "bytes"
    status, headers, body = _get(bridge, url, {"Range": "bytes=10-99"})
    assert status == 206 and body == data[10:100]
    assert headers["content-range"] == f"bytes 10-99/{len(data)}"
    status, _, body = _get(bridge, url, {"Range": "bytes=-20"})
    assert status == 206 and body == data[-20:]
    status, _, body = _get(bridge, url, {"Range": f"bytes={len(data) - 5}-"})
    assert status == 206 and body == data[-5:]
    status, headers, _ = _get(bridge, url, {"Range": f"bytes={len(data)}-"})
    assert status == 416 and headers["content-range"] == f"bytes */{len(data)}"


def test_play_refuses_files_outside_roots(bridge: ListenBridge, tmp_path: Path) -> None:
    with pytest.raises(BridgeError):
        bridge.play(tmp_path / "secret.wav")


class _SSE:
    """A minimal event-stream reader over a raw HTTP connection."""

    def __init__(self, bridge: ListenBridge) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", bridge.port, timeout=5)
        self.conn.request("GET", f"/events?t={bridge.token}")
        self.resp = self.conn.getresponse()
        assert self.resp.status == 200
        assert self.resp.getheader("Content-Type").startswith("text/event-stream")

    def next(self) -> tuple[str, dict]:
        kind, data = "", ""
        while True:
            line = self.resp.fp.readline().decode("utf-8").rstrip("\n")
            if line.startswith(":"):
                continue
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                data = line[6:]
            elif line == "" and kind:
                return kind, json.loads(data)

    def close(self) -> None:
        self.conn.close()


def test_play_and_stop_reach_a_listener_in_order(bridge: ListenBridge, project: Path) -> None:
    sse = _SSE(bridge)
    assert sse.next()[0] == "hello"
    assert bridge.listeners == 1
    clip = project / "clips" / "a b.wav"
    s1 = bridge.play(clip, text="你好 | world", duration=0.5)
    s2 = bridge.stop()
    s3 = bridge.play(clip, start=0.25)
    events = [sse.next() for _ in range(3)]
    assert [k for k, _ in events] == ["play", "stop", "play"]
    assert [d["seq"] for _, d in events] == [s1, s2, s3]
    assert events[0][1]["text"] == "你好 | world" and events[0][1]["name"] == "a b.wav"
    assert events[2][1]["start"] == 0.25
    assert _get(bridge, events[0][1]["url"])[0] == 200
    sse.close()


def test_page_state_reports_are_kept(bridge: ListenBridge) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", bridge.port, timeout=5)
    got = []
    t = threading.Thread(target=lambda: got.append(bridge.wait_for_state(lambda s: not s.paused, 5)))
    t.start()
    conn.request("POST", f"/state?t={bridge.token}", body=json.dumps({"seq": 3, "paused": False, "currentTime": 0.1}),
                 headers={"Content-Type": "application/json"})
    r = conn.getresponse()
    r.read()
    assert r.status == 204
    t.join()
    assert got[0] is not None and got[0].seq == 3 and got[0].current_time == pytest.approx(0.1)
    conn.request("POST", "/state?t=nope", body=b"{}")
    assert conn.getresponse().status == 403


def test_port_in_use_is_a_named_error(bridge: ListenBridge) -> None:
    with pytest.raises(BridgeError, match="cannot listen"):
        ListenBridge([], port=bridge.port).start()


def test_ssh_hint() -> None:
    assert ssh_forward_hint(9877, {}) is None
    hint = ssh_forward_hint(9877, {"SSH_CONNECTION": "10.0.0.2 5555 10.0.0.1 2222", "USER": "me"})
    assert hint is not None and hint.startswith("ssh -L 9877:127.0.0.1:9877 -p 2222 ")


@pytest.mark.slow
def test_gsv_listen_plays_a_file_to_a_connected_page(project: Path, tmp_path: Path) -> None:
    """`gsv listen FILE` prints the URL, waits for a tab, then sends it the file."""
    import re
    import subprocess
    import sys

    clip = project / "clips" / "a b.wav"
    proc = subprocess.Popen([sys.executable, "-m", "backend.cli", "listen", "--port", "0", str(clip)],
                            stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        m = re.search(r"http://127\.0\.0\.1:(\d+)/\?t=(\S+)", line)
        assert m, line
        conn = http.client.HTTPConnection("127.0.0.1", int(m.group(1)), timeout=10)
        conn.request("GET", f"/events?t={m.group(2)}")
        resp = conn.getresponse()
        seen = []
        while len(seen) < 2:
            raw = resp.fp.readline().decode()
            if raw.startswith("event: "):
                seen.append(raw[7:].strip())
        assert seen == ["hello", "play"]
    finally:
        proc.terminate()
        proc.wait(10)
