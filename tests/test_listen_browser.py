"""End to end: a real headless Chromium opens the bridge page and obeys play/stop from the backend.

The page reports its <audio> element's state back to the bridge (the same reports the TUI uses
to show what is playing), so the assertions are on what the browser's audio element did.
Skipped when no Chromium is installed (.ci/run installs Debian's chromium package).
"""

from __future__ import annotations

import math
import shutil
import struct
import subprocess
import time
import wave
from pathlib import Path

import pytest

from backend.listen import ListenBridge

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium on this machine (apt-get install chromium)")


def _tone(path: Path, seconds: float = 4.0, rate: int = 32000) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / rate)))
                      for i in range(int(seconds * rate)))
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames)
    return path


def _wait(cond, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.05)
    return False


def test_browser_plays_and_stops(tmp_path: Path) -> None:
    clip = _tone(tmp_path / "proj" / "clips" / "tone.wav")
    with ListenBridge([tmp_path / "proj"], port=0) as bridge:
        browser = subprocess.Popen(
            [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--autoplay-policy=no-user-gesture-required", f"--user-data-dir={tmp_path / 'chrome'}",
             "--remote-debugging-port=0", bridge.url],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            assert _wait(lambda: bridge.listeners == 1, 60), "the page never connected"
            seq = bridge.play(clip, text="a tone", duration=4.0)
            state = bridge.wait_for_state(lambda s: s.seq == seq and not s.paused and s.current_time > 0, 30)
            assert state is not None, f"the page did not start the clip; last state {bridge.state}"
            assert state.error is None and state.duration == pytest.approx(4.0, abs=0.05)
            stop = bridge.stop()
            state = bridge.wait_for_state(lambda s: s.seq == stop and s.paused, 15)
            assert state is not None, f"the page did not stop; last state {bridge.state}"
        finally:
            browser.terminate()
            try:
                browser.wait(10)
            except subprocess.TimeoutExpired:
                browser.kill()
