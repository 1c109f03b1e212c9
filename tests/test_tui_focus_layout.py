"""Focus and layout at 80×24 (and wider): what a new user types first must land where they
expect, and nothing a screen shows is cut where there is room for it. The real app, driven by
Pilot; the screen is read as the terminal would show it."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.cells import cell_len
from textual.widgets import DataTable, Input
from tui_helpers import SIZE, make_app, screen_text, wait_until

from backend.workspace import Workspace
from gsv_tui.screens.dataset import DatasetScreen
from gsv_tui.screens.help import HelpScreen
from gsv_tui.screens.project_picker import ProjectPicker
from gsv_tui.screens.transcripts import TranscriptsScreen
from gsv_tui.widgets.path_input import PathInput


@pytest.fixture
def home(tmp_path: Path) -> Path:
    ws = Workspace(tmp_path / "home")
    ws.create_project("alice", language="en")
    return ws.root


async def test_a_fresh_start_types_into_the_path_field_and_p_is_text(home: Path, tmp_path: Path) -> None:
    folder = tmp_path / "people" / "pat's recordings"
    folder.mkdir(parents=True)
    app = make_app(home, project="alice", watch_jobs=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, DatasetScreen)
        field = screen.query_one("#slice-input", PathInput)
        assert app.focused is field
        await pilot.press(*str(folder))  # full of p's: none opens the project picker
        await pilot.pause()
        assert not isinstance(app.screen, ProjectPicker)
        assert field.value == str(folder) and "folder with 0 file(s)" in screen_text(app)
        await pilot.press("escape")  # leaves the field; the mode keys work again
        assert app.focused is not field and not isinstance(app.focused, Input)
        await pilot.press("2")
        await pilot.pause()
        assert isinstance(app.screen, TranscriptsScreen)


async def test_entering_a_field_keeps_its_text_and_a_typed_key_adds_to_it(home: Path) -> None:
    app = make_app(home, project="alice", watch_jobs=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        threshold = screen.query_one("#param-threshold", Input)
        await pilot.press("tab")  # path field → the first slicer field
        await pilot.pause()
        assert app.focused is threshold
        assert threshold.selection.is_empty and threshold.cursor_position == len(threshold.value)
        await pilot.press("5")
        assert threshold.value == "-345"  # added at the end, the value not replaced
        await pilot.press("escape")
        assert app.focused is not threshold
        assert threshold.value == "-345"


async def test_tab_after_a_completed_folder_moves_on(home: Path, tmp_path: Path) -> None:
    """Sliced clips share a prefix; a Tab after completing their folder once "completed" into a
    half file name instead of moving to the next field."""
    clips = tmp_path / "data" / "myclips"
    clips.mkdir(parents=True)
    for i in range(3):
        (clips / f"rec.wav_{i:010d}_{i + 1:010d}.wav").write_bytes(b"")
    app = make_app(home, project="alice", watch_jobs=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        field = screen.query_one("#slice-input", PathInput)
        field.value = str(clips.parent) + "/my"
        field.cursor_position = len(field.value)
        await pilot.press("tab")
        assert field.value == str(clips) + "/"
        await pilot.press("tab")
        assert field.value == str(clips) + "/"  # not ".../rec.wav_000000000"
        assert app.focused is screen.query_one("#param-threshold", Input)


@pytest.mark.parametrize("width,height", [(80, 24), (120, 40)])
async def test_help_descriptions_are_never_cut(home: Path, width: int, height: int) -> None:
    app = make_app(home, project="alice", watch_jobs=False)
    async with app.run_test(size=(width, height)) as pilot:
        await pilot.press("escape", "5", "question_mark")  # leave the path field, then Jobs, then help
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")
        table = app.screen.query_one(DataTable)
        does = table.columns[next(k for k in table.columns if k.value == "does")]
        if width >= 120:
            assert does.width > 38  # the Does column grows with the terminal
        assert table.region.right <= width
        for row_key, row in table.rows.items():
            text = str(table.get_row(row_key)[1])
            assert cell_len(text) <= does.width * row.height, (text, does.width, row.height)  # wrapped, whole


async def test_the_project_picker_lines_up_cjk_names(home: Path) -> None:
    Workspace(home).create_project("小明", language="zh")
    app = make_app(home, project="alice", watch_jobs=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("escape", "p")
        await wait_until(pilot, lambda: isinstance(app.screen, ProjectPicker), what="the picker")
        await pilot.pause()
        lines = [ln for ln in screen_text(app).splitlines() if "·" in ln and ("alice" in ln or "小明" in ln)]
        assert len(lines) == 2
        columns = {cell_len(ln[:ln.index("·")]) for ln in lines}  # on screen, in terminal cells
        assert len(columns) == 1, lines

