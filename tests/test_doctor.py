"""``gsv doctor``: each check names what it found and the fix; a broken setting fails the run."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _doctor(tmp_path: Path, *args: str, config: str = "") -> subprocess.CompletedProcess[str]:
    (tmp_path / "config.toml").write_text(config, encoding="utf-8")
    env = {**os.environ, "GSV_HOME": str(tmp_path / "home"), "GSV_CONFIG": str(tmp_path / "config.toml"),
           "GSV_PRETRAINED_DIR": str(tmp_path / "pretrained"), "HF_HOME": str(tmp_path / "hf"),
           "HF_HUB_CACHE": str(tmp_path / "hf" / "hub"), "MODELSCOPE_CACHE": str(tmp_path / "ms"),
           "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "backend.cli", "doctor", *args], capture_output=True, text=True,
                          timeout=120, cwd=ROOT, env=env)


@pytest.mark.slow
def test_a_fresh_machine_is_ready_with_downloads_pending(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "backend.cli", "--home", str(tmp_path / "home"), "project", "create",
                    "ann", "--version", "v1"], check=True, capture_output=True, cwd=ROOT)
    r = _doctor(tmp_path, "--json")
    assert r.returncode == 0, r.stderr
    checks = {c["name"]: c for c in json.loads(r.stdout)}
    assert checks["settings"]["status"] == "ok" and checks["workspace"]["status"] in ("ok", "warn")
    assert "GB free" in checks["workspace"]["detail"]
    assert checks["base v1"]["status"] == "warn" and "gsv fetch-models v1" in checks["base v1"]["fix"]
    assert "base v2Pro" not in checks  # only the versions the projects use
    assert checks["asr whisper"]["status"] == "warn" and "hf download" in checks["asr whisper"]["fix"]
    assert checks["jobs"]["detail"].startswith("0 jobs")
    assert any(name == "gpu" or name.startswith("gpu ") for name in checks)
    assert {"cpu", "text data", "g2pw", "listen port", "asr funasr"} <= set(checks)
    assert checks["g2pw"]["status"] == "warn" and "gsv models fetch v2" in checks["g2pw"]["fix"]
    assert checks["langid"]["status"] == "warn" and "lid.176.bin" in checks["langid"]["fix"]


@pytest.mark.slow
def test_a_broken_setting_fails_with_its_fix(tmp_path: Path) -> None:
    r = _doctor(tmp_path, config="listen_port = 80\n")
    assert r.returncode == 1
    assert "FAIL  settings" in r.stdout and "listen_port" in r.stdout and "fix:" in r.stdout
    assert "stop work here" in r.stderr


@pytest.mark.slow
def test_a_taken_listening_port_is_named(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]  # an ephemeral port: always >= 1024, as the setting requires
        r = _doctor(tmp_path, "--json", config=f"listen_port = {port}\n")
    check = {c["name"]: c for c in json.loads(r.stdout)}["listen port"]
    assert check["status"] == "warn" and "in use" in check["detail"] and "listen_port" in check["fix"]
