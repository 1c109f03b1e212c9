"""Where the text frontend's runtime data lives, and how it gets there.

The dictionaries the frontend reads (pinyin tables, polyphone dictionary, CMU dictionary, …)
are not shipped in the package: they are fetched once from the official repository at a
pinned commit, checked against SHA-256 sums, and kept in a cache folder. ``GSV_FRONTEND_DATA``
points somewhere else (CI points it at a read-only copy), so tests never download anything.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from backend.errors import GsvError
from backend.fsutil import atomic_write_bytes

ENV_VAR = "GSV_FRONTEND_DATA"
OFFICIAL_REPO = "RVC-Boss/GPT-SoVITS"
OFFICIAL_COMMIT = "48b1a0169a28582a8984402f82cf438d3bfa6aca"
OFFICIAL_BASE_URL = f"https://raw.githubusercontent.com/{OFFICIAL_REPO}/{OFFICIAL_COMMIT}"
FETCH_HINT = "download it with `gsv g2p --fetch-data`"


@dataclass(frozen=True)
class DataFile:
    """One file of the official repository that the frontend reads."""

    name: str  # path under the data folder
    official_path: str  # path under GPT_SoVITS/text/ in the official repository
    size: int
    sha256: str
    url: str | None = None  # a file from elsewhere (nltk's own data): its full address


OFFICIAL_FILES: tuple[DataFile, ...] = (
    DataFile("opencpop-strict.txt", "opencpop-strict.txt", 4084,
             "d66bbb1380a8ebf17d7ace5bf4b459f3728a469eea2aaeae2aeb3969b88223ff"),
    DataFile("g2pw/polyphonic.rep", "g2pw/polyphonic.rep", 1391,
             "a8f13e2004702cbbf01e2e3fe8436d9d620a0fe4d57176a844704619ffd5df5e"),
    DataFile("g2pw/polyphonic-fix.rep", "g2pw/polyphonic-fix.rep", 1660967,
             "bbfac0e43e5b1db56566e5eb8b147f7e9b57175e07ffe6303195ee6563682f6b"),
    DataFile("cmudict.rep", "cmudict.rep", 3731285,
             "0e601d017d6e6f958443d41cd8922b4cd7598b3ba2056253a33f3e5a35f38494"),
    DataFile("cmudict-fast.rep", "cmudict-fast.rep", 3613898,
             "53bfef0f27d7dd74d1ba74563d1e076d3e0672ce3596cb2d6c0d52ac9ad01f6d"),
    DataFile("engdict-hot.rep", "engdict-hot.rep", 75,
             "1c80418fe6fe5d537302ae67afd3612478997b35f2cf37cff52f959ed4334a71"),
    # English names; read with a code-refusing unpickler when no plain-text namedict.txt exists
    DataFile("namedict_cache.pickle", "namedict_cache.pickle", 760663,
             "559552094c4a6e995213e3fa586330e078ef8cb3a7a95a3109e945111cd2bfc1"),
    # nltk's English POS tagger (the official frontend tags words to pick homograph readings),
    # from nltk's own data repository, checksummed like the rest
    DataFile("nltk_data/taggers/averaged_perceptron_tagger_eng.zip", "", 1539115,
             "6025f530624335c67d6547d44757b357b4e79bae030a0383e9887a92c1718f0b",
             url="https://raw.githubusercontent.com/nltk/nltk_data/gh-pages/packages/taggers/"
                 "averaged_perceptron_tagger_eng.zip"),
    # nltk's CMU dictionary as the zip itself: g2pk2 (Korean) looks for exactly this file at
    # import and would otherwise start nltk's downloader
    DataFile("nltk_data/corpora/cmudict.zip", "", 896069,
             "d07cca47fd72ad32ea9d8ad1219f85301eeaf4568f8b6b73747506a71fb5afd6",
             url="https://raw.githubusercontent.com/nltk/nltk_data/gh-pages/packages/corpora/"
                 "cmudict.zip"),
)


class FrontendDataMissingError(GsvError):
    """A runtime data file of the text frontend is not where it should be."""


class FrontendDataChecksumError(GsvError):
    """A downloaded data file does not have the published checksum."""


def data_dir() -> Path:
    """The folder holding the frontend data: ``$GSV_FRONTEND_DATA`` or the user cache."""
    override = os.environ.get(ENV_VAR)
    if override:
        return Path(override)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("gsv-tui")) / "frontend-data"


def locate(name: str) -> Path:
    """Path of data file ``name`` (e.g. ``"opencpop-strict.txt"``); a clear error if absent."""
    path = data_dir() / name
    if not path.is_file():
        raise FrontendDataMissingError(
            f"text frontend data file {name!r} not found in {path.parent}",
            fix=f"{FETCH_HINT}, or set {ENV_VAR} to a folder holding it",
        )
    return path


def optional(name: str) -> Path | None:
    """Path of an optional data file or folder, or None when it is not there."""
    path = data_dir() / name
    return path if path.exists() else None


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


ProgressCallback = Callable[[str, int, int], None]
"""Called as (file name, bytes done, bytes total) while downloading."""


def _download(url: str, total: int, name: str, progress: ProgressCallback | None) -> bytes:
    import urllib.request

    chunks: list[bytes] = []
    done = 0
    with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 - fixed https URL
        while True:
            chunk = response.read(1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
            done += len(chunk)
            if progress:
                progress(name, done, total)
    return b"".join(chunks)


def fetch_official_files(
    target: Path | None = None,
    progress: ProgressCallback | None = None,
    files: tuple[DataFile, ...] = OFFICIAL_FILES,
    base_url: str = OFFICIAL_BASE_URL,
) -> list[Path]:
    """Download the official data files at the pinned commit into ``target``.

    Files already present with the right checksum are kept; each new file is verified before
    it is written (atomically), so an interrupted or tampered download never leaves a bad file.
    ``base_url`` is the repository root (``…/GPT_SoVITS/text/<path>`` is appended).
    """
    folder = target or data_dir()
    written: list[Path] = []
    for item in files:
        path = folder / item.name
        if path.is_file() and sha256_of(path.read_bytes()) == item.sha256:
            written.append(path)
            continue
        url = item.url or f"{base_url.rstrip('/')}/GPT_SoVITS/text/{item.official_path}"
        try:
            payload = _download(url, item.size, item.name, progress)
        except OSError as exc:
            raise FrontendDataMissingError(
                f"could not download {item.name} from {url}: {exc}",
                fix=f"check the network connection, or copy the file into {folder}",
            ) from exc
        digest = sha256_of(payload)
        if digest != item.sha256:
            raise FrontendDataChecksumError(
                f"{item.name}: checksum {digest} differs from the published {item.sha256}",
                fix="retry the download; if it persists the mirror serves a different file",
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, payload)
        written.append(path)
    return written
