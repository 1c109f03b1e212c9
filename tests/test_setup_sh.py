"""``setup.sh`` run for real against a stand-in virtual environment whose ``python`` and ``gsv-tui``
only write down how they were called: which set-ups reinstall the project, and with which extras."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

RECORDER = """#!/bin/sh
echo "$(basename "$0") $*" >> "$GSV_TEST_CALLS"
exit 0
"""


def _checkout(tmp_path: Path) -> tuple[Path, Path, Path]:
    root = tmp_path / "checkout"
    root.mkdir()
    shutil.copy(REPO / "setup.sh", root / "setup.sh")
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    for name in ("python", "gsv-tui"):
        tool = venv / "bin" / name
        tool.write_text(RECORDER, encoding="utf-8")
        tool.chmod(tool.stat().st_mode | stat.S_IXUSR)
    return root, venv, tmp_path / "calls.txt"


def _setup(root: Path, venv: Path, calls: Path, *args: str) -> list[str]:
    before = calls.read_text(encoding="utf-8").splitlines() if calls.exists() else []
    env = {**os.environ, "GSV_VENV": str(venv), "GSV_TEST_CALLS": str(calls)}
    r = subprocess.run(["bash", str(root / "setup.sh"), *args], env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return calls.read_text(encoding="utf-8").splitlines()[len(before):]


def _installs(lines: list[str]) -> list[str]:
    return [line for line in lines if " pip install" in line]


def test_tui_after_test_reinstalls_nothing_and_a_changed_list_keeps_the_extras(tmp_path: Path) -> None:
    root, venv, calls = _checkout(tmp_path)
    [install] = _installs(_setup(root, venv, calls, "test"))
    assert install.endswith(f"-e {root}[test]")
    lines = _setup(root, venv, calls, "tui", "--project", "x")
    assert _installs(lines) == []  # the test extras hold all the TUI needs
    assert lines[-1] == "gsv-tui --project x"
    assert _installs(_setup(root, venv, calls, "test")) == []
    with open(root / "pyproject.toml", "a", encoding="utf-8") as f:
        f.write("\n# a changed dependency list\n")
    [install] = _installs(_setup(root, venv, calls, "tui"))
    assert install.endswith(f"-e {root}[test]")  # reinstalled, the extras installed before kept


def test_a_plain_setup_then_test_adds_the_test_extras_once(tmp_path: Path) -> None:
    root, venv, calls = _checkout(tmp_path)
    [install] = _installs(_setup(root, venv, calls))
    assert install.endswith(f"-e {root}")
    assert _installs(_setup(root, venv, calls, "tui")) == []
    [install] = _installs(_setup(root, venv, calls, "test"))
    assert install.endswith(f"-e {root}[test]")
    assert _installs(_setup(root, venv, calls, "test")) == []
