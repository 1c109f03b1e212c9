"""Finding ASR models on disk, downloading them with progress, and naming what is missing."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

from .base import AsrModelMissing, offline

ProgressFn = Callable[[int, int | None, str], None]


def _tqdm_reporting(progress: ProgressFn | None, label: str) -> Any:
    """The base models' reporting tqdm, with this module's argument order (becomes job progress)."""
    from ..pretrained import reporting_tqdm

    return reporting_tqdm(label, lambda name, done, total: progress(done, total, name) if progress else None)


def _hf_fix(repos: list[str]) -> str:
    fetch = " && ".join(f"`hf download {r}`" for r in repos)
    return (f"on a machine with internet run {fetch} (it fills the Hugging Face cache), "
            "or give the path of a downloaded model folder")


def hf_local(repo: str) -> Path | None:
    """The cached snapshot of a Hugging Face repo, if there is one (never reaches the network)."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        return Path(snapshot_download(repo, local_files_only=True))
    except LocalEntryNotFoundError:
        return None


def hf_snapshot(repo: str, what: str, progress: ProgressFn | None = None,
                allow_patterns: list[str] | None = None) -> Path:
    """The local folder of a Hugging Face model repo, downloading it unless we are offline
    (``allow_patterns``: only the files a loader reads, e.g. a config and a tokenizer)."""
    from huggingface_hub import snapshot_download

    local = hf_local(repo)
    if local is not None:
        return local
    if offline():
        raise AsrModelMissing(f"{what} ({repo}) is not on this machine and downloads are off (HF_HUB_OFFLINE)",
                              _hf_fix([repo]))
    try:
        return Path(snapshot_download(repo, allow_patterns=allow_patterns,
                                      tqdm_class=_tqdm_reporting(progress, f"downloading {repo}")))
    except Exception as e:  # network errors come in many types
        raise AsrModelMissing(f"{what} ({repo}) could not be downloaded: {e}", _hf_fix([repo])) from None


def hf_snapshots(wanted: list[tuple[str, str]], progress: ProgressFn | None = None) -> list[Path]:
    """Local folders of several repos a model needs together (``(repo, what)`` pairs), in order.

    Offline, one error names every missing repo and every command, so a person on a machine
    without internet fetches them all in one trip instead of learning of the second one later.
    """
    missing = [(repo, what) for repo, what in wanted if hf_local(repo) is None]
    if missing and offline():
        names = ", ".join(f"{what} ({repo})" for repo, what in missing)
        raise AsrModelMissing(f"{names} {'is' if len(missing) == 1 else 'are'} not on this machine and downloads "
                              "are off (HF_HUB_OFFLINE)", _hf_fix([repo for repo, _ in missing]))
    return [hf_snapshot(repo, what, progress) for repo, what in wanted]


def modelscope_cache() -> Path:
    env = os.environ.get("MODELSCOPE_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "modelscope" / "hub"


def modelscope_local(repo: str) -> Path | None:
    """The cached folder of a ModelScope model (FunASR's own cache), if complete enough to load."""
    base = modelscope_cache()
    for cand in (base / "models" / repo, base / repo):
        if (cand / "config.yaml").is_file() or (cand / "configuration.json").is_file():
            return cand
    return None


def modelscope_model(repo: str, revision: str, what: str) -> str:
    """A local folder for a FunASR model when cached; the hub name when we may download."""
    local = modelscope_local(repo)
    if local is not None:
        return str(local)
    if offline():
        raise AsrModelMissing(
            f"{what} ({repo}) is not in the FunASR model cache ({modelscope_cache()}) and downloads are off",
            f"on a machine with internet run `modelscope download --model {repo} --revision {revision}`, "
            "or give the path of a downloaded model folder")
    return repo
