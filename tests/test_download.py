"""The resumable download: a cut connection leaves a ``.part`` file that the next attempt continues
with a Range request; a file the caller's check refuses never takes the real name.

A loopback server that honours ``Range`` and can be told to hang up half-way stands in for the
network (tests never reach it).
"""

from __future__ import annotations

import hashlib
import http.server
from collections.abc import Iterator
from pathlib import Path

import pytest
from hub_helpers import loopback

from backend.download import DownloadError, DownloadRejectedError, download_resumable, file_digest, part_path

PAYLOAD = bytes(range(256)) * 4096  # 1 MiB


class _Handler(http.server.BaseHTTPRequestHandler):
    ranges: list[str | None] = []
    cut_after: int | None = None  # bytes of the body to send before hanging up (once)

    def do_GET(self) -> None:  # noqa: N802 - the http.server interface
        wanted = self.headers.get("Range")
        type(self).ranges.append(wanted)
        start = int(wanted.removeprefix("bytes=").rstrip("-")) if wanted else 0
        if start >= len(PAYLOAD):
            self.send_response(416)
            self.end_headers()
            return
        body = PAYLOAD[start:]
        self.send_response(206 if wanted else 200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        cut, type(self).cut_after = type(self).cut_after, None
        self.wfile.write(body[:cut] if cut is not None else body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def url() -> Iterator[str]:
    _Handler.ranges, _Handler.cut_after = [], None
    with loopback(_Handler) as server:
        yield f"{server.url}/file.bin"


def _sha256_is(expected: str):
    return lambda path: None if file_digest(path, "sha256") == expected else "checksum differs"


def test_a_cut_connection_resumes_where_it_stopped(url: str, tmp_path: Path) -> None:
    dest = tmp_path / "models" / "file.bin"
    _Handler.cut_after = 300_000
    with pytest.raises(DownloadError, match="300000 of 1048576"):
        download_resumable(url, dest)
    assert not dest.exists() and part_path(dest).stat().st_size == 300_000
    seen: list[tuple[str, int, int | None]] = []
    download_resumable(url, dest, lambda *a: seen.append(a), accept=_sha256_is(hashlib.sha256(PAYLOAD).hexdigest()))
    assert dest.read_bytes() == PAYLOAD and not part_path(dest).exists()
    assert _Handler.ranges == [None, "bytes=300000-"]
    assert seen[-1] == ("file.bin", len(PAYLOAD), len(PAYLOAD)) and seen[0][1] > 300_000


def test_a_whole_part_file_is_finished_without_downloading_again(url: str, tmp_path: Path) -> None:
    dest = tmp_path / "file.bin"
    part_path(dest).write_bytes(PAYLOAD)
    download_resumable(url, dest)
    assert dest.read_bytes() == PAYLOAD and _Handler.ranges == [f"bytes={len(PAYLOAD)}-"]


def test_a_refused_file_is_deleted_and_never_takes_the_name(url: str, tmp_path: Path) -> None:
    dest = tmp_path / "file.bin"
    with pytest.raises(DownloadRejectedError, match="checksum differs"):
        download_resumable(url, dest, accept=_sha256_is("0" * 64))
    assert not dest.exists() and not part_path(dest).exists()  # the next attempt starts clean


def test_an_unreachable_server_is_a_download_error(tmp_path: Path) -> None:
    with pytest.raises(DownloadError):
        download_resumable("http://127.0.0.1:9/none.bin", tmp_path / "none.bin", timeout=5)


def test_git_blob_digest_is_gits_object_id(tmp_path: Path) -> None:
    import subprocess

    path = tmp_path / "userdict.csv"
    path.write_bytes("主殿,*,*\n".encode() * 3)
    expected = subprocess.run(["git", "hash-object", str(path)], capture_output=True, text=True, check=True).stdout
    assert file_digest(path, "gitblob") == expected.strip()
