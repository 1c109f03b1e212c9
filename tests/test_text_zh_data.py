"""Frontend data: the shared copy has the published checksums; fetching verifies and resumes.

Fetching runs against a loopback HTTP server serving a copy of the official files (tests
never reach the network).
"""

from __future__ import annotations

import hashlib
import http.server
import shutil
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
from hub_helpers import loopback
from text_records import frontend_data_or_skip

from backend.text import data
from backend.text.data import (
    OFFICIAL_FILES,
    DataFile,
    FrontendDataChecksumError,
    FrontendDataMissingError,
    fetch_official_files,
    fetch_optional_files,
)

SMALL = tuple(f for f in OFFICIAL_FILES if f.size < 10_000)


def test_data_folder_files_have_the_published_checksums() -> None:
    frontend_data_or_skip()
    for item in OFFICIAL_FILES:
        path = data.locate(item.name)
        payload = path.read_bytes()
        assert len(payload) == item.size, item.name
        assert item.digest == f"sha256:{hashlib.sha256(payload).hexdigest()}", item.name


def test_missing_file_names_the_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(data.ENV_VAR, str(tmp_path))
    with pytest.raises(FrontendDataMissingError) as caught:
        data.locate("opencpop-strict.txt")
    assert "--fetch-data" in caught.value.fix


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    requests: list[str] = []

    def log_message(self, *args: object) -> None:
        type(self).requests.append(self.path)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    frontend_data_or_skip()
    root = tmp_path / "served"
    for item in SMALL:
        target = root / "GPT_SoVITS" / "text" / item.official_path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(data.locate(item.name), target)
    _QuietHandler.requests = []
    with loopback(partial(_QuietHandler, directory=str(root))) as server:
        yield server.url, root


def test_fetch_verifies_reports_progress_and_skips_good_files(server, tmp_path: Path) -> None:
    url, _ = server
    target = tmp_path / "cache"
    seen: list[tuple[str, int, int]] = []
    paths = fetch_official_files(target, lambda *a: seen.append(a), SMALL, base_url=url)
    assert [p.name for p in paths] == [Path(f.name).name for f in SMALL]
    for item in SMALL:
        assert item.check(target / item.name) is None
    assert {name for name, _, _ in seen} == {f.name for f in SMALL}
    assert all(done <= total for _, done, total in seen)
    before = len(_QuietHandler.requests)
    fetch_official_files(target, None, SMALL, base_url=url)
    assert len(_QuietHandler.requests) == before  # nothing downloaded again


def test_tampered_download_is_refused_and_not_written(server, tmp_path: Path) -> None:
    url, root = server
    item = SMALL[0]
    served = root / "GPT_SoVITS" / "text" / item.official_path
    served.write_bytes(served.read_bytes() + b"tampered")
    with pytest.raises(FrontendDataChecksumError):
        fetch_official_files(tmp_path / "cache", None, (item,), base_url=url)
    assert not (tmp_path / "cache" / item.name).exists()


def test_unreachable_server_is_a_clear_error(server, tmp_path: Path) -> None:
    url, _ = server
    bogus = DataFile("nope.txt", "does/not/exist.txt", 1, "sha256:" + "0" * 64)
    with pytest.raises(FrontendDataMissingError) as caught:
        fetch_official_files(tmp_path / "cache", None, (bogus,), base_url=url)
    assert caught.value.fix


def test_optional_files_are_where_the_frontend_looks_and_verified_by_their_published_digests(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The user dictionary (checked by its git object id) and the full language-ID model (by MD5)
    are fetched with the rest; once there, the frontend and ``gsv doctor`` use them. The served
    files stand in for the real ones (the pinned digests themselves can only be checked online)."""
    import subprocess

    from backend import doctor
    from backend.text.data import JA_USER_DICTIONARY, LANGID_MODEL, OPTIONAL_FILES
    from backend.text.japanese import USER_DICT_CSV
    from backend.text.langsplit import FULL_MODEL_NAME, full_model

    assert {f.name for f in OPTIONAL_FILES} == {USER_DICT_CSV, FULL_MODEL_NAME}
    root = tmp_path / "served"
    csv = root / "GPT_SoVITS" / "text" / JA_USER_DICTIONARY.official_path
    csv.parent.mkdir(parents=True)
    csv.write_text("ｎａｎｏｋａ,,,1,名詞,一般,*,*,*,*,ｎａｎｏｋａ,ナノカ,ナノカ,0/3,*\n", encoding="utf-8")
    lid = root / "lid.176.bin"
    lid.write_bytes(b"a language-ID model" * 1000)
    blob = subprocess.run(["git", "hash-object", str(csv)], capture_output=True, text=True, check=True).stdout.strip()
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")  # downloads on, from the loopback server
    with loopback(partial(_QuietHandler, directory=str(root))) as server:
        url = server.url
        files = (DataFile(JA_USER_DICTIONARY.name, JA_USER_DICTIONARY.official_path, None, f"gitblob:{blob}"),
                 DataFile(LANGID_MODEL.name, "", None, f"md5:{hashlib.md5(lid.read_bytes()).hexdigest()}",
                          url=f"{url}/lid.176.bin"))
        target = tmp_path / "data"
        seen: list[tuple[str, int, int | None]] = []
        here, problems = fetch_optional_files(target, lambda *a: seen.append(a), files, base_url=url)
    assert here == [target / USER_DICT_CSV, target / FULL_MODEL_NAME] and problems == []
    assert (target / USER_DICT_CSV).read_bytes() == csv.read_bytes()
    assert seen[-1] == (LANGID_MODEL.name, lid.stat().st_size, lid.stat().st_size)
    monkeypatch.setenv(data.ENV_VAR, str(target))
    assert full_model() == target / FULL_MODEL_NAME
    assert doctor.check_langid().status == doctor.OK and doctor.check_user_dictionary().status == doctor.OK
    monkeypatch.setenv(data.ENV_VAR, str(tmp_path / "empty"))
    missing = doctor.check_user_dictionary()
    assert missing.status == doctor.WARN and missing.fix == "gsv g2p --fetch-data"



def test_optional_files_are_kept_as_they_are_and_their_failures_are_only_reported(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The user dictionary is the user's to edit (as in the official): a fetch never replaces it.
    A missing optional file that cannot be had is a reason in the answer, not an error; offline,
    nothing is tried."""
    from backend.text.data import JA_USER_DICTIONARY, LANGID_MODEL

    edited = tmp_path / JA_USER_DICTIONARY.name
    edited.parent.mkdir(parents=True)
    edited.write_text("ｇｓｖ,,,1,名詞,一般,*,*,*,*,ｇｓｖ,ジーエスブイ,ジーエスブイ,0/6,*\n", encoding="utf-8")
    missing = DataFile(LANGID_MODEL.name, "", None, LANGID_MODEL.digest, url="http://127.0.0.1:9/lid.176.bin")
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    here, problems = fetch_optional_files(tmp_path, None, (JA_USER_DICTIONARY, missing))
    assert here == [edited] and "ジーエスブイ" in edited.read_text(encoding="utf-8")
    assert len(problems) == 1 and "lid.176.bin" in problems[0] and "--fetch-data" in problems[0]
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    _, problems = fetch_optional_files(tmp_path, None, (missing,))
    assert "HF_HUB_OFFLINE" in problems[0]
