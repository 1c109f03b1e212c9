"""Installing the cleaning runner: the declared list, the check that finds it, and the
``install-cleaner`` job running the real pip into a throwaway environment from wheels made here
(``--no-index --find-links``: no network, and neither this environment nor CI's is touched)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from install_helpers import ABSENT, DEP, RUNNER, SUBDEP, has, make_venv, write_wheels

from backend.clean import install
from backend.stages.install_cleaner import Params


def test_the_declared_install_holds_torch_and_numpy_and_skips_the_runners_own_dependencies(tmp_path: Path) -> None:
    keep = install.installed_versions(Path(sys.executable))
    assert set(keep) == {"torch", "numpy"}  # this environment has both: both are pinned
    (deps, top) = install.pip_commands(Path(sys.executable), tmp_path / "keep.txt")
    assert deps[deps.index("-c") + 1] == str(tmp_path / "keep.txt") == top[top.index("-c") + 1]
    assert "--no-deps" not in deps and deps[-len(install.RUNNER_DEPS):] == list(install.RUNNER_DEPS)
    assert top[-2:] == ["--no-deps", "audio-separator==0.47.1"]
    names = " ".join(install.requirements())
    for left_out in ("onnx", "torchvision", "diffq", "julius"):  # see the module's reasons
        assert left_out not in names.replace("samplerate", "")
    assert "samplerate>=0.2.1" in install.RUNNER_DEPS  # the wheels that carry libsamplerate


def test_missing_reads_installed_versions() -> None:
    import pytest as installed

    have = installed.__version__
    assert install.missing([f"pytest=={have}", "pytest<1", "gsv-surely-not-installed"]) == [
        "pytest<1", "gsv-surely-not-installed"]


def test_install_job_runs_pip_into_the_target_without_the_runners_declared_dependencies(tmp_path: Path, jm) -> None:  # noqa: ANN001
    wheels = write_wheels(tmp_path / "wheels")
    python = make_venv(tmp_path / "env")
    params = Params(python=python, requirements=[DEP], no_deps=[RUNNER], find_links=[wheels], no_index=True)
    done = jm.wait(jm.submit("install-cleaner", params).id, timeout=180)
    assert done.outcome == "succeeded", done.reason
    for module in ("gsv_probe_runner", "gsv_probe_dep", SUBDEP.replace("-", "_")):
        assert has(python, module), module  # the dependency's own dependency was resolved
    assert not has(python, ABSENT.replace("-", "_"))  # the runner's declared one was not asked for
    events = [json.loads(line) for line in done.events_path.read_text().splitlines()]
    said = [e["text"] for e in events if e["kind"] == "message"]
    assert any(t.startswith("Successfully installed gsv-probe-dep") for t in said), said
    assert any(t.startswith("Successfully installed gsv-probe-runner") for t in said), said
    assert not has(Path(sys.executable), "gsv_probe_runner")  # this environment untouched


def test_a_failed_install_fails_the_job_with_pips_reason(tmp_path: Path, jm) -> None:  # noqa: ANN001
    wheels = write_wheels(tmp_path / "wheels")
    python = make_venv(tmp_path / "env")
    # Resolved the ordinary way, the runner's impossible dependency stops pip: the reason must say so.
    params = Params(python=python, requirements=[RUNNER], no_deps=[], find_links=[wheels], no_index=True)
    done = jm.wait(jm.submit("install-cleaner", params).id, timeout=180)
    assert done.outcome == "failed"
    assert "pip could not install the cleaning runner" in done.reason and ABSENT in done.reason


def test_refused_without_pip_or_interpreter(tmp_path: Path) -> None:
    bare = make_venv(tmp_path / "bare", with_pip=False)
    with pytest.raises(install.RunnerInstallError, match="pip is not installed") as e:
        install.check_target(bare)
    assert "ensurepip" in (e.value.fix or "")
    with pytest.raises(install.RunnerInstallError, match="no Python interpreter"):
        install.check_target(tmp_path / "nowhere" / "python")


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere: a read-only environment needs another user")
def test_refused_when_the_environment_is_not_writable(tmp_path: Path) -> None:
    python = make_venv(tmp_path / "env")
    from install_helpers import site_packages

    site = site_packages(python)
    site.chmod(0o555)
    try:
        with pytest.raises(install.RunnerInstallError, match="not writable"):
            install.check_target(python)
    finally:
        site.chmod(0o755)


def test_pips_lines_become_byte_progress_and_messages(capsys: pytest.CaptureFixture[str]) -> None:
    # Lines as pip 26 prints them with --progress-bar raw (copied from a real download).
    from backend.progress import Reporter
    from backend.stages.install_cleaner import _PipLines

    report, events = Reporter.collect()
    feed = _PipLines(report)
    for line in ("Collecting samplerate>=0.2.1",
                 "  Downloading samplerate-0.2.4-cp311-cp311-manylinux_2_28_x86_64.whl (1.5 MB)",
                 "Progress 0 of 1476007", "Progress 1476007 of 1476007",
                 "Requirement already satisfied: numpy in ./lib/python3.11/site-packages (2.4.6)",
                 "Successfully installed samplerate-0.2.4"):
        feed(line)
    progress = [(e["done"], e["total"], e["label"]) for e in events if e["kind"] == "progress"]
    assert progress == [(0, 1476007, "samplerate-0.2.4-cp311-cp311-manylinux_2_28_x86_64.whl"),
                        (1476007, 1476007, "samplerate-0.2.4-cp311-cp311-manylinux_2_28_x86_64.whl")]
    said = [e["text"] for e in events if e["kind"] == "message"]
    assert said[0] == "Collecting samplerate>=0.2.1" and said[-1] == "Successfully installed samplerate-0.2.4"
    assert "numpy" in capsys.readouterr().err  # the rest goes to the job's log only
