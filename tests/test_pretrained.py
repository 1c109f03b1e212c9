"""Pretrained base models: per-version file lists, lookup in a folder or the HF cache, offline
behaviour, and a real download (huggingface_hub against a local HTTP server speaking the hub's
resolve protocol) with progress and SHA-256 verification."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hub_helpers import FakeHub, fake_hub

from backend import pretrained  # noqa: F401
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
    assert f"copy it to {tmp_path / 'v2Pro/s2Gv2Pro.pth'}" in ei.value.fix  # where, without the network


def test_without_a_folder_the_copy_fix_names_gsv_pretrained_dir(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GSV_PRETRAINED_DIR", raising=False)
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    with pytest.raises(MissingPretrainedError) as ei:
        require("v1", ["s2G"])
    assert "set GSV_PRETRAINED_DIR" in ei.value.fix and "s2G488k.pth" in ei.value.fix
    with pytest.raises(PretrainedDownloadError) as down:
        fetch("v1", directory=tmp_path / "models", roles=["s2G"])  # offline: where to copy it instead
    assert f"copy it to {tmp_path / 'models' / 's2G488k.pth'}" in down.value.fix


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


@pytest.mark.slow
def test_cli_list_and_offline_fetch(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf"),
           "GSV_HOME": str(tmp_path / "home")}
    r = subprocess.run([sys.executable, "-m", "backend.cli", "models", "list", "--version", "v2", "--dir",
                        str(tmp_path)], capture_output=True, text=True, cwd=ROOT, env=env)
    assert r.returncode == 0 and "9 missing" in r.stdout and "gsv models fetch v2" in r.stdout
    r = subprocess.run([sys.executable, "-m", "backend.cli", "models", "fetch", "v2", "--dir", str(tmp_path)],
                       capture_output=True, text=True, cwd=ROOT, env=env)
    assert r.returncode == 2 and "HF_HUB_OFFLINE" in r.stderr and "fix:" in r.stderr


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", False)
    with fake_hub({"s2G488k.pth": bytes(range(256)) * 4000, "s2D488k.pth": b"D" * 5000}) as served:
        yield served


def test_fetch_downloads_verifies_and_reports(hub: FakeHub, tmp_path: Path) -> None:
    seen: list[tuple[str, int, int | None]] = []
    paths = fetch("v1", directory=tmp_path, roles=["s2G", "s2D"], endpoint=hub.url,
                  on_progress=lambda n, d, t: seen.append((n, d, t)))
    assert (tmp_path / "s2G488k.pth").read_bytes() == hub.files["s2G488k.pth"]
    assert set(paths) == {"s2G488k.pth", "s2D488k.pth"}
    assert seen and seen[-1][1] == seen[-1][2] == len(hub.files["s2D488k.pth"])
    # already there: nothing is fetched again
    again = fetch("v1", directory=tmp_path, roles=["s2G"], endpoint=hub.url + "/nothing-here")
    assert again["s2G488k.pth"] == tmp_path / "s2G488k.pth"


def test_fetch_rejects_a_corrupted_download(hub: FakeHub, tmp_path: Path) -> None:
    hub.corrupt = {"s2D488k.pth"}
    with pytest.raises(PretrainedDownloadError, match="SHA-256"):
        fetch("v1", directory=tmp_path, roles=["s2D"], endpoint=hub.url)
    assert not (tmp_path / "s2D488k.pth").exists()


def test_fetch_progress_as_job_events(hub: FakeHub, tmp_path: Path) -> None:
    from backend.pretrained import progress_to
    from backend.progress import Reporter

    reporter, events = Reporter.collect()
    fetch("v1", directory=tmp_path, roles=["s2D"], endpoint=hub.url, on_progress=progress_to(reporter))
    prog = [e for e in events if e["kind"] == "progress"]
    assert prog and prog[-1]["unit"] == "bytes" and prog[-1]["label"] == "s2D488k.pth"
    assert prog[-1]["done"] == prog[-1]["total"] == 5000


@pytest.mark.slow
def test_fetch_models_runs_as_a_tracked_job(hub: FakeHub, tmp_path: Path) -> None:
    """``gsv fetch-models``: the download as a job (real subprocesses), byte progress as its events."""
    import json

    home, models = tmp_path / "home", tmp_path / "models"
    r = subprocess.run([sys.executable, "-m", "backend.cli", "--home", str(home), "fetch-models", "v1",
                        "--only", "s2G", "s2D", "--dir", str(models), "--endpoint", hub.url],
                       capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    assert (models / "s2G488k.pth").read_bytes() == hub.files["s2G488k.pth"]
    assert (models / "s2D488k.pth").is_file()
    jobs = json.loads(subprocess.run([sys.executable, "-m", "backend.cli", "--home", str(home), "jobs", "list",
                                      "--json"], capture_output=True, text=True, cwd=ROOT).stdout)
    assert [(j["stage"], j["outcome"]) for j in jobs] == [("fetch-models", "succeeded")]
    events = [json.loads(line) for line in
              (home / "jobs" / jobs[0]["id"] / "events.jsonl").read_text(encoding="utf-8").splitlines()]
    prog = [e for e in events if e["kind"] == "progress" and e.get("unit") == "bytes"]
    assert {e["label"] for e in prog} == {"s2G488k.pth", "s2D488k.pth"}
    summary = [e for e in events if e["kind"] == "summary"]
    assert summary and summary[-1]["data"]["downloaded"] == 2


def test_fetch_models_refuses_unknown_versions_and_kinds() -> None:
    from backend.errors import GsvError
    from backend.stages.fetch_models import Params, check

    with pytest.raises(GsvError, match="v9"):
        check(Params(versions=["v9"]))
    with pytest.raises(GsvError, match="s3"):
        check(Params(versions=["v2"], only=["s3"]))


@pytest.mark.slow
def test_fetch_all_installs_the_g2pw_model_for_v2_but_not_for_v1(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Besides the base models and the text data, v2+ needs the G2PW polyphone model (as the
    official install fetches it): downloaded, verified and unpacked into the data folder."""
    import io
    import zipfile

    from text_records import frontend_data_with_optional

    from backend.pretrained import G2PW_HF_FILE
    from backend.stages.fetch_models import fetch_all
    from backend.text import g2pw

    # the text data already there (no request for it), no G2PW yet
    data = frontend_data_with_optional(tmp_path / "data")
    monkeypatch.setenv("GSV_FRONTEND_DATA", str(data))
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", False)
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path / "hf"))
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as bundle:
        for name in ("G2PWModel/g2pW.onnx", *(f"G2PWModel/{n}" for n in g2pw._MODEL_FILES)):
            bundle.writestr(name, f"{name} contents")
    models = {f.path: f.path.encode() * 10 for v in ("v1", "v2") for f in files_for(v)}
    done: list[str] = []
    with fake_hub({**models, G2PW_HF_FILE: archive.getvalue()}) as hub:
        fetch_all(["v1"], tmp_path / "models", endpoint=hub.url, on_done=lambda what, n: done.append(what))
        assert g2pw.model_dir() is None and done == ["v1", "text frontend data", "optional text data"]
        fetch_all(["v2"], tmp_path / "models", endpoint=hub.url, on_done=lambda what, n: done.append(what))
    assert done[-1] == "G2PW (Chinese polyphones)"
    assert g2pw.model_dir() == data / "G2PWModel"
    assert (data / "G2PWModel" / "g2pW.onnx").read_text() == "G2PWModel/g2pW.onnx contents"
