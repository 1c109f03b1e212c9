"""The listening bridge inside the TUI: started with the app, shown in the status line, and the
player every screen puts first while a browser tab listens."""

from __future__ import annotations

import http.client
import os
import socket
import wave
from pathlib import Path

import pytest
from tui_helpers import SIZE, make_app, notices, screen_text, wait_until

from backend.workspace import Workspace
from gsv_tui.screens.listen import ListenScreen


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(f"listen_port = {_free_port()}\n", encoding="utf-8")
    monkeypatch.setenv("GSV_CONFIG", str(config))
    monkeypatch.setenv("SSH_CONNECTION", "10.0.0.2 50000 10.0.0.1 22")
    project = Workspace(tmp_path / "home").create_project("alice", language="en")
    with wave.open(str(project.clips_dir / "a.wav"), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(bytes(16000))
    return tmp_path / "home"


@pytest.mark.slow
async def test_bridge_starts_with_the_app_and_takes_over_playback(home: Path) -> None:
    app = make_app(home, project="alice", listen=True, watch_jobs=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.listening.bridge is not None, what="the bridge")
        bridge = app.listening.bridge
        assert app.playback_front() is None  # no tab yet: local playback
        await pilot.press("escape", "w")  # out of Dataset's path field first
        await wait_until(pilot, lambda: isinstance(app.screen, ListenScreen), what="the bridge screen")
        text = screen_text(app)
        assert f"?t={bridge.token}" in text and "ssh -L" in text and "no browser tab connected" in text

        conn = http.client.HTTPConnection("127.0.0.1", bridge.port, timeout=10)
        conn.request("GET", f"/events?t={bridge.token}")
        resp = conn.getresponse()
        assert resp.status == 200
        await wait_until(pilot, lambda: "1 browser tab listening" in screen_text(app), what="the listener")
        await pilot.press("escape")
        await wait_until(pilot, lambda: "♪ browser" in screen_text(app), what="the status line")

        player = app.playback_front()
        assert player is not None
        player.play(home / "projects" / "alice" / "clips" / "a.wav", 0.0, {"text": "hello"})
        seen = []
        while "play" not in seen:
            line = resp.fp.readline().decode()
            if line.startswith("event: "):
                seen.append(line[7:].strip())
        conn.close()


@pytest.mark.slow
async def test_review_playback_goes_to_the_browser_tab(home: Path) -> None:
    """Space on the Transcripts screen plays the clip in a connected tab, not on this machine."""
    project = home / "projects" / "alice"
    (project / "transcripts" / "clips.list").write_text(f"{project / 'clips' / 'a.wav'}|clips|EN|hello there",
                                                        encoding="utf-8")
    app = make_app(home, project="alice", listen=True, watch_jobs=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.listening.bridge is not None, what="the bridge")
        bridge = app.listening.bridge
        conn = http.client.HTTPConnection("127.0.0.1", bridge.port, timeout=10)
        conn.request("GET", f"/events?t={bridge.token}")
        resp = conn.getresponse()
        await wait_until(pilot, lambda: bridge.listeners == 1, what="the listener")
        await pilot.press("2")
        await wait_until(pilot, lambda: "hello there" in screen_text(app), what="the transcript")
        await pilot.press("space")
        event = None
        while event is None:
            line = resp.fp.readline().decode()
            if line.startswith("data: ") and '"url"' in line:
                event = line
        assert "a.wav" in event and "hello there" in event
        conn.close()


@pytest.mark.slow
async def test_the_token_survives_a_restart_and_n_renews_it(home: Path) -> None:
    """The workspace keeps its token, so an open tab's URL still works after the TUI restarts."""
    from backend.listen import workspace_token

    tokens = []
    for _ in range(2):
        run = make_app(home, project="alice", listen=True, watch_jobs=False)
        async with run.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda run=run: run.listening.bridge is not None, what="the bridge")
            tokens.append(run.listening.bridge.token)
    assert tokens[0] == tokens[1] == workspace_token(home)

    app = make_app(home, project="alice", listen=True, watch_jobs=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.listening.bridge is not None, what="the bridge")
        bridge = app.listening.bridge
        old = bridge.token
        await pilot.press("escape", "w")  # out of Dataset's path field first
        await wait_until(pilot, lambda: isinstance(app.screen, ListenScreen), what="the bridge screen")
        await pilot.press("n")
        await wait_until(pilot, lambda: bridge.token != old and f"?t={bridge.token}" in screen_text(app),
                         what="the new token on screen")
        assert workspace_token(home) == bridge.token
        conn = http.client.HTTPConnection("127.0.0.1", bridge.port, timeout=10)
        conn.request("GET", f"/?t={old}")
        r = conn.getresponse()
        r.read()
        assert r.status == 403
        conn.close()


@pytest.mark.slow
async def test_a_non_loopback_listen_host_leaves_the_bridge_off_with_the_reason(home: Path) -> None:
    config = Path(os.environ["GSV_CONFIG"])
    config.write_text(config.read_text(encoding="utf-8") + 'listen_host = "0.0.0.0"\n', encoding="utf-8")
    app = make_app(home, project="alice", listen=True, watch_jobs=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.listening.problem is not None, what="the refusal")
        assert app.listening.bridge is None
        await pilot.press("escape", "w")  # out of Dataset's path field first
        await wait_until(pilot, lambda: "listen_allow_remote = true" in screen_text(app), what="the reason")
        assert "bridge is off" in screen_text(app)


async def test_an_allowed_remote_address_warns_on_start(home: Path) -> None:
    config = Path(os.environ["GSV_CONFIG"])
    config.write_text(config.read_text(encoding="utf-8") + 'listen_host = "0.0.0.0"\nlisten_allow_remote = true\n',
                      encoding="utf-8")
    app = make_app(home, project="alice", listen=True, watch_jobs=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.listening.bridge is not None, what="the bridge")
        await wait_until(pilot, lambda: any("accepts connections from the network" in str(n.message)
                                            for n in notices(app)), what="the warning")
        await pilot.press("escape", "w")  # out of Dataset's path field first
        await wait_until(pilot, lambda: "⚠" in screen_text(app), what="the warning on the bridge screen")


def test_importing_the_app_leaves_the_server_stack_for_later() -> None:
    """FastAPI and uvicorn are imported when the bridge starts (off the event loop), not at start-up."""
    import subprocess
    import sys

    code = "import sys, gsv_tui.app; print(sorted(m for m in ('fastapi', 'uvicorn', 'starlette') if m in sys.modules))"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                       cwd=Path(__file__).resolve().parents[1])
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"
