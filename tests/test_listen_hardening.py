"""The listening bridge under hostile or careless clients (issue 17 items 13, 14; issue 16 item 15).

Everything runs against the real bridge (uvicorn on a loopback port) over real sockets.
"""

from __future__ import annotations

import http.client
import os
import re
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from audio_synth import silent_wav

from backend.listen import (
    BridgeError,
    BridgeLimits,
    ListenBridge,
    ssh_forward_hint,
    workspace_token,
)
from backend.listen.ssh_hint import ssh_target_host

ROOT = Path(__file__).resolve().parents[1]


def _raw(port: int, request: bytes, timeout: float = 5.0) -> bytes:
    """Send ``request`` as is and read until the server closes (or answers one response)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(request)
        out = b""
        while True:
            try:
                chunk = s.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            out += chunk
            if b"\r\n\r\n" in out and (b"content-length: 0" in out.lower() or out.endswith(b"\n")):
                break
        return out


def _status(raw: bytes) -> int:
    m = re.match(rb"HTTP/1\.[01] (\d{3})", raw)
    assert m, raw[:200]
    return int(m.group(1))


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    return silent_wav(tmp_path / "proj" / "clips" / "a.wav")


@pytest.fixture
def bridge(clip: Path):
    with ListenBridge([clip.parent.parent], port=0) as b:
        yield b


@pytest.mark.parametrize("host", ["[::1]evil", "127.0.0.1:1@evil", "evil.example", "127.0.0.1:99999",
                                  "localhost.evil.example", "127.0.0.1:1:2", ""])
def test_malformed_or_foreign_host_headers_are_refused(bridge: ListenBridge, host: str) -> None:
    raw = _raw(bridge.port, f"GET /?t={bridge.token} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
    assert _status(raw) in (400, 403)


def test_a_duplicate_host_header_is_refused(bridge: ListenBridge) -> None:
    req = f"GET /?t={bridge.token} HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n"
    assert _status(_raw(bridge.port, req.encode())) in (400, 403)
    req = f"GET /?t={bridge.token} HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    assert _status(_raw(bridge.port, req.encode())) in (400, 403)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost:9000", "[::1]:9877", "LOCALHOST"])
def test_loopback_host_headers_are_served(bridge: ListenBridge, host: str) -> None:
    raw = _raw(bridge.port, f"GET /?t={bridge.token} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
    assert _status(raw) == 200


@pytest.mark.parametrize("body", [b'{"seq": "x"}', b'{"currentTime": "soon"}', b'{"paused": "no"}', b"[1, 2]",
                                  b'{"seq": 1, "error": {"a": 1}}', b"\xff\xfe", b"{not json", b'{"duration": NaN}',
                                  b'{"seq": true}'])
def test_mistyped_state_reports_answer_400(bridge: ListenBridge, body: bytes) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", bridge.port, timeout=5)
    conn.request("POST", f"/state?t={bridge.token}", body=body, headers={"Content-Type": "application/json"})
    r = conn.getresponse()
    assert r.status == 400 and r.read().startswith(b"bad state")
    # the connection is still good for the next report
    conn.request("POST", f"/state?t={bridge.token}", body=b'{"seq": 2, "paused": false, "currentTime": 0.5}')
    r = conn.getresponse()
    r.read()
    assert r.status == 204 and bridge.state.seq == 2 and not bridge.state.paused
    conn.close()


def test_every_answer_says_nosniff_and_no_store(bridge: ListenBridge, clip: Path) -> None:
    for path in ["/", f"/?t={bridge.token}", f"/missing?t={bridge.token}", bridge.url_for(clip),
                 f"/files/0/../x.wav?t={bridge.token}"]:
        conn = http.client.HTTPConnection("127.0.0.1", bridge.port, timeout=5)
        conn.request("GET", path)
        r = conn.getresponse()
        r.read()
        assert r.getheader("X-Content-Type-Options") == "nosniff", path
        assert r.getheader("Cache-Control") == "no-store", path
        conn.close()


@pytest.mark.slow
def test_a_half_sent_request_is_closed_after_the_request_timeout(clip: Path) -> None:
    with ListenBridge([clip.parent], port=0, limits=BridgeLimits(request_timeout=0.5)) as b:
        for partial in (b"GET /?t=", f"POST /state?t={b.token} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                        "Content-Length: 100\r\n\r\n{".encode(), b""):
            with socket.create_connection(("127.0.0.1", b.port), timeout=10) as s:
                s.sendall(partial)
                started = time.monotonic()
                while s.recv(1024):  # until the server closes the connection
                    pass
                assert time.monotonic() - started < 9, "the server kept a half-sent request open"
        # and it still serves whole requests
        conn = http.client.HTTPConnection("127.0.0.1", b.port, timeout=5)
        conn.request("GET", f"/?t={b.token}")
        assert conn.getresponse().status == 200


def test_many_simultaneous_downloads_all_finish(bridge: ListenBridge, clip: Path) -> None:
    """200 clients connect at once (the old backlog of 5 left half of them hanging)."""
    data = clip.read_bytes()
    url = bridge.url_for(clip)
    socks = [socket.create_connection(("127.0.0.1", bridge.port), timeout=30) for _ in range(200)]
    results: list[bytes] = [b""] * len(socks)

    def fetch(i: int) -> None:
        s = socks[i]
        s.sendall(f"GET {url} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
        out = b""
        while chunk := s.recv(65536):
            out += chunk
        results[i] = out
        s.close()

    threads = [threading.Thread(target=fetch, args=(i,)) for i in range(len(socks))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert all(r.startswith(b"HTTP/1.1 200") and r.endswith(data) for r in results)


def test_connections_beyond_the_limit_get_503_not_a_hang(clip: Path) -> None:
    with ListenBridge([clip.parent], port=0, limits=BridgeLimits(max_connections=3, request_timeout=30)) as b:
        idle = [socket.create_connection(("127.0.0.1", b.port), timeout=5) for _ in range(3)]
        time.sleep(0.2)
        raw = _raw(b.port, f"GET /?t={b.token} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
        assert _status(raw) == 503
        for s in idle:
            s.close()
        time.sleep(0.2)
        raw = _raw(b.port, f"GET /?t={b.token} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
        assert _status(raw) == 200


def test_a_non_loopback_address_is_refused_unless_allowed(clip: Path) -> None:
    with pytest.raises(BridgeError, match="listen_allow_remote"):
        ListenBridge([clip.parent], host="0.0.0.0", port=0).start()
    with ListenBridge([clip.parent], host="0.0.0.0", port=0, allow_remote=True) as b:
        assert b.warning and "0.0.0.0" in b.warning
        ok = _raw(b.port, f"GET /?t={b.token} HTTP/1.1\r\nHost: 10.1.2.3:{b.port}\r\nConnection: close\r\n\r\n".encode())
        assert _status(ok) == 200  # an IP literal cannot come from DNS rebinding
        bad = _raw(b.port, f"GET /?t={b.token} HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n".encode())
        assert _status(bad) == 403
    with ListenBridge([clip.parent], host="127.0.0.1", port=0, allow_remote=True) as b:
        assert b.warning is None


@pytest.mark.parametrize("port", [99999, -1, 65536])
def test_ports_out_of_range_are_a_named_error(port: int) -> None:
    with pytest.raises(BridgeError, match="not a TCP port"):
        ListenBridge([], port=port)


def test_the_token_is_kept_per_workspace(tmp_path: Path) -> None:
    home = tmp_path / "home"
    first = workspace_token(home)
    assert workspace_token(home) == first
    path = home / "listen.token"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    renewed = workspace_token(home, renew=True)
    assert renewed != first and workspace_token(home) == renewed
    path.write_bytes(b"\xff broken")
    repaired = workspace_token(home)
    assert repaired not in (renewed, "") and workspace_token(home) == repaired


def test_ssh_hint_names_the_server_address_not_localhost() -> None:
    env = {"SSH_CONNECTION": "203.0.113.9 50000 198.51.100.7 22", "USER": "me"}
    loopback = {"localhost": {"127.0.0.1"}, "gpu-box": {"198.51.100.7"}, "elsewhere": {"10.9.9.9"}}
    resolve = lambda name: loopback.get(name, set())
    assert ssh_forward_hint(9877, env, hostname="localhost", resolve=resolve).endswith("@198.51.100.7")
    assert ssh_forward_hint(9877, env, hostname="gpu-box", resolve=resolve).endswith("@gpu-box")
    assert ssh_forward_hint(9877, env, hostname="elsewhere", resolve=resolve).endswith("@198.51.100.7")
    # reached through a local tunnel (server address is loopback): a name that resolves elsewhere wins
    assert ssh_target_host("127.0.0.1", "elsewhere", resolve) == "elsewhere"
    assert ssh_target_host("127.0.0.1", "localhost", resolve) == "127.0.0.1"
    hint = ssh_forward_hint(9877, env)  # the real resolver never yields "@localhost"
    assert hint is not None and not hint.endswith("@localhost")


def _gsv(args: list[str], env_extra: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    env = {**os.environ, **env_extra, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "backend.cli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, cwd=cwd)


@pytest.mark.slow
def test_gsv_listen_without_project_serves_only_the_named_files(tmp_path: Path) -> None:
    folder = tmp_path / "here"
    named = silent_wav(folder / "take.wav")
    silent_wav(folder / "private.wav")
    home = tmp_path / "home"
    proc = _gsv(["--home", str(home), "listen", "--port", "0", str(named)], {}, folder)
    try:
        line = proc.stdout.readline()
        m = re.search(r"http://127\.0\.0\.1:(\d+)/\?t=(\S+)", line)
        assert m, line + proc.stderr.read()
        port, token = int(m.group(1)), m.group(2)
        assert token == workspace_token(home)  # the workspace's stored token: open tabs survive a restart
        def get(path: str) -> int:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", f"{path}?t={token}")
            r = conn.getresponse()
            r.read()
            return r.status
        assert get("/files/0/take.wav") == 200
        assert get("/files/0/private.wav") == 403 and get("/files/0/../here/private.wav") == 403
        assert get("/files/1/private.wav") == 403
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.mark.slow
def test_gsv_listen_with_nothing_named_serves_nothing(tmp_path: Path) -> None:
    silent_wav(tmp_path / "private.wav")
    proc = _gsv(["--home", str(tmp_path / "home"), "listen", "--port", "0"], {}, tmp_path)
    try:
        line = proc.stdout.readline()
        m = re.search(r"http://127\.0\.0\.1:(\d+)/\?t=(\S+)", line)
        assert m, line
        assert "serving no audio" in proc.stdout.readline()
        conn = http.client.HTTPConnection("127.0.0.1", int(m.group(1)), timeout=5)
        conn.request("GET", f"/files/0/private.wav?t={m.group(2)}")
        assert conn.getresponse().status == 403
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.mark.parametrize("port", ["99999", "-1"])
def test_gsv_listen_port_out_of_range_is_a_named_error(tmp_path: Path, port: str) -> None:
    proc = _gsv(["--home", str(tmp_path / "home"), "listen", "--port", port], {}, tmp_path)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and "not a TCP port" in err and "Traceback" not in err


@pytest.mark.slow
def test_gsv_listen_refuses_a_non_loopback_config_and_warns_when_allowed(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('listen_host = "0.0.0.0"\n', encoding="utf-8")
    env = {"GSV_CONFIG": str(config)}
    proc = _gsv(["--home", str(tmp_path / "home"), "listen", "--port", "0"], env, tmp_path)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and "listen_allow_remote = true" in err and "Traceback" not in err
    config.write_text('listen_host = "0.0.0.0"\nlisten_allow_remote = true\n', encoding="utf-8")
    proc = _gsv(["--home", str(tmp_path / "home"), "listen", "--port", "0"], env, tmp_path)
    try:
        assert "listening bridge: open http://0.0.0.0:" in proc.stdout.readline()
        assert "warning" in proc.stderr.readline()
    finally:
        proc.terminate()
        proc.wait(10)
