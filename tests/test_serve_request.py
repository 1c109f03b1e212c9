"""The serve job's request from the application layer: a project's latest exports, its chosen
reference and language; explicit choices win; ``gsv serve`` builds the very same Params; the
running job's events read back as the address, the curl line and the request log."""

from __future__ import annotations

from pathlib import Path

import pytest

from backend.app.serve import ServeLog, ServeSettings, serve_request
from backend.cli import build_parser
from backend.config import Config
from backend.errors import GsvError
from backend.progress import Reporter
from backend.stages import serve as serve_stage
from backend.workspace import Workspace


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    monkeypatch.setenv("GSV_CONFIG", str(tmp_path / "config.toml"))  # none: the defaults
    monkeypatch.setenv("GSV_PRETRAINED_DIR", str(tmp_path / "no-pretrained"))
    ws = Workspace(tmp_path / "home")
    project = ws.create_project("alice", language="en", version="v2")
    for path in (project.gpt_weights_dir("v2") / "alice-e3.ckpt", project.gpt_weights_dir("v2") / "alice-e8.ckpt",
                 project.sovits_weights_dir("v2") / "alice_e4_s20.pth"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"weights")
    ref = project.clips_dir / "ref.wav"
    ref.parent.mkdir(parents=True, exist_ok=True)
    ref.write_bytes(b"RIFF")
    project.settings["reference"] = {"audio_path": str(ref), "text": "Hello there.", "language": "en"}
    project.save()
    return ws


def test_a_project_serves_its_latest_exports_and_chosen_reference(ws: Workspace) -> None:
    project = ws.open_project("alice")
    params = serve_request(ws, Config(), ServeSettings(project="alice"))
    assert params.gpt == project.gpt_weights_dir("v2") / "alice-e8.ckpt"  # the latest epoch
    assert params.sovits == project.sovits_weights_dir("v2") / "alice_e4_s20.pth"
    assert (params.ref, params.ref_text, params.ref_lang) == (project.clips_dir / "ref.wav", "Hello there.", "en")
    assert (params.project, params.host, params.port) == ("alice", "127.0.0.1", 9880)
    assert params.max_tokens == serve_stage.Params(workspace=ws.root).max_tokens  # one declared default


def test_explicit_choices_win_over_the_projects(ws: Workspace, tmp_path: Path) -> None:
    project = ws.open_project("alice")
    other = tmp_path / "other.wav"
    other.write_bytes(b"RIFF")
    early = project.gpt_weights_dir("v2") / "alice-e3.ckpt"
    params = serve_request(ws, Config(), ServeSettings(project="alice", gpt=early, ref=other, ref_text="Hi.",
                                                       ref_lang="zh", port=0))
    assert params.gpt == early and params.ref == other and params.ref_text == "Hi."
    assert params.ref_lang == "all_zh" and params.port == 0  # a project language becomes the option


def test_gsv_serve_builds_the_same_params(ws: Workspace) -> None:
    args = build_parser().parse_args(["serve", "--project", "alice", "--port", "0", "--queue", "3"])
    from_cli = serve_stage.params_from_args(args, ws)
    assert from_cli == serve_request(ws, Config(), ServeSettings(project="alice", port=0, queue=3))


def test_the_asr_options_reach_the_params_with_a_local_model_folder_made_absolute(
        ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "whisper-small").mkdir()
    monkeypatch.chdir(tmp_path)
    args = build_parser().parse_args(["serve", "--project", "alice", "--asr-engine", "funasr",
                                      "--asr-model", "whisper-small"])
    params = serve_stage.params_from_args(args, ws)
    assert (params.asr_engine, params.asr_model) == ("funasr", str(tmp_path / "whisper-small"))
    named = serve_request(ws, Config(), ServeSettings(project="alice", asr_model="large-v3"))
    assert (named.asr_engine, named.asr_model) == (None, "large-v3")  # None: config.toml's, per language


def test_refusals_name_the_fix(ws: Workspace, tmp_path: Path) -> None:
    with pytest.raises(GsvError, match="token") as e:
        serve_request(ws, Config(), ServeSettings(project="alice", host="0.0.0.0"))
    assert e.value.fix
    with pytest.raises(GsvError, match="do not exist"):
        serve_request(ws, Config(), ServeSettings(project="alice", sovits=tmp_path / "gone.pth"))
    empty = ws.create_project("bob", language="zh", version="v2")
    with pytest.raises(GsvError, match="no GPT weights"):
        serve_request(ws, Config(), ServeSettings(project=empty.name))


def test_the_serve_log_reads_the_jobs_events(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    report = Reporter.to_file(events)
    log = ServeLog(events)
    assert not log.read_new() and log.url is None and log.bound is None
    report.info("loading g.ckpt + s.pth")
    report.info("v2 voice at 32000 Hz; serving on http://127.0.0.1:9880")
    report.info("curl -o out.wav 'http://127.0.0.1:9880/tts?text=Hello'")
    report.summary({"url": "http://127.0.0.1:9880", "host": "127.0.0.1", "port": 9880})
    assert log.read_new()
    assert (log.url, log.bound) == ("http://127.0.0.1:9880", "127.0.0.1:9880")
    assert log.curl == "curl -o out.wav 'http://127.0.0.1:9880/tts?text=Hello'"
    report.info("GET /tts 200 0.52s")
    report.warning("stream ended early: client gone")
    assert log.read_new() and log.lines[-2:] == ["GET /tts 200 0.52s", "warning: stream ended early: client gone"]
    assert not log.read_new()
    log.host, log.port = "::1", 9880
    assert log.bound == "[::1]:9880"
