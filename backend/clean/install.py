"""Installing the separation runner (audio-separator) into an environment: what, and how.

This module is the one declaration of the runner's install. ``./setup.sh test`` runs it (``python
-m backend.clean.install``), ``gsv install-cleaner`` and the Clean panel's key run it as a job
(:mod:`backend.stages.install_cleaner`), and :func:`missing` is how everything decides that the
runner is there.

Why not ``pip install audio-separator``: its declared dependencies pull ``onnx-weekly`` (a
development build whose files overwrite those of an installed ``onnx``), ``onnx2torch`` with
``torchvision`` (the registry's build does not load beside a CPU build of torch), Demucs's
``diffq``/``julius``, and ``samplerate==0.1.0`` (which needs the system's libsamplerate). What
the runner really imports for the families we use — Roformer and MDX23C on torch, VR on torch
with librosa's resamplers — is much less. So the runner goes in with ``--no-deps``, after the
short list below is installed the ordinary way (pip resolves their own dependencies), with
torch and numpy held at their installed versions by a constraints file.

Left out: MDX (ONNX) models, which import ``onnx2torch`` and so ``torchvision`` at load time
(:data:`MDX_EXTRA` says what they need); Demucs, which the catalogue does not offer.
"""

from __future__ import annotations

import argparse
import importlib
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from ..errors import GsvError

RUNNER: tuple[str, ...] = ("audio-separator==0.47.1",)
"""Installed with ``--no-deps``: its declared dependencies are replaced by :data:`RUNNER_DEPS`."""

RUNNER_DEPS: tuple[str, ...] = (
    "beartype>=0.18.5,<0.19",  # Roformer networks (the runner's own bounds)
    "einops>=0.7",  # Roformer and MDX23C
    "rotary-embedding-torch>=0.6.1,<0.7",  # Roformer and MDX23C
    "ml_collections",  # MDX23C settings
    "pydub>=0.25",  # imported by every architecture module (we never have it write mp3)
    "resampy>=0.4",  # VR multi-band models: librosa's kaiser_fast resampling of the top band
    "samplerate>=0.2.1",  # VR: librosa's sinc resampling; 0.2 wheels carry libsamplerate inside
)
"""Installed the ordinary way (their own dependencies resolved). The rest the runner imports
(librosa, scipy, onnxruntime, soundfile, requests, PyYAML, tqdm, six, packaging) comes with
gsv-tui's own dependencies."""

MDX_EXTRA: tuple[str, ...] = ("onnx", "onnx2torch-py313", "torchvision")
"""What an MDX (ONNX) model of one's own needs on top: a torchvision built for the torch in use."""

KEEP = ("torch", "numpy")
"""Never changed by the install: pinned to the installed versions through a constraints file."""

INSTALL_COMMAND = "gsv install-cleaner"


class RunnerInstallError(GsvError):
    """The runner cannot be installed into this environment."""


def requirements() -> tuple[str, ...]:
    """Everything the install puts in place, dependencies first."""
    return (*RUNNER_DEPS, *RUNNER)


def missing(reqs: Sequence[str] | None = None) -> list[str]:
    """The requirements (default: :func:`requirements`) not satisfied in this interpreter.

    Read from the installed packages' metadata, after dropping the import system's caches, so a
    package installed by another process a moment ago is seen without a restart.
    """
    from importlib.metadata import PackageNotFoundError, version

    from packaging.requirements import Requirement

    importlib.invalidate_caches()
    out = []
    for text in requirements() if reqs is None else reqs:
        req = Requirement(text)
        try:
            have = version(req.name)
        except PackageNotFoundError:
            out.append(text)
            continue
        if req.specifier and not req.specifier.contains(have, prereleases=True):
            out.append(text)
    return out


def check_target(python: Path) -> str:
    """Refuse, with the reason, an interpreter we cannot install into: missing, without pip, or
    whose environment is not writable. Returns its pip's version."""
    if not Path(python).is_file():
        raise RunnerInstallError(f"no Python interpreter at {python}", "name an existing interpreter")
    probe = ("import sysconfig\nfrom importlib.metadata import version, PackageNotFoundError\n"
             "print(sysconfig.get_paths()['purelib'])\n"
             "try: print(version('pip'))\nexcept PackageNotFoundError: print('')\n")
    try:
        got = subprocess.run([str(python), "-c", probe], capture_output=True, text=True, timeout=60, check=True)
        purelib, pip_version = got.stdout.split("\n")[:2]
    except (OSError, subprocess.SubprocessError, ValueError) as e:
        raise RunnerInstallError(f"cannot run {python} ({e})", "check the interpreter") from e
    if not pip_version.strip():
        raise RunnerInstallError(f"pip is not installed for {python}",
                                 f"install it (`{python} -m ensurepip` or your system's python3-pip), then try again")
    site = Path(purelib.strip())
    existing = site
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not os.access(existing, os.W_OK):
        raise RunnerInstallError(f"this environment is not writable ({site})",
                                 "run gsv from a virtual environment you own (./setup.sh makes one), "
                                 "or install as the environment's owner")
    return pip_version.strip()


