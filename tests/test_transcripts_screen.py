"""The review screen driven by Pilot through every key, asserting on the .list on disk.

Playback goes through a real subprocess player (a script written here that records its argv
and sleeps), named with GSV_PLAYER exactly as a person would name theirs.
"""

from __future__ import annotations

import json
import sys
import time
import tomllib
from pathlib import Path

import pytest
from textual.widgets import Input
from transcript_helpers import make_wav, read_int16
from tui_helpers import make_app, notices, screen_text, wait_until

from backend.workspace import Workspace
from gsv_tui.screens.transcript_conflict import TranscriptConflict
from gsv_tui.screens.transcripts import TranscriptsScreen
from gsv_tui.widgets.clip_table import ClipTable

SIZE = (120, 30)

RECORDER = """
import json, os, sys, time
with open(os.environ["REC_FILE"], "a") as f:
    f.write(json.dumps({"argv": sys.argv[1:], "pid": os.getpid()}) + "\\n")
time.sleep(60)
"""

TEXTS = [("ZH", "第一句话。", 2.0), ("ZH", "第二句话。", 1.5), ("EN", "hello there", 3.0),
         ("ZH", "", 2.0), ("ZH", "第五句话。", 0.5), ("JA", "こんにちは。", 2.5)]


@pytest.fixture
def setup(tmp_path, monkeypatch):
    monkeypatch.setattr(TranscriptsScreen, "AUTOSAVE_DELAY", 0.05)
    rec = tmp_path / "rec.jsonl"
    (tmp_path / "recorder.py").write_text(RECORDER)
    monkeypatch.setenv("REC_FILE", str(rec))
    monkeypatch.setenv("GSV_PLAYER", f"{sys.executable} {tmp_path / 'recorder.py'}")
    ws = Workspace(tmp_path / "home")
    project = ws.create_project("voice", language="zh")
    lines = []
    for i, (lang, text, secs) in enumerate(TEXTS):
        p = project.clips_dir / f"c{i}.wav"
        make_wav(p, secs, freq=200 + 50 * i)
        lines.append(f"{p}|clips|{lang}|{text}")
    project.transcript_path.write_text("\n".join(lines), encoding="utf-8")
    return ws.root, project, rec


def disk(project) -> list[list[str]]:
    return [ln.split("|") for ln in project.transcript_path.read_text(encoding="utf-8").split("\n")]


def texts(project) -> list[str]:
    return [f[3] for f in disk(project)]


async def opened(pilot, n: int | None = None) -> TranscriptsScreen:
    app = pilot.app
    await wait_until(pilot, lambda: isinstance(app.screen, TranscriptsScreen)
                     and app.screen.transcript is not None, what="transcript open")
    screen = app.screen
    if n is not None:
        await wait_until(pilot, lambda: len(screen.transcript) == n)
    return screen


async def settle(pilot) -> None:
    """Let workers finish and the debounced save run."""
    await pilot.app.workers.wait_for_complete()
    await pilot.pause(0.15)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause(0.1)


def cursor(pilot) -> int:
    return pilot.app.screen.query_one(ClipTable).cursor


