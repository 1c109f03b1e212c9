"""Official pretrained base models: which files each version needs, where they are, fetching them.

Every file lives in the HuggingFace repository ``lj1995/GPT-SoVITS`` under the same relative
name the official install uses in ``GPT_SoVITS/pretrained_models/``. We keep them either in
the HuggingFace cache (default; shared with other tools) or in a chosen folder with the
official layout (``--dir`` or ``$GSV_PRETRAINED_DIR`` — pointing it at an official install's
``pretrained_models`` reuses its files). ``HF_HUB_OFFLINE=1`` is honoured: nothing is
downloaded and a missing file is a :class:`MissingPretrainedError` naming the command that
fetches it. Downloads resume (huggingface_hub keeps ``.incomplete`` files), report byte
progress, and are verified against the hub's size and SHA-256.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .download import ProgressFn, file_digest, offline
from .errors import GsvError

REPO_ID = "lj1995/GPT-SoVITS"
VERSIONS = ("v1", "v2", "v2Pro", "v2ProPlus")
ROLES = ("hubert", "bert", "s1", "s2G", "s2D", "sv")


class PretrainedError(GsvError):
    """A pretrained base model is unavailable or damaged."""


class MissingPretrainedError(PretrainedError):
    """A needed pretrained file is not on this machine."""


class PretrainedDownloadError(PretrainedError):
    """Fetching a pretrained file failed (offline, network, or verification)."""


@dataclass(frozen=True)
class PretrainedFile:
    """One file of the hub repository and what it is for."""

    role: str  # hubert | bert | s1 | s2G | s2D | sv
    path: str  # relative name in the repo and in pretrained_models/


HUBERT = tuple(PretrainedFile("hubert", f"chinese-hubert-base/{n}")
               for n in ("config.json", "preprocessor_config.json", "pytorch_model.bin"))
BERT = tuple(PretrainedFile("bert", f"chinese-roberta-wwm-ext-large/{n}")
             for n in ("config.json", "tokenizer.json", "pytorch_model.bin"))
SV = (PretrainedFile("sv", "sv/pretrained_eres2netv2w24s4ep4.ckpt"),)
# The G2PW polyphone model (v2 and later read Chinese with it): an archive in another hub
# repository, unpacked into the text frontend's data folder by ``gsv models fetch``.
G2PW_HF_REPO = "XXXXRT/GPT-SoVITS-Pretrained"
G2PW_HF_FILE = "G2PWModel.zip"

_PER_VERSION: dict[str, tuple[PretrainedFile, ...]] = {
    "v1": (PretrainedFile("s1", "s1bert25hz-2kh-longer-epoch=68e-step=50232.ckpt"),
           PretrainedFile("s2G", "s2G488k.pth"), PretrainedFile("s2D", "s2D488k.pth")),
    "v2": (PretrainedFile("s1", "gsv-v2final-pretrained/s1bert25hz-5kh-longer-epoch=12-step=369668.ckpt"),
           PretrainedFile("s2G", "gsv-v2final-pretrained/s2G2333k.pth"),
           PretrainedFile("s2D", "gsv-v2final-pretrained/s2D2333k.pth")),
    "v2Pro": (PretrainedFile("s1", "s1v3.ckpt"), PretrainedFile("s2G", "v2Pro/s2Gv2Pro.pth"),
              PretrainedFile("s2D", "v2Pro/s2Dv2Pro.pth"), *SV),
    "v2ProPlus": (PretrainedFile("s1", "s1v3.ckpt"), PretrainedFile("s2G", "v2Pro/s2Gv2ProPlus.pth"),
                  PretrainedFile("s2D", "v2Pro/s2Dv2ProPlus.pth"), *SV),
}


def files_for(version: str, roles: Iterable[str] | None = None) -> tuple[PretrainedFile, ...]:
    """Every file a version needs (HuBERT, RoBERTa, its GPT and SoVITS bases, SV for Pro)."""
    if version not in _PER_VERSION:
        raise PretrainedError(f"unknown model version {version!r}", fix=f"use one of {', '.join(VERSIONS)}")
    files = (*HUBERT, *BERT, *_PER_VERSION[version])
    if roles is not None:
        wanted = set(roles)
        files = tuple(f for f in files if f.role in wanted)
    return files


def default_dir() -> Path | None:
    d = os.environ.get("GSV_PRETRAINED_DIR")
    return Path(d).expanduser() if d else None


def copy_hint(path: str, directory: Path | None = None) -> str:
    """Where a person copies a file by hand (no network): the folder in use, else how to name one."""
    directory = directory if directory is not None else default_dir()
    if directory is not None:
        return f"copy it to {directory / path}"
    return f"set GSV_PRETRAINED_DIR to a copy of an official pretrained_models folder (with {path})"


def fetch_command(version: str, directory: Path | None = None) -> str:
    return f"gsv models fetch {version}" + (f" --dir {directory}" if directory else "")


def locate(file: PretrainedFile, directory: Path | None = None) -> Path | None:
    """Where the file is on this machine, or None. Never touches the network."""
    directory = directory if directory is not None else default_dir()
    if directory is not None:
        p = directory / file.path
        return p if p.is_file() else None
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(REPO_ID, file.path)
    return Path(found) if isinstance(found, str) and Path(found).is_file() else None


def status(version: str, directory: Path | None = None) -> list[tuple[PretrainedFile, Path | None]]:
    return [(f, locate(f, directory)) for f in files_for(version)]


def require(version: str, roles: Iterable[str], directory: Path | None = None) -> dict[str, Path]:
    """Paths of the files with these roles (a folder for hubert/bert); named error if any is missing."""
    out: dict[str, Path] = {}
    missing: list[str] = []
    for f in files_for(version, roles):
        p = locate(f, directory)
        if p is None:
            missing.append(f.path)
            continue
        out[f.role] = p.parent if f.role in ("hubert", "bert") else p
    if missing:
        raise MissingPretrainedError(
            f"pretrained {version} files missing: {', '.join(missing)}",
            fix=f"run `{fetch_command(version, directory)}`" + (" (HF_HUB_OFFLINE is set: unset it first)"
                                                                  if offline() else "")
                + f"; or, without the network, {copy_hint(missing[0], directory)}")
    return out




def progress_to(reporter: Any) -> ProgressFn:
    """A ``fetch`` progress callback that emits job ``progress`` events (bytes, labelled by file)."""

    def report(name: str, done: int, total: int | None) -> None:
        reporter.progress(done, total, unit="bytes", label=name)

    return report


def reporting_tqdm(label: str, on_progress: ProgressFn | None):
    """A tqdm class for huggingface_hub downloads that hands ``(label, done, total)`` to
    ``on_progress`` instead of drawing a bar. It counts for itself: a disabled tqdm does not."""
    from tqdm.auto import tqdm

    class _Progress(tqdm):  # type: ignore[misc, valid-type]
        def __init__(self, *a: Any, **kw: Any) -> None:
            kw["disable"] = on_progress is not None or kw.get("disable", False)
            super().__init__(*a, **kw)
            self._done = 0

        def update(self, n: int | float | None = 1) -> bool | None:
            r = super().update(n)
            self._done += int(n or 0)
            if on_progress is not None:
                on_progress(label, self._done, int(self.total) if self.total else None)
            return r

    return _Progress


def fetch(version: str, directory: Path | None = None, roles: Iterable[str] | None = None,
          on_progress: ProgressFn | None = None, endpoint: str | None = None) -> dict[str, Path]:
    """Download what is missing for ``version``; returns every file's path (keyed by repo path)."""
    directory = directory if directory is not None else default_dir()
    paths: dict[str, Path] = {}
    for f in files_for(version, roles):
        have = locate(f, directory)
        paths[f.path] = have if have is not None else download_verified(REPO_ID, f.path, directory, on_progress,
                                                                        endpoint)
    return paths


