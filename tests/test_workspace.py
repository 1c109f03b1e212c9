import json
import subprocess
import sys

import pytest

from backend.config import Config, load_config
from backend.errors import ConfigError, ProjectError
from backend.workspace import Project, Workspace, validate_project_name


def test_create_and_reload_non_ascii_project(tmp_path):
    ws = Workspace(tmp_path)
    p = ws.create_project("小明 的声音", language="zh", version="v2")
    assert (p.root / "project.toml").is_file()
    for d in p.stage_dirs():
        assert d.is_dir()
    again = ws.open_project("小明 的声音")
    assert (again.name, again.language, again.version) == ("小明 的声音", "zh", "v2")
    assert [q.name for q in ws.list_projects()] == ["小明 的声音"]
    assert p.sovits_weights_dir().name == "SoVITS_weights_v2"
    assert p.gpt_weights_dir("v1").name == "GPT_weights"


@pytest.mark.parametrize("bad", ["", "  ", "a/b", "a\\b", "..", ".hidden", "x:y", "a\nb", "CON", " lead", "q?"])
def test_hostile_names_are_refused(bad):
    with pytest.raises(ProjectError):
        validate_project_name(bad)


def test_duplicate_project_refused(tmp_path):
    ws = Workspace(tmp_path)
    ws.create_project("alice")
    with pytest.raises(ProjectError, match="already exists"):
        ws.create_project("alice")


def test_corrupt_project_toml_is_reported(tmp_path):
    ws = Workspace(tmp_path)
    p = ws.create_project("bob")
    (p.root / "project.toml").write_text("name = [", encoding="utf-8")
    with pytest.raises(ProjectError, match="not valid TOML"):
        Project.load(p.root)
    assert ws.list_projects() == []
    assert ws.broken_projects()[0][0] == p.root


def test_config_defaults_and_validation(tmp_path):
    path = tmp_path / "config.toml"
    assert load_config(path) == Config()
    path.write_text('gpus = [0, 1]\nlisten_port = 9999\n[asr_engine]\nja = "funasr"\n', encoding="utf-8")
    cfg = load_config(path)
    assert cfg.gpus == [0, 1] and cfg.listen_port == 9999 and cfg.asr_engine["ja"] == "funasr"
    path.write_text('precision = "bf16"\n', encoding="utf-8")
    assert load_config(path).precision == "bf16"
    for text, key in [("gpus = 'x'", "gpus"), ("listen_port = 80", "listen_port"),
                      ("[asr_engine]\nzh = 'whisperx'", "asr_engine.zh"), ("colour = 1", "colour"),
                      ("precision = 'int8'", "precision")]:
        path.write_text(text, encoding="utf-8")
        with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
            load_config(path)


@pytest.mark.slow
def test_cli_project_create_and_list(tmp_path):
    home = tmp_path / "ws"
    run = lambda *a: subprocess.run([sys.executable, "-m", "backend.cli", "--home", str(home), *a],
                                    capture_output=True, text=True)
    r = run("project", "create", "声音一", "--language", "ja")
    assert r.returncode == 0, r.stderr
    r = run("project", "list", "--json")
    assert json.loads(r.stdout)[0]["name"] == "声音一"
    r = run("project", "create", "a/b")
    assert r.returncode == 2 and "fix:" in r.stderr
