"""The Inference screen's Serve action at 80x24: a real ``serve`` job on the tiny models for the
open project, its address, bound socket and curl line on screen, a real HTTP request that shows
up in the request log, then the same key stops it (outcome cancelled, port released)."""

from __future__ import annotations

import asyncio
import shutil
import socket
from pathlib import Path

import httpx
import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from infer_helpers import GPT, make_pretrained_dir, write_voice
from serve_helpers import free_port
from text_records import frontend_data_or_skip
from tui_helpers import SIZE, make_app, screen_text, wait_until

from backend.workspace import Workspace
from gsv_tui.screens.inference import InferenceScreen
from gsv_tui.widgets.serve_panel import ServePanel


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Project alice (en, v2): one GPT export, the SoVITS base from the tiny pretrained folder, and
    a reference chosen in review."""
    monkeypatch.setenv("GSV_PRETRAINED_DIR", str(make_pretrained_dir(tmp_path / "pretrained")))
    monkeypatch.setenv("GSV_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    ws = Workspace(tmp_path / "home")
    project = ws.create_project("alice", language="en", version="v2")
    export = project.gpt_weights_dir("v2") / "alice-e3.ckpt"
    export.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(GPT, export)
    ref = write_voice(project.clips_dir / "ref.wav", 4.0, seed=3)
    project.settings["reference"] = {"audio_path": str(ref), "text": "A short sentence.", "language": "en"}
    project.save()
    return ws.root


async def test_serve_starts_answers_logs_outlives_the_tui_and_stops(home: Path) -> None:
    frontend_data_or_skip()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    job_id: str | None = None
    try:
        app = make_app(home, project="alice")
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("4")
            screen = app.screen
            assert isinstance(screen, InferenceScreen)
            assert not screen.query_one(ServePanel).display  # nothing served yet
            screen.serve_port = port
            await pilot.press("ctrl+o")
            await wait_until(pilot, lambda: screen.serve_job_id is not None, what="serve job submitted")
            job_id = screen.serve_job_id
            await wait_until(pilot, lambda: url in screen_text(app) or "stopped" in screen_text(app),
                             timeout=240, what="the server's address")
            shown = screen_text(app)
            assert url in shown and f"bound 127.0.0.1:{port}" in shown, shown
            assert f"curl -o out.wav '{url}/tts?text=Hello%20there.&text_lang=en'" in shown, shown

            reply = await asyncio.to_thread(
                httpx.get, f"{url}/tts", params={"text": "Hello there.", "text_lang": "en"}, timeout=240)
            assert reply.status_code == 200 and reply.content[:4] == b"RIFF"  # the project's reference
            await wait_until(pilot, lambda: "GET /tts 200" in screen_text(app), what="the request in the log")

        # the TUI is gone, the server is not; a new TUI shows it again and stops it
        assert (await asyncio.to_thread(httpx.get, f"{url}/health", timeout=30)).status_code == 200
        app = make_app(home, project="alice")
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("4")
            again = app.screen
            assert isinstance(again, InferenceScreen)
            await wait_until(pilot, lambda: again.serve_job_id == job_id and "GET /tts 200" in screen_text(app),
                             what="the running server and its log")
            await pilot.press("ctrl+o")
            await wait_until(pilot, lambda: "stopped (cancelled" in screen_text(app), timeout=60,
                             what="the server stopped")
    finally:
        if job_id is not None and app.application.jobs.get(job_id).state != "finished":
            app.application.cancel(job_id)
    assert job_id is not None
    job = app.application.jobs.get(job_id)
    assert (job.stage, job.project, job.outcome) == ("serve", "alice", "cancelled")
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))  # released
