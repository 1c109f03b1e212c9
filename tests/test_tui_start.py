"""Start-up of the real ``gsv-tui``: light imports, a clean terminal, the entry point in a pty."""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from backend.workspace import Workspace

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "transformers", "funasr", "faster_whisper", "ctranslate2")


def run_py(code: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout,
                          cwd=REPO, env=dict(os.environ))


@pytest.mark.slow
def test_starting_the_app_imports_no_heavy_library(tmp_path: Path) -> None:
    """Import the app, mount it, let the job watcher read the store: still no torch & co."""
    Workspace(tmp_path / "home").create_project("alice")
    code = f"""
import asyncio, json, sys
from pathlib import Path
from gsv_tui.app import GsvApp
from backend.app import Application
after_import = sorted(m for m in {HEAVY!r} if m in sys.modules)
async def main():
    app = GsvApp(Application.from_args(home=Path({str(tmp_path / 'home')!r})), project="alice", watch_interval=0.05)
    async with app.run_test(size=(80, 24)) as pilot:
        for _ in range(200):
            if app._watcher is not None and app._watcher._last is not None and app.jobs_problem is None:
                break
            await pilot.pause(0.05)
        for key in "23451":
            await pilot.press(key)
        await pilot.pause()
asyncio.run(main())
print(json.dumps({{"after_import": after_import,
                  "after_run": sorted(m for m in {HEAVY!r} if m in sys.modules),
                  "watcher_ran": "backend.jobs.manager" in sys.modules}}))
"""
    r = run_py(code)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["watcher_ran"]
    assert out["after_import"] == [] and out["after_run"] == [], out


def test_library_output_goes_to_the_log_not_the_terminal(tmp_path: Path) -> None:
    log = tmp_path / "logs" / "tui.log"
    code = f"""
import os, sys, warnings
from pathlib import Path
from gsv_tui.quiet import terminal_only
with terminal_only(Path({str(log)!r})):
    os.write(1, b"C-level stdout noise\\n")
    os.write(2, b"C-level stderr noise\\n")
    print("python print noise")
    warnings.warn("a library warning")
    sys.__stderr__.write("frame for the terminal\\n"); sys.__stderr__.flush()
print("back on stdout")
os.write(2, b"back on stderr\\n")
"""
    r = run_py(code)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "back on stdout\n"
    assert r.stderr == "frame for the terminal\nback on stderr\n"
    text = log.read_text(encoding="utf-8")
    for noise in ("C-level stdout noise", "C-level stderr noise", "python print noise", "a library warning"):
        assert noise in text


def test_a_path_that_is_not_a_list_is_refused() -> None:
    r = subprocess.run([sys.executable, "-m", "gsv_tui", "notes.txt"], capture_output=True, text=True,
                       timeout=60, cwd=REPO, env=dict(os.environ))
    assert r.returncode == 2
    assert "is not a .list file" in r.stderr and "fix:" in r.stderr


def _read_until(fd: int, needle: bytes, timeout: float) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while needle not in seen:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"{needle!r} not seen; got {seen[-2000:]!r}")
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                seen += os.read(fd, 65536)
            except OSError:
                break
    return seen


def _run_in_pty(code: str, args: list[str], until: bytes | None, send: bytes = b"",
                timeout: float = 60) -> tuple[int, bytes]:
    """Run ``python -c code ARGS`` in a pseudo-terminal; optionally wait for ``until``, then type
    ``send``. Returns (exit code, everything the terminal received)."""
    pid, fd = pty.fork()
    if pid == 0:  # the child
        os.environ.update({"COLUMNS": "80", "LINES": "24", "TERM": "xterm-256color"})
        os.chdir(REPO)
        os.execv(sys.executable, [sys.executable, "-c", code, *args])
    seen = b""
    try:
        if until is not None:
            seen = _read_until(fd, until, timeout=timeout)
            time.sleep(0.3)
        deadline = time.monotonic() + timeout
        next_send = 0.0
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if send and time.monotonic() >= next_send:  # again every few s: a busy CI box may be
                os.write(fd, send)  # slow to start reading keys
                next_send = time.monotonic() + 3.0
            if time.monotonic() > deadline:
                raise AssertionError(f"the program did not end; screen so far: {seen[-2000:]!r}")
            ready, _, _ = select.select([fd], [], [], 0.05)
            if ready:
                try:
                    seen += os.read(fd, 65536)  # keep the pty drained
                except OSError:
                    pass
        while True:  # what is left after exit
            ready, _, _ = select.select([fd], [], [], 0.1)
            if not ready:
                break
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
        return os.waitstatus_to_exitcode(status), seen
    finally:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.close(fd)


MAIN = "import sys; from gsv_tui.__main__ import main; sys.exit(main(sys.argv[1:]))"


@pytest.mark.slow
def test_gsv_tui_runs_in_a_terminal_and_quits(tmp_path: Path) -> None:
    """The entry point in a real pseudo-terminal: draws, opens the project, quits on ctrl+q (a
    plain q would be text: Dataset opens with its path field focused)."""
    home = tmp_path / "home"
    Workspace(home).create_project("alice")
    code, _ = _run_in_pty(MAIN, ["--home", str(home), "--project", "alice"], until=b"alice", send=b"\x11")
    assert code == 0
    assert (home / "logs" / "tui.log").exists()
    assert json.loads((home / "tui-state.json").read_text(encoding="utf-8")) == {"last_project": "alice"}


@pytest.mark.slow
def test_a_crash_is_shown_after_the_screen_is_restored(tmp_path: Path) -> None:
    """Library output goes to the log while the app runs; a crash must still reach the person."""
    home = tmp_path / "home"
    Workspace(home).create_project("alice")
    crash = ("import sys\n"
             "from gsv_tui.screens.dataset import DatasetScreen\n"
             "def broken(self):\n"
             "    raise RuntimeError('dataset screen broke on purpose')\n"
             "DatasetScreen.on_mount = broken\n" + MAIN.replace("; ", "\n"))
    code, seen = _run_in_pty(crash, ["--home", str(home), "--project", "alice"], until=None)
    assert code == 1
    text = seen.decode("utf-8", errors="replace")
    assert "dataset screen broke on purpose" in text
    assert "gsv-tui: stopped on an error (exit 1); the full log is" in text
    assert "dataset screen broke on purpose" in (home / "logs" / "tui.log").read_text(encoding="utf-8")
