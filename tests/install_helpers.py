"""Throwaway environments and tiny wheels for the runner-install tests, made offline.

The install runs the real pip into a virtual environment the test creates, from wheels the test
writes into a folder (``--no-index --find-links``), so neither this environment nor the network is
touched. Three wheels stand for the real packages: a runner that declares a dependency nobody can
provide (as audio-separator declares onnx-weekly), and a dependency of ours that needs one more
package (pip must resolve it).
"""

from __future__ import annotations

import base64
import hashlib
import subprocess
import sys
import zipfile
from pathlib import Path

RUNNER = "gsv-probe-runner==1.0"
DEP = "gsv-probe-dep==1.0"
SUBDEP = "gsv-probe-subdep"
ABSENT = "gsv-probe-never-published"


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def write_wheel(folder: Path, name: str, version: str = "1.0", requires: tuple[str, ...] = ()) -> Path:
    """A pure-Python wheel ``name`` whose module (``name`` with underscores) holds its version."""
    module = name.replace("-", "_")
    dist = f"{module}-{version}.dist-info"
    files = {
        f"{module}/__init__.py": f"VERSION = {version!r}\n".encode(),
        f"{dist}/METADATA": ("Metadata-Version: 2.1\n" f"Name: {name}\n" f"Version: {version}\n"
                             + "".join(f"Requires-Dist: {r}\n" for r in requires)).encode(),
        f"{dist}/WHEEL": b"Wheel-Version: 1.0\nGenerator: gsv-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = "\n".join(_record_line(n, d) for n, d in files.items()) + f"\n{dist}/RECORD,,\n"
    path = folder / f"{module}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as z:
        for n, d in files.items():
            z.writestr(n, d)
        z.writestr(f"{dist}/RECORD", record)
    return path


def write_wheels(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    write_wheel(folder, "gsv-probe-runner", requires=(ABSENT,))
    write_wheel(folder, "gsv-probe-dep", requires=(SUBDEP,))
    write_wheel(folder, SUBDEP)
    return folder


def make_venv(where: Path, with_pip: bool = True) -> Path:
    """A new virtual environment; its interpreter. pip comes from the base interpreter's site
    packages when it has one (fast), else from ensurepip."""
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", "--without-pip", *(["--system-site-packages"] if with_pip else []),
                    str(where)], check=True)
    python = where / "bin" / "python"
    if with_pip and subprocess.run([str(python), "-c", "import pip"], capture_output=True).returncode != 0:
        subprocess.run([str(python), "-m", "ensurepip", "--default-pip"], check=True, capture_output=True)
    return python


def site_packages(python: Path) -> Path:
    out = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                         capture_output=True, text=True, check=True)
    return Path(out.stdout.strip())


def has(python: Path, module: str) -> bool:
    return subprocess.run([str(python), "-c", f"import {module}"], capture_output=True).returncode == 0