def download_verified(repo: str, path: str, directory: Path | None = None, on_progress: ProgressFn | None = None,
                      endpoint: str | None = None) -> Path:
    """One file of a hub repository into ``directory`` (None: the HF cache), resumed if partial,
    checked against the hub's size and SHA-256; a damaged download is removed, never kept."""
    from huggingface_hub import get_hf_file_metadata, hf_hub_download, hf_hub_url

    if offline():
        raise PretrainedDownloadError(f"{path} is missing and HF_HUB_OFFLINE is set",
                                      fix=f"unset HF_HUB_OFFLINE and fetch again; or {copy_hint(path, directory)}")
    try:
        meta = get_hf_file_metadata(hf_hub_url(repo, path, endpoint=endpoint))
        got = Path(hf_hub_download(repo, path, local_dir=directory, endpoint=endpoint,
                                   tqdm_class=reporting_tqdm(path, on_progress)))
    except Exception as e:  # network, auth, disk: one named error with the cause
        raise PretrainedDownloadError(f"could not download {path} from {repo}: {e}",
                                      fix="check the network (or HF_ENDPOINT for a mirror) and run the fetch again; "
                                          "finished files are kept") from e
    problem = None
    if meta.size is not None and got.stat().st_size != meta.size:
        problem = f"size {got.stat().st_size} != {meta.size} on the hub"
    etag = (meta.etag or "").strip('"')
    if problem is None and len(etag) == 64 and all(c in "0123456789abcdef" for c in etag) \
            and file_digest(got, "sha256") != etag:
        problem = "SHA-256 does not match the hub"
    if problem is not None:
        got.unlink(missing_ok=True)  # a damaged download is never left where a loader would find it
        raise PretrainedDownloadError(f"{path}: {problem}; the damaged download was removed",
                                      fix="fetch again (a proxy or mirror may be altering files)")
    return got
