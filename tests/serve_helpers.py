"""A real ``gsv serve`` for the tests: a subprocess on a free loopback port, on the tiny models.

The workspace's pretrained folder holds the tiny GPT/SoVITS/HuBERT/BERT under the official v2
names, so the server's defaults (and a project's voice) resolve as they would for a person.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RunningServe:
    proc: subprocess.Popen[bytes]
    url: str
    home: Path
    log: Path

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def serve_env(home: Path, pretrained: Path, config: Path) -> dict[str, str]:
    return {**os.environ, "GSV_HOME": str(home), "GSV_PRETRAINED_DIR": str(pretrained), "GSV_CONFIG": str(config),
            "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "OMP_NUM_THREADS": "1"}


def wait_ready(url: str, proc: subprocess.Popen[bytes] | None, log: Path, timeout: float = 180.0,
               headers: dict[str, str] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"gsv serve exited with {proc.returncode}:\n{log.read_text(errors='replace')}")
        try:
            if httpx.get(f"{url}/health", timeout=2, headers=headers).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"gsv serve did not answer within {timeout} s:\n{log.read_text(errors='replace')}")


def start_serve(home: Path, pretrained: Path, config: Path, *extra: str) -> RunningServe:
    port = free_port()
    log = home / f"serve-{port}.log"
    home.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "backend.cli", "--home", str(home), "serve", "--now", "--port", str(port),
           "--max-seconds", "0.5",
           "--allow-pypinyin", *extra]  # the tiny models speak Chinese; no G2PW model in tests
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT,
                                env=serve_env(home, pretrained, config))
    url = f"http://127.0.0.1:{port}"
    wait_ready(url, proc, log)
    return RunningServe(proc, url, home, log)
