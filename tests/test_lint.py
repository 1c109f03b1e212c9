"""The linters run with the tests, so CI runs them: ruff (pyflakes, pycodestyle errors, import
sorting, bugbear) and mypy over backend/ and gsv_tui/, as configured in pyproject.toml."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _tool(module: str) -> list[str]:
    try:
        __import__(module)
    except ImportError:
        pytest.skip(f"{module} is not installed (it comes with the [test] extras)")
    return [sys.executable, "-m", module]


def test_ruff_finds_nothing() -> None:
    r = subprocess.run([*_tool("ruff"), "check", "--no-cache", "backend", "gsv_tui", "tests", "bench"],
                       cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.slow  # a minute or more without its cache (.mypy_cache, kept between runs)
def test_mypy_finds_nothing() -> None:
    r = subprocess.run(_tool("mypy"), cwd=ROOT, capture_output=True, text=True, timeout=1200)
    assert r.returncode == 0, r.stdout + r.stderr
