"""Which GPT/SoVITS weights can be chosen: the project's exports (by epoch) and the pretrained bases.

Exports follow the official names: SoVITS ``<exp>_e<epoch>_s<step>.pth`` in
``SoVITS_weights[_<ver>]/``, GPT ``<exp>-e<epoch>.ckpt`` in ``GPT_weights[_<ver>]/``. The
default for inference is the project's latest export (highest epoch, then newest file), else
the pretrained base model of the project's version. No torch here: the TUI lists these.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_SOVITS_EPOCH = re.compile(r"_e(\d+)(?:_s(\d+))?(?:_l\d+)?\.pth$")
_GPT_EPOCH = re.compile(r"-e(\d+)\.ckpt$")


@dataclass(frozen=True)
class WeightsOption:
    kind: str  # "gpt" | "sovits"
    path: Path
    label: str
    source: str  # "project" | "pretrained"
    epoch: int | None = None
    mtime: float = 0.0


def epoch_of(kind: str, name: str) -> int | None:
    """The epoch in an export's official file name (``x_e8_s120.pth``, ``x-e15.ckpt``), else None."""
    m = (_GPT_EPOCH if kind == "gpt" else _SOVITS_EPOCH).search(name)
    return int(m.group(1)) if m else None


WEIGHTS_SUFFIX = {"gpt": ".ckpt", "sovits": ".pth"}
"""What an export of each kind is called: the official GPT_weights*/SoVITS_weights* file types."""


def project_weights(project: Any, kind: str) -> list[WeightsOption]:
    """Exports of ``kind`` in the project's weight folders, latest first."""
    root = Path(project.weights_dir)
    if not root.is_dir():
        return []
    prefix, ext = ("GPT_weights" if kind == "gpt" else "SoVITS_weights"), WEIGHTS_SUFFIX[kind]
    found: list[WeightsOption] = []
    for folder in sorted(root.iterdir()):
        if not folder.is_dir() or not folder.name.startswith(prefix):
            continue
        for f in sorted(folder.glob(f"*{ext}")):
            epoch = epoch_of(kind, f.name)
            label = f"{f.name}" + (f" (epoch {epoch})" if epoch is not None else "")
            found.append(WeightsOption(kind, f, label, "project", epoch, f.stat().st_mtime))
    found.sort(key=lambda o: (o.epoch if o.epoch is not None else -1, o.mtime), reverse=True)
    return found


def pretrained_weights(version: str, kind: str) -> list[WeightsOption]:
    """The pretrained base model of ``kind`` for ``version``, when it is on this machine."""
    from backend import pretrained

    role = "s1" if kind == "gpt" else "s2G"
    try:
        files = pretrained.files_for(version, [role])
    except pretrained.PretrainedError:
        return []
    out = []
    for f in files:
        try:
            p = pretrained.locate(f)
        except Exception:  # noqa: BLE001 - a broken cache must not break listing
            p = None
        if p is not None:
            out.append(WeightsOption(kind, p, f"pretrained {version}: {f.path}", "pretrained"))
    return out


def choices(project: Any | None, kind: str, version: str | None = None) -> list[WeightsOption]:
    """Project exports (latest first), then the pretrained base model."""
    version = version or (project.version if project is not None else "v2")
    own = project_weights(project, kind) if project is not None else []
    return own + pretrained_weights(version, kind)


def default_weights(project: Any | None, kind: str, version: str | None = None) -> Path | None:
    """The latest project export of ``kind``, else the pretrained base; None when neither exists."""
    options = choices(project, kind, version)
    return options[0].path if options else None