@pytest.mark.slow
async def test_opens_the_project_transcript_with_durations_flags_and_status(setup):
    home, project, _ = setup
    app = make_app(home, project="voice", watch_jobs=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        screen = await opened(pilot, 6)
        await wait_until(pilot, lambda: screen.stats.get("durations_known") == 6, what="durations")
        await pilot.pause()
        text = screen_text(app)
        assert "第一句话。" in text and "hello there" in text and "voice.list" not in text
        assert "clips.list" in text
        assert "6 clips · 0 reviewed · 2 flagged · 0:00:12 kept" in text  # empty + short
        assert "empty" in text and "short" in text


@pytest.mark.slow
async def test_moving_playing_and_stopping(setup):
    home, project, rec = setup
    app = make_app(home, list_path=project.transcript_path, watch_jobs=False)
    async with app.run_test(size=SIZE) as pilot:
        await opened(pilot, 6)
        await pilot.press("j", "j", "down")
        assert cursor(pilot) == 3
        await pilot.press("k", "up")
        assert cursor(pilot) == 1
        await pilot.press("space")
        await wait_until(pilot, lambda: rec.exists() and rec.read_text().strip(), what="player start")
        r = json.loads(rec.read_text().splitlines()[0])
        assert r["argv"] == [str(project.clips_dir / "c1.wav")]
        screen = app.screen
        await wait_until(pilot, lambda: screen.playing_clip == 1 and screen.player.position() is not None)
        await pilot.press("space")  # stop
        await wait_until(pilot, lambda: not _alive(r["pid"]), what="player stopped")
        await pilot.press("a", "j")  # auto-play on move
        await wait_until(pilot, lambda: len(rec.read_text().splitlines()) == 2, what="auto-play")
        assert json.loads(rec.read_text().splitlines()[1])["argv"] == [str(project.clips_dir / "c2.wav")]
        await pilot.press("a")
        await settle(pilot)
    review = json.loads(project.transcript_path.with_name("clips.list.review.json").read_text())
    assert sorted(review["reviewed"]) == [str(project.clips_dir / "c1.wav"), str(project.clips_dir / "c2.wav")]


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.slow
async def test_edit_inline_escape_cancels_enter_saves(setup):
    home, project, _ = setup
    app = make_app(home, list_path=project.transcript_path, watch_jobs=False)
    async with app.run_test(size=SIZE) as pilot:
        await opened(pilot, 6)
        await pilot.press("enter", "x", "y", "escape")
        await settle(pilot)
        assert texts(project)[0] == "第一句话。"
        await pilot.press("j", "j", "j", "enter")
        await pilot.pause(0.1)
        table, ed = app.screen.query_one(ClipTable), app.screen.query_one("#line-editor", Input)
        assert ed.region.y == table.region.y + 3  # drawn over the row being edited
        await pilot.press(*"filled in", "enter")
        await settle(pilot)
        assert texts(project)[3] == "filled in"
        assert cursor(pilot) == 3
        # j typed into the editor is text, not a move
        await pilot.press("enter", "end", "j", "enter")
        await settle(pilot)
        assert texts(project)[3] == "filled inj" and cursor(pilot) == 3


@pytest.mark.slow
async def test_language_delete_merge_split_undo_redo(setup):
    home, project, _ = setup
    app = make_app(home, list_path=project.transcript_path, watch_jobs=False)
    async with app.run_test(size=SIZE) as pilot:
        await opened(pilot, 6)
        await pilot.press("l")
        await settle(pilot)
        assert disk(project)[0][2] == "EN"
        await pilot.press("l")
        await settle(pilot)
        assert disk(project)[0][2] == "JA"
        await pilot.press("u", "u")
        await settle(pilot)
        assert disk(project)[0][2] == "ZH"
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert disk(project)[0][2] == "EN"

        # d: the line goes, the audio goes to the project's trash
        await pilot.press("j", "d")
        await settle(pilot)
        assert texts(project) == ["第一句话。", "hello there", "", "第五句话。", "こんにちは。"]
        assert (project.trash_dir / "c1.wav").is_file() and not (project.clips_dir / "c1.wav").exists()
        await pilot.press("u")
        await settle(pilot)
        assert texts(project)[1] == "第二句话。" and (project.clips_dir / "c1.wav").is_file()

        # m: clip 1 + clip 2 into a new file; the originals are parked in the trash
        await pilot.press("g", "m")
        await settle(pilot)
        rows = disk(project)
        assert rows[0][0] == str(project.clips_dir / "c0+c1.wav")
        assert rows[0][3] == "第一句话。 第二句话。"  # clip 1 is EN now: words joined with a space
        assert len(rows) == 5 and (project.trash_dir / "c0~replaced.wav").is_file()
        assert not (project.trash_dir / "c1.wav").exists()  # c1's earlier delete record cannot claim it
        assert not (project.clips_dir / "c0.wav").exists()
        assert len(read_int16(project.clips_dir / "c0+c1.wav")) == int(3.5 * 32000)

        # s: split the merged clip at a typed time into two new files; the text is cut where the
        # editor's cursor is (it starts in proportion to the time: 2 of 3.5 s, after "第一句话。 ")
        await pilot.press("s")
        await pilot.press(*"2", "enter")
        await pilot.pause(0.1)
        assert app.screen.query_one("#line-editor", Input).cursor_position == 6
        await pilot.press("enter")
        await settle(pilot)
        rows = disk(project)
        assert [Path(r[0]).name for r in rows[:2]] == ["c0+c1_1.wav", "c0+c1_2.wav"]
        assert [r[3] for r in rows[:2]] == ["第一句话。", "第二句话。"]  # never the whole text twice
        assert len(read_int16(project.clips_dir / "c0+c1_1.wav")) == 64000
        assert len(read_int16(project.clips_dir / "c0+c1_2.wav")) == 48000
        await pilot.press("u", "u")
        await settle(pilot)
        assert [Path(r[0]).name for r in disk(project)] == [f"c{i}.wav" for i in range(6)]
        assert all((project.clips_dir / f"c{i}.wav").is_file() for i in range(6))  # back from the trash
        assert disk(project)[0][2] == "EN"
        assert not (project.clips_dir / "c0+c1.wav").exists()  # parked in the trash, redo-able
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert Path(disk(project)[0][0]).name == "c0+c1.wav"


@pytest.mark.slow
async def test_split_at_the_playback_position(setup):
    home, project, rec = setup
    app = make_app(home, list_path=project.transcript_path, watch_jobs=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await opened(pilot, 6)
        await pilot.press("j", "j", "space")  # "hello there", 3 s
        await wait_until(pilot, lambda: (screen.player.position() or 0) > 0.4, what="playing")
        await pilot.press("s")
        await pilot.pause(0.1)
        await pilot.press("home", *["right"] * 6, "enter")  # the text splits where the cursor is
        await settle(pilot)
        rows = disk(project)
        assert [Path(r[0]).name for r in rows[2:4]] == ["c2_1.wav", "c2_2.wav"]
        assert [r[3] for r in rows[2:4]] == ["hello", "there"]
        first = len(read_int16(project.clips_dir / "c2_1.wav"))
        second = len(read_int16(project.clips_dir / "c2_2.wav"))
        assert first + second == 3 * 32000 and 0.4 * 32000 < first < 2.5 * 32000
        assert not _alive(json.loads(rec.read_text().splitlines()[0])["pid"])  # playback stopped


@pytest.mark.slow
async def test_paging_and_saving_keys(setup):
    home, project, _ = setup
    app = make_app(home, list_path=project.transcript_path, watch_jobs=False)
    async with app.run_test(size=SIZE) as pilot:
        await opened(pilot, 6)
        await pilot.press("end")
        assert cursor(pilot) == 5
        await pilot.press("home")
        assert cursor(pilot) == 0
        await pilot.press("pagedown")
        assert cursor(pilot) == 5
        await pilot.press("pageup")
        assert cursor(pilot) == 0
        await pilot.press("G")
        assert cursor(pilot) == 5
        pilot.app.screen.AUTOSAVE_DELAY = 60.0
        await pilot.press("l")
        await pilot.pause()
        assert disk(project)[5][2] == "JA"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert disk(project)[5][2] == "KO"


@pytest.mark.slow
async def test_restore_reference_search_flagged_and_sort(setup):
    home, project, _ = setup
    app = make_app(home, list_path=project.transcript_path, watch_jobs=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await opened(pilot, 6)
        await pilot.press("j", "j", "d")
        await settle(pilot)
        assert len(disk(project)) == 5
        await pilot.press("g", "t")  # restore the last deleted clip from the trash
        await settle(pilot)
        assert texts(project)[2] == "hello there" and (project.clips_dir / "c2.wav").is_file()

        assert cursor(pilot) == 2  # the cursor follows the restored clip
        await pilot.press("g", "r")  # clip 1 becomes the inference reference
        await settle(pilot)
        ref = tomllib.loads((project.root / "project.toml").read_text())["settings"]["reference"]
        assert ref == {"audio_path": str(project.clips_dir / "c0.wav"), "text": "第一句话。",
                       "language": "zh"}

        await pilot.press("slash", *"hello", "enter")
        assert cursor(pilot) == 2
        await pilot.press("slash", "enter")  # again: the same query, wraps around to itself
        assert cursor(pilot) == 2

        await wait_until(pilot, lambda: screen.stats.get("durations_known") == 6, what="durations")
        await pilot.press("g", "n")
        assert cursor(pilot) == 3  # empty text
        await pilot.press("n")
        assert cursor(pilot) == 4  # too short
        await pilot.press("N")
        assert cursor(pilot) == 3
        await pilot.press("N")
        assert cursor(pilot) == 4  # wraps around backwards
        await pilot.press("o")  # worst ASR confidence first: no sidecar, file order kept
        assert screen.sort_kind == "confidence" and screen.view == list(range(6))
        await pilot.press("o")  # longest first
        assert screen.sort_kind == "duration" and screen.view[0] == 2
        assert cursor(pilot) == screen.view.index(4)  # the cursor stays on the same clip
        await pilot.press("o")
        assert screen.sort_kind == "file"


@pytest.mark.slow
async def test_open_another_list_from_the_path_field(setup, tmp_path):
    home, project, _ = setup
    other = tmp_path / "elsewhere" / "other.list"
    make_wav(other.parent / "x.wav", 1.5)
    other.write_text("x.wav|s|EN|from another list\n", encoding="utf-8")
    app = make_app(home, project="voice", watch_jobs=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await opened(pilot, 6)
        await pilot.press("ctrl+o", "ctrl+a", "ctrl+k", "x")
        field = app.screen.query_one("#list-path", Input)
        assert field.value == "x" and app.screen.editing == "open"
        field.value = str(other)  # (typing 80 characters one by one adds nothing to the test)
        await pilot.press("enter")
        screen = app.screen
        await wait_until(pilot, lambda: screen.transcript is not None and screen.transcript.path == other)
        assert "from another list" in screen_text(app)
        await pilot.press("enter", "end", "!", "enter")
        await settle(pilot)
    assert other.read_text(encoding="utf-8") == "x.wav|s|EN|from another list!\n"  # style kept


@pytest.mark.slow
async def test_quitting_saves_pending_edits(setup, monkeypatch):
    home, project, _ = setup
    monkeypatch.setattr(TranscriptsScreen, "AUTOSAVE_DELAY", 60.0)
    app = make_app(home, list_path=project.transcript_path, watch_jobs=False)
    async with app.run_test(size=SIZE) as pilot:
        await opened(pilot, 6)
        await pilot.press("l")
        await pilot.pause()
        assert disk(project)[0][2] == "ZH"  # not saved yet
        await pilot.press("q")
        await pilot.pause()
    assert disk(project)[0][2] == "EN"


@pytest.mark.slow
async def test_a_file_changed_on_disk_asks_and_merges(setup):
    home, project, _ = setup
    app = make_app(home, list_path=project.transcript_path, watch_jobs=False)
    async with app.run_test(size=SIZE) as pilot:
        await opened(pilot, 6)
        theirs = project.transcript_path.read_text(encoding="utf-8").replace("第五句话。", "改过的")
        time.sleep(0.01)
        project.transcript_path.write_text(theirs, encoding="utf-8")
        await pilot.press("l")
        await wait_until(pilot, lambda: isinstance(app.screen, TranscriptConflict), what="conflict")
        assert project.transcript_path.read_text(encoding="utf-8") == theirs  # not overwritten
        await pilot.press("m")
        await settle(pilot)
        rows = disk(project)
        assert rows[0][2] == "EN" and rows[4][3] == "改过的"


@pytest.mark.slow
async def test_ten_thousand_rows_open_and_move(setup, tmp_path):
    home, project, _ = setup
    big = project.transcripts_dir / "big.list"
    clip = project.clips_dir / "c0.wav"
    big.write_text("\n".join(f"{clip}|clips|ZH|第{i}句" for i in range(10000)), encoding="utf-8")
    app = make_app(home, list_path=big, watch_jobs=False)
    async with app.run_test(size=SIZE) as pilot:
        await opened(pilot, 10000)
        await pilot.press("G")
        assert cursor(pilot) == 9999
        await wait_until(pilot, lambda: "第9999句" in screen_text(app), what="the last row drawn")
        await pilot.press("slash", *"第5000句", "enter")
        assert cursor(pilot) == 5000


@pytest.mark.slow
async def test_a_bad_path_is_refused_and_a_project_without_transcript_clears_the_table(setup):
    home, project, _ = setup
    Workspace(home).create_project("other")
    app = make_app(home, project="voice", watch_jobs=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        screen = await opened(pilot, 6)
        await pilot.press("ctrl+o")
        app.screen.query_one("#list-path", Input).value = str(home / "nope.list")
        await pilot.press("enter")
        await settle(pilot)
        assert screen.transcript is not None and screen.transcript.path == project.transcript_path
        assert "Reviewing clips.list" in screen_text(app)
        assert any("no transcript at" in n.message for n in notices(app))
        app.application.open_project("other")
        app.project_signal.publish(app.application.project)
        await pilot.pause()
        assert screen.transcript is None and screen.query_one(ClipTable).count == 0
        assert "No transcript yet: ctrl+t on Dataset (1) transcribes the clips" in screen_text(app)


async def test_a_transcript_written_after_the_screen_opened_is_shown(setup, monkeypatch):
    """An ASR job that finishes while Transcripts is open: the new .list appears by itself."""
    home, _, _ = setup
    monkeypatch.setattr(TranscriptsScreen, "DISK_CHECK_INTERVAL", 0.1)
    other = Workspace(home).create_project("other")
    app = make_app(home, project="other", watch_jobs=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2")
        await pilot.pause(0.3)
        assert isinstance(app.screen, TranscriptsScreen) and app.screen.transcript is None
        assert "ctrl+t on Dataset (1)" in screen_text(app)
        wav = other.clips_dir / "late.wav"
        make_wav(wav, 1.0)
        other.transcript_path.parent.mkdir(parents=True, exist_ok=True)
        other.transcript_path.write_text(f"{wav}|other|ZH|后来写的。\n", encoding="utf-8")
        await opened(pilot, 1)
        assert "后来写的。" in screen_text(app) and "Reviewing" in screen_text(app)


@pytest.mark.slow
async def test_a_list_rewritten_elsewhere_is_followed_when_nothing_is_unsaved(setup, monkeypatch):
    home, project, _ = setup
    monkeypatch.setattr(TranscriptsScreen, "DISK_CHECK_INTERVAL", 0.1)
    app = make_app(home, list_path=project.transcript_path, watch_jobs=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await opened(pilot, 6)
        with project.transcript_path.open("a", encoding="utf-8") as f:
            f.write(f"\n{project.clips_dir / 'c0.wav'}|clips|ZH|追加的一句")  # e.g. ASR appending
        await wait_until(pilot, lambda: screen.transcript is not None and len(screen.transcript) == 7,
                         what="reload")
        await pilot.pause()
        assert "追加的一句" in screen_text(app)


async def test_a_failed_playback_does_not_mark_the_clip_reviewed(setup, tmp_path):
    """The player exits with an error at once (a real subprocess): nothing was heard, no ✓."""
    from backend.audio.playback import PlayerChooser
    from backend.audio.playback.subprocess_player import SubprocessPlayer

    home, project, _ = setup
    broken = tmp_path / "broken_player.py"
    broken.write_text("import sys\nprint('no such device', file=sys.stderr)\nsys.exit(3)\n")
    app = make_app(home, list_path=project.transcript_path, watch_jobs=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await opened(pilot, 6)
        # a long start-up check, so the interpreter's start is not taken for a working player
        player = SubprocessPlayer([sys.executable, str(broken), "{path}"], startup_check_s=10.0)
        screen._player = PlayerChooser([player])
        await pilot.press("space")
        await settle(pilot)
        assert screen.playing_clip is None
        assert not screen.transcript.is_reviewed(0)
        assert any("no such device" in n.message or "No audio output" in n.message for n in app._notifications)
    review = project.transcript_path.with_name("clips.list.review.json")
    assert not review.exists() or json.loads(review.read_text())["reviewed"] == []


async def test_at_80x24_the_whole_text_is_shown_and_the_editor_is_full_width(setup):
    home, project, _ = setup
    long = ("this sentence is far longer than the text column of the table at eighty columns, "
            "and its end must still be readable somewhere on the screen")
    lines = project.transcript_path.read_text(encoding="utf-8").split("\n")
    path = lines[2].split("|")[0]
    lines[2] = f"{path}|clips|EN|{long}"
    project.transcript_path.write_text("\n".join(lines), encoding="utf-8")
    app = make_app(home, list_path=project.transcript_path, watch_jobs=False)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await opened(pilot, 6)
        await pilot.press("j", "j")
        await pilot.pause()
        text = screen_text(app)
        assert "readable somewhere on the screen" in text  # wrapped in the detail area
        assert "3/6" in text and "c2.wav" in text
        await pilot.press("enter")
        await pilot.pause(0.1)
        ed = screen.query_one("#line-editor", Input)
        assert ed.region.width == 80 and ed.region.x == 0
        assert ed.cursor_position == len(long) and ed.selection.is_empty
        await pilot.press("x")  # a typed key adds to the text, never replaces it
        assert ed.value == long + "x"
        await pilot.press("escape")
        await pilot.pause()
        assert app.focused is screen.query_one(ClipTable) and not screen.query("#line-editor")
