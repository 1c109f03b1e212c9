"""Pretrained base models: per-version file lists, lookup in a folder or the HF cache, offline
behaviour, and a real download (huggingface_hub against a local HTTP server speaking the hub's
resolve protocol) with progress and SHA-256 verification."""

from __future__ import annotations

import hashlib
import http.server
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from backend import pretrained
from backend.pretrained import (
    MissingPretrainedError,
    PretrainedDownloadError,
    fetch,
    files_for,
    require,
)

ROOT = Path(__file__).resolve().parents[1]


def test_version_file_lists() -> None:
    v2 = {f.path for f in files_for("v2")}
    assert "gsv-v2final-pretrained/s2G2333k.pth" in v2 and "chinese-hubert-base/pytorch_model.bin" in v2
    assert not any(f.role == "sv" for f in files_for("v2"))
    pro_plus = {f.role: f.path for f in files_for("v2ProPlus")}
    assert pro_plus["s2G"] == "v2Pro/s2Gv2ProPlus.pth" and pro_plus["s1"] == "s1v3.ckpt"
    assert pro_plus["sv"] == "sv/pretrained_eres2netv2w24s4ep4.ckpt"
    assert {f.path for f in files_for("v1", ["s2G", "s2D"])} == {"s2G488k.pth", "s2D488k.pth"}


def test_missing_files_name_the_fetch_command(tmp_path: Path) -> None:
    with pytest.raises(MissingPretrainedError) as ei:
        require("v2Pro", ["s2G", "sv"], directory=tmp_path)
    assert "v2Pro/s2Gv2Pro.pth" in str(ei.value) and "gsv models fetch v2Pro" in ei.value.fix


def test_found_in_official_layout_folder(tmp_path: Path) -> None:
    for f in files_for("v2", ["hubert", "s2G"]):
        (tmp_path / f.path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / f.path).write_bytes(b"x")
    got = require("v2", ["hubert", "s2G"], directory=tmp_path)
    assert got["s2G"] == tmp_path / "gsv-v2final-pretrained/s2G2333k.pth"
    assert got["hubert"] == tmp_path / "chinese-hubert-base"  # folder for from_pretrained


def test_found_in_hf_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "hub"
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(cache))
    repo = cache / "models--lj1995--GPT-SoVITS"
    snap = repo / "snapshots" / ("a" * 40)
    (snap / "v2Pro").mkdir(parents=True)
    (snap / "v2Pro" / "s2Gv2Pro.pth").write_bytes(b"weights")
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("a" * 40)
    assert require("v2Pro", ["s2G"])["s2G"].read_bytes() == b"weights"


def test_offline_fetch_is_a_named_error(tmp_path: Path) -> None:
    with pytest.raises(PretrainedDownloadError, match="HF_HUB_OFFLINE"):
        fetch("v1", directory=tmp_path, roles=["s2G"])


def test_cli_list_and_offline_fetch(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf"),
           "GSV_HOME": str(tmp_path / "home")}
    r = subprocess.run([sys.executable, "-m", "backend.cli", "models", "list", "--version", "v2", "--dir",
                        str(tmp_path)], capture_output=True, text=True, cwd=ROOT, env=env)
    assert r.returncode == 0 and "9 missing" in r.stdout and "gsv models fetch v2" in r.stdout
    r = subprocess.run([sys.executable, "-m", "backend.cli", "models", "fetch", "v2", "--dir", str(tmp_path)],
                       capture_output=True, text=True, cwd=ROOT, env=env)
    assert r.returncode == 2 and "HF_HUB_OFFLINE" in r.stderr and "fix:" in r.stderr


class _Hub(http.server.BaseHTTPRequestHandler):
    """Serves ``/{repo}/resolve/{rev}/{path}`` like the hub: commit and etag headers, LFS sha256."""

    files: dict[str, bytes] = {}
    corrupt: set[str] = set()

    def log_message(self, *args) -> None:  # keep test output clean
        pass

    def _head(self) -> bytes | None:
        prefix = f"/{pretrained.REPO_ID}/resolve/main/"
        path = self.path.split("?")[0]
        if not path.startswith(prefix) or path[len(prefix):] not in self.files:
            self.send_response(404)
            self.send_header("X-Error-Code", "EntryNotFound")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        name = path[len(prefix):]
        body = self.files[name]
        sha = hashlib.sha256(body).hexdigest()
        if name in self.corrupt:
            body = body[:-1] + bytes([body[-1] ^ 1])
        self.send_response(200)
        self.send_header("X-Repo-Commit", "b" * 40)
        self.send_header("ETag", f'"{sha}"')
        self.send_header("X-Linked-Etag", f'"{sha}"')
        self.send_header("X-Linked-Size", str(len(body)))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return body

    def do_HEAD(self) -> None:
        self._head()

    def do_GET(self) -> None:
        body = self._head()
        if body is not None:
            self.wfile.write(body)


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", False)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hub)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    _Hub.files = {"s2G488k.pth": bytes(range(256)) * 4000, "s2D488k.pth": b"D" * 5000}
    _Hub.corrupt = set()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_fetch_downloads_verifies_and_reports(hub: str, tmp_path: Path) -> None:
    seen: list[tuple[str, int, int | None]] = []
    paths = fetch("v1", directory=tmp_path, roles=["s2G", "s2D"], endpoint=hub,
                  on_progress=lambda n, d, t: seen.append((n, d, t)))
    assert (tmp_path / "s2G488k.pth").read_bytes() == _Hub.files["s2G488k.pth"]
    assert set(paths) == {"s2G488k.pth", "s2D488k.pth"}
    assert seen and seen[-1][1] == seen[-1][2] == len(_Hub.files["s2D488k.pth"])
    # already there: nothing is fetched again
    again = fetch("v1", directory=tmp_path, roles=["s2G"], endpoint=hub + "/nothing-here")
    assert again["s2G488k.pth"] == tmp_path / "s2G488k.pth"


def test_fetch_rejects_a_corrupted_download(hub: str, tmp_path: Path) -> None:
    _Hub.corrupt = {"s2D488k.pth"}
    with pytest.raises(PretrainedDownloadError, match="SHA-256"):
        fetch("v1", directory=tmp_path, roles=["s2D"], endpoint=hub)
    assert not (tmp_path / "s2D488k.pth").exists()


def test_fetch_progress_as_job_events(hub: str, tmp_path: Path) -> None:
    from backend.jobs.events import Reporter
    from backend.pretrained import progress_to

    reporter, events = Reporter.collect()
    fetch("v1", directory=tmp_path, roles=["s2D"], endpoint=hub, on_progress=progress_to(reporter))
    prog = [e for e in events if e["kind"] == "progress"]
    assert prog and prog[-1]["unit"] == "bytes" and prog[-1]["label"] == "s2D488k.pth"
    assert prog[-1]["done"] == prog[-1]["total"] == 5000
