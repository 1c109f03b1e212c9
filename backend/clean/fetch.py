"""Where the cleaning models live and how they are fetched.

The models folder is ``$GSV_CLEAN_MODELS_DIR``, else ``<workspace>/models/clean`` (``--models-dir``
overrides both). Pointing it at an official install's ``tools/uvr5/uvr5_weights`` reuses its VR
files. Hub files go through :func:`backend.pretrained.download_verified` (resumed, size/SHA-256
checked); the few models published only as release assets are fetched over HTTP with the same
rules: byte progress, resume from a ``.part`` file, nothing half-written left under the real name,
and ``HF_HUB_OFFLINE=1`` means no network at all, only a named error with the command to run.

A folder may also describe models of the user's own in ``models.json`` (a list of objects with
the fields of :class:`~backend.clean.catalogue.CleanModel`; ``filename`` instead of ``source``):
they are offered like the catalogue's, and are never downloaded.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..download import DownloadError, download_resumable
from ..errors import GsvError
from ..pretrained import ProgressFn, download_verified, offline
from ..workspace import default_home
from .catalogue import ARCHS, STEPS, CleanModel, Source

LOCAL_MODELS_FILE = "models.json"
FETCH_COMMAND = "gsv models fetch --clean"


class MissingCleanModelError(GsvError):
    """A cleaning model's file is not in the models folder."""


class CleanModelDownloadError(GsvError):
    """Fetching a cleaning model failed."""


def models_dir(override: Path | None = None, home: Path | None = None) -> Path:
    """``override``, else ``$GSV_CLEAN_MODELS_DIR``, else ``<home or the workspace>/models/clean``."""
    if override is not None:
        return Path(override).expanduser()
    env = os.environ.get("GSV_CLEAN_MODELS_DIR")
    return Path(env).expanduser() if env else (Path(home) if home else default_home()) / "models" / "clean"


def local_models(directory: Path) -> tuple[CleanModel, ...]:
    """The user's own models described in ``<directory>/models.json`` (empty if none)."""
    path = directory / LOCAL_MODELS_FILE
    if not path.is_file():
        return ()
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
        out = []
        for row in rows:
            row = dict(row)
            row["source"] = Source(row.pop("filename"))
            row.setdefault("about", "a model of your own (models.json)")
            m = CleanModel(**row)
            if m.step not in STEPS or m.arch not in ARCHS:
                raise ValueError(f"{m.name}: step must be one of {STEPS} and arch one of {ARCHS}")
            out.append(m)
        return tuple(out)
    except (ValueError, TypeError, KeyError) as e:
        raise GsvError(f"{path} cannot be read: {e}",
                       "fix the file (a JSON list of {name, step, arch, filename, keep, config|model_data})") from e


def locate(model: CleanModel, directory: Path) -> Path | None:
    p = directory / model.filename
    return p if p.is_file() else None


def require(models: list[CleanModel], directory: Path) -> None:
    missing = [m for m in models if locate(m, directory) is None]
    if missing:
        names = ", ".join(f"{m.name} ({m.filename})" for m in missing)
        fix = f"run `{FETCH_COMMAND} {' '.join(m.name for m in missing)}`"
        if offline():
            fix += " (HF_HUB_OFFLINE is set: unset it first, or copy the files into " + str(directory) + ")"
        raise MissingCleanModelError(f"cleaning model files missing from {directory}: {names}", fix)


def fetch(models: list[CleanModel], directory: Path, on_progress: ProgressFn | None = None) -> list[Path]:
    """Download what is missing; returns every model's path."""
    directory.mkdir(parents=True, exist_ok=True)
    out = []
    for m in models:
        have = locate(m, directory)
        if have is None:
            have = _download(m.source, directory, on_progress)
        out.append(have)
    return out


def _download(src: Source, directory: Path, on_progress: ProgressFn | None) -> Path:
    if src.hf_repo and src.hf_path:
        got = download_verified(src.hf_repo, src.hf_path, directory / ".hub", on_progress)
        dest = directory / src.filename
        os.replace(got, dest)  # verified whole; the runner finds models by their bare name
        return dest
    if src.url:
        return _download_url(src.url, directory / src.filename, on_progress)
    raise MissingCleanModelError(f"{src.filename} is a model of your own and has no download source",
                                 f"copy it into {directory}")


def _download_url(url: str, dest: Path, on_progress: ProgressFn | None) -> Path:
    """A release asset over HTTP, resumed from ``<dest>.part``; renamed into place only when whole."""
    if offline():
        raise CleanModelDownloadError(f"{dest.name} is missing and HF_HUB_OFFLINE is set",
                                      f"unset HF_HUB_OFFLINE and run `{FETCH_COMMAND}`, or copy the file to {dest}")
    try:
        return download_resumable(url, dest, on_progress)
    except DownloadError as e:
        raise CleanModelDownloadError(f"could not download {dest.name}: {e}",
                                      f"check the network and run `{FETCH_COMMAND}` again; it resumes") from e


def describe(models: list[CleanModel], directory: Path) -> list[dict[str, Any]]:
    return [{"name": m.name, "step": m.step, "arch": m.arch, "file": m.filename,
             "here": locate(m, directory) is not None, "about": m.about} for m in models]


def fetch_named(names: list[str], on_progress: ProgressFn | None = None,
                directory: Path | None = None) -> list[Path]:
    """``gsv models fetch --clean [NAME...]``: the named models, or each step's default."""
    from .catalogue import DEFAULTS, lookup

    d = models_dir(directory)
    own = local_models(d)
    chosen = [lookup(n, None, own) for n in names] if names else [lookup(n) for n in DEFAULTS.values()]
    return fetch(chosen, d, on_progress)
