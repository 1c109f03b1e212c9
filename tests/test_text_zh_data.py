"""Frontend data: the shared copy has the published checksums; fetching verifies and resumes.

Fetching runs against a loopback HTTP server serving a copy of the official files (tests
never reach the network).
"""

from __future__ import annotations

import hashlib
import http.server
import shutil
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
from text_records import frontend_data_or_skip

from backend.text import data
from backend.text.data import (
    OFFICIAL_FILES,
    DataFile,
    FrontendDataChecksumError,
    FrontendDataMissingError,
    fetch_official_files,
)

SMALL = tuple(f for f in OFFICIAL_FILES if f.size < 10_000)


def test_data_folder_files_have_the_published_checksums() -> None:
    frontend_data_or_skip()
    for item in OFFICIAL_FILES:
        path = data.locate(item.name)
        payload = path.read_bytes()
        assert len(payload) == item.size, item.name
        assert hashlib.sha256(payload).hexdigest() == item.sha256, item.name


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
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                            partial(_QuietHandler, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", root
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_fetch_verifies_reports_progress_and_skips_good_files(server, tmp_path: Path) -> None:
    url, _ = server
    target = tmp_path / "cache"
    seen: list[tuple[str, int, int]] = []
    paths = fetch_official_files(target, lambda *a: seen.append(a), SMALL, base_url=url)
    assert [p.name for p in paths] == [Path(f.name).name for f in SMALL]
    for item in SMALL:
        assert hashlib.sha256((target / item.name).read_bytes()).hexdigest() == item.sha256
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
    bogus = DataFile("nope.txt", "does/not/exist.txt", 1, "0" * 64)
    with pytest.raises(FrontendDataMissingError) as caught:
        fetch_official_files(tmp_path / "cache", None, (bogus,), base_url=url)
    assert caught.value.fix