def _raw_progress(pip_version: str) -> bool:
    """pip prints ``Progress N of M`` lines (``--progress-bar raw``) from 24.1 on."""
    from packaging.version import InvalidVersion, Version

    try:
        return Version(pip_version) >= Version("24.1")
    except InvalidVersion:
        return False


def installed_versions(python: Path, names: Sequence[str] = KEEP) -> dict[str, str]:
    """``name -> version`` of ``names`` installed for ``python`` (absent ones left out)."""
    code = ("import sys\nfrom importlib.metadata import version, PackageNotFoundError\n"
            "for n in sys.argv[1:]:\n    try: print(n, version(n))\n    except PackageNotFoundError: pass\n")
    got = subprocess.run([str(python), "-c", code, *names], capture_output=True, text=True, timeout=60)
    return dict(line.split(" ", 1) for line in got.stdout.splitlines() if " " in line)


def pip_commands(python: Path, constraints: Path, reqs: Sequence[str] | None = None,
                 no_deps: Sequence[str] | None = None, find_links: Sequence[Path] = (),
                 no_index: bool = False, raw_progress: bool = True) -> list[list[str]]:
    """The pip runs of an install: the dependencies resolved, then the runner alone (``--no-deps``)."""
    base = [str(python), "-m", "pip", "install", "--disable-pip-version-check",
            *(["--progress-bar", "raw"] if raw_progress else []), "-c", str(constraints)]
    base += [f"--find-links={d}" for d in find_links] + (["--no-index"] if no_index else [])
    deps = list(RUNNER_DEPS if reqs is None else reqs)
    top = list(RUNNER if no_deps is None else no_deps)
    return ([base + deps] if deps else []) + ([base + ["--no-deps"] + top] if top else [])


LineFn = Callable[[str], None]


def install(python: Path | None = None, reqs: Sequence[str] | None = None, no_deps: Sequence[str] | None = None,
            find_links: Sequence[Path] = (), no_index: bool = False, on_line: LineFn | None = None) -> None:
    """Run the install for ``python`` (default: this interpreter); every line pip prints goes to
    ``on_line``. A failed pip run is a :class:`RunnerInstallError` with pip's last words."""
    python = Path(python or sys.executable)
    raw = _raw_progress(check_target(python))
    keep = installed_versions(python)
    emit = on_line or (lambda line: print(line, flush=True))
    with tempfile.TemporaryDirectory(prefix="gsv-install-") as tmp:
        constraints = Path(tmp) / "keep.txt"
        constraints.write_text("".join(f"{n}=={v}\n" for n, v in keep.items()), encoding="utf-8")
        for argv in pip_commands(python, constraints, reqs, no_deps, find_links, no_index, raw):
            tail: list[str] = []
            proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                    env={**os.environ, "PYTHONUNBUFFERED": "1"})
            assert proc.stdout is not None
            for said in proc.stdout:
                line = said.rstrip()
                if line:
                    tail = (tail + [line])[-5:]
                    emit(line)
            if proc.wait() != 0:
                why = next((t for t in reversed(tail) if t.startswith("ERROR")), tail[-1] if tail else "no output")
                raise RunnerInstallError(f"pip could not install the cleaning runner: {why}",
                                         "read the job's log (`gsv jobs logs ID`); offline, point --find-links "
                                         "at a folder of the wheels and add --no-index")


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m backend.clean.install [--check]``: what ./setup.sh runs."""
    ap = argparse.ArgumentParser(prog="python -m backend.clean.install", description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="exit 1 when anything is missing, install nothing")
    args = ap.parse_args(argv)
    gone = missing()
    if args.check or not gone:
        if gone:
            print("cleaning runner: missing " + ", ".join(gone), file=sys.stderr)
        return 1 if gone else 0
    try:
        install(on_line=lambda line: None if line.startswith("Progress ") else print(line, flush=True))
    except GsvError as e:
        print(f"error: {e.message}\nfix: {e.fix}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
