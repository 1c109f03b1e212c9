"""The TUI shell driven by Pilot at 80x24: modes, help, project picker, palette, start-up."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from textual.widgets import Input
from tui_helpers import SIZE, make_app, notices, screen_text, wait_until

from backend.workspace import Workspace
from gsv_tui import keymap
from gsv_tui.screens.dataset import DatasetScreen
from gsv_tui.screens.help import HelpScreen
from gsv_tui.screens.inference import InferenceScreen
from gsv_tui.screens.jobs import JobsScreen
from gsv_tui.screens.project_picker import ProjectPicker
from gsv_tui.screens.training import TrainingScreen
from gsv_tui.screens.transcripts import TranscriptsScreen
from gsv_tui.widgets.status_line import StatusLine


@pytest.fixture
def home(tmp_path: Path) -> Path:
    ws = Workspace(tmp_path / "home")
    ws.create_project("alice", language="en")
    return ws.root


@pytest.mark.slow
async def test_keys_1_to_5_switch_modes(home: Path) -> None:
    app = make_app(home, project="alice")
    async with app.run_test(size=SIZE) as pilot:
        assert isinstance(app.screen, DatasetScreen)
        expected = {"1": DatasetScreen, "2": TranscriptsScreen, "3": TrainingScreen,
                    "4": InferenceScreen, "5": JobsScreen}
        for key in "2345123":
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, expected[key]), key
        await pilot.press("5")
        await pilot.pause()
        text = screen_text(app)
        assert "ID" in text and "Progress" in text and "alice" in text.splitlines()[0]


@pytest.mark.slow
async def test_digits_typed_into_a_text_field_do_not_switch_modes(home: Path) -> None:
    app = make_app(home, project="alice")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("escape", "p")  # out of the path field Dataset starts in, then the picker
        await pilot.pause()
        assert isinstance(app.screen, ProjectPicker)
        await pilot.press("ctrl+n", "v", "2", "5")
        await pilot.pause()
        assert app.screen.query_one("#picker-name", Input).value == "v25"
        assert app.current_mode == "dataset"
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("3")  # and with the modal closed, the digit switches again
        await pilot.pause()
        assert isinstance(app.screen, TrainingScreen)


@pytest.mark.slow
async def test_help_lists_every_binding_with_its_id(home: Path) -> None:
    app = make_app(home, project="alice")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("5")
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        rows = app.screen.bindings_shown()
        assert set(rows) == set(keymap.all_specs())  # every key the app defines, none invented
        assert {"app.quit", "app.help", "app.mode.jobs", "jobs.cancel", "jobs.follow"} <= set(rows)
        assert rows["app.mode.jobs"][0] == "5" and rows["app.help"][0] == "?"
        assert rows["jobs.cancel"] == ("c", "Cancel the selected job (asks first)")
        text = screen_text(app)
        assert "app.mode.dataset" in text and "Everywhere" in text  # ids fit in 80 columns
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, JobsScreen)


@pytest.mark.slow
async def test_first_start_offers_the_creator_and_refused_names_are_explained_inline(tmp_path: Path) -> None:
    home = tmp_path / "home"
    app = make_app(home)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, ProjectPicker)  # no project yet: the picker opens by itself
        assert "No projects yet" in screen_text(app)
        await pilot.press(*"bad/name", "enter")
        await pilot.pause()
        text = screen_text(app)
        assert "contains characters a path cannot hold" in text and "fix:" in text
        assert isinstance(app.screen, ProjectPicker)  # still open, the name still there to correct
        name = app.screen.query_one("#picker-name", Input)
        assert name.value == "bad/name"
        assert not (home / "projects").exists() or not any((home / "projects").iterdir())
        name.value = ""
        await pilot.press(*"小明")
        app.screen.query_one("#picker-language").value = "ja"
        app.screen.query_one("#picker-version").value = "v2"
        await pilot.press("enter")
        await wait_until(pilot, lambda: not isinstance(app.screen, ProjectPicker), what="picker to close")
        project = Workspace(home).open_project("小明")
        assert (project.language, project.version) == ("ja", "v2")
        assert app.application.project is not None and app.application.project.name == "小明"
        await wait_until(pilot, lambda: app.screen.query_one(StatusLine).project == "小明 (ja, v2)",
                         what="the status line")
        await wait_until(pilot, lambda: "小明 (ja, v2)" in screen_text(app), what="the status line drawn")
        # an existing name is refused with its reason too
        await pilot.press("escape", "p", "ctrl+n", *"小明", "enter")
        await pilot.pause()
        assert "already exists" in screen_text(app)


@pytest.mark.slow
async def test_open_project_is_remembered_for_the_next_start(home: Path) -> None:
    Workspace(home).create_project("bob")
    app = make_app(home)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        picker = app.screen
        assert isinstance(picker, ProjectPicker)
        await pilot.press("down", "enter")  # alice, then bob
        await wait_until(pilot, lambda: app.application.project is not None, what="project to open")
        assert app.application.project.name == "bob"
    assert json.loads((home / "tui-state.json").read_text(encoding="utf-8"))["last_project"] == "bob"
    app2 = make_app(home)
    async with app2.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app2.screen, DatasetScreen)  # no picker: the last project is open
        assert app2.application.project is not None and app2.application.project.name == "bob"
        await pilot.press("escape", "p")
        await pilot.pause()
        lst = app2.screen.query_one("#picker-list")
        assert lst.get_option_at_index(lst.highlighted).id == "bob"  # offered first


@pytest.mark.slow
async def test_unknown_project_on_the_command_line_is_reported(home: Path) -> None:
    app = make_app(home, project="nobody")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, ProjectPicker)
        assert any("no project named 'nobody'" in n.message for n in notices(app))


@pytest.mark.slow
async def test_command_palette_switches_modes_and_offers_screen_commands(home: Path) -> None:
    app = make_app(home, project="alice")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Go to Jobs")
        await wait_until(pilot, lambda: "Go to Jobs" in screen_text(app), what="palette hit")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, JobsScreen), what="jobs mode")
        await pilot.press("ctrl+p")
        await pilot.pause()
        await wait_until(pilot, lambda: "Toggle log follow" in screen_text(app), what="the screen's commands")
        text = screen_text(app)
        assert text.index("Toggle log follow") < text.index("Go to Dataset")  # where you are, first
        await pilot.press(*"follow")
        await wait_until(pilot, lambda: "keep the newest log line" in screen_text(app), what="jobs command")
        await pilot.press("enter")
        await wait_until(pilot, lambda: "follow off" in screen_text(app), what="follow toggled")
        await pilot.press("ctrl+p", *"theme")  # Textual's own commands are still there, after ours
        await wait_until(pilot, lambda: "Change the current theme" in screen_text(app), what="system command")
        await pilot.press("escape")


@pytest.mark.slow
async def test_a_list_path_opens_the_transcripts_mode(home: Path) -> None:
    lst = home / "projects" / "alice" / "transcripts" / "mine.list"
    lst.write_text("clips/a.wav|alice|EN|hello\n", encoding="utf-8")
    app = make_app(home, list_path=lst)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, TranscriptsScreen)
        assert app.application.list_path == lst.resolve()
        assert app.application.project is not None and app.application.project.name == "alice"  # its project


@pytest.mark.slow
async def test_q_quits(home: Path) -> None:
    app = make_app(home, project="alice")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("escape", "q")  # q in the path field would be text
        await pilot.pause()
    assert app.return_code == 0 and not app.is_running


@pytest.mark.slow
async def test_bad_config_is_reported_and_defaults_used(home: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text("gpus = 'all'\n", encoding="utf-8")
    monkeypatch.setenv("GSV_CONFIG", str(cfg))
    app = make_app(home, project="alice")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert any("`gpus`" in n.message for n in notices(app))
        assert isinstance(app.screen, DatasetScreen)


@pytest.mark.slow
async def test_palette_opens_another_project_by_name(home: Path) -> None:
    Workspace(home).create_project("bob", language="zh")
    app = make_app(home, project="alice")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Open project bob")
        await wait_until(pilot, lambda: "Open project bob" in screen_text(app), what="palette hit")
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.application.project is not None and app.application.project.name == "bob",
                         what="bob to open")
        await wait_until(pilot, lambda: "bob (zh, v2Pro)" in screen_text(app), what="status line")


@pytest.mark.slow
async def test_a_list_outside_any_project_opens_without_the_picker(home: Path, tmp_path: Path) -> None:
    lst = tmp_path / "elsewhere" / "mine.list"
    lst.parent.mkdir()
    lst.write_text("a.wav|me|EN|hello from outside\n", encoding="utf-8")
    app = make_app(home, list_path=lst)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: "hello from outside" in screen_text(app), what="the transcript")
        assert isinstance(app.screen, TranscriptsScreen)
