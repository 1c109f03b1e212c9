"""The Jobs screen on real jobs: the diagnostic ``sleep`` stage run by the real job system."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
from jobs_helpers import cancel_all
from tui_helpers import SIZE, make_app, notices, screen_text, wait_until

from backend.jobs import JobManager
from backend.workspace import Workspace
from gsv_tui.screens.confirm import ConfirmScreen
from gsv_tui.screens.jobs import JobsScreen
from gsv_tui.widgets.job_detail import JobDetail
from gsv_tui.widgets.jobs_table import COLUMN_INDEX, JobsTable
from gsv_tui.widgets.log_view import LogView
from gsv_tui.widgets.status_line import StatusLine


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    ws = Workspace(tmp_path / "home")
    ws.create_project("alice")
    yield ws.root
    cancel_all(ws.root)


def row_of(app, job_id: str) -> list[str]:
    table = app.screen.query_one(JobsTable)
    return [str(c) for c in table.get_row(job_id)]


def shown_status(app, job_id: str) -> str | None:
    """The State cell of a job's row, None while the table has no row for it yet."""
    table = app.screen.query_one(JobsTable)
    return row_of(app, job_id)[COLUMN_INDEX["status"]] if job_id in table.rows else None


@pytest.mark.slow
async def test_a_running_job_shows_live_progress_and_its_log(home: Path) -> None:
    jm = JobManager(Workspace(home).jobs_dir)
    job = jm.submit("sleep", {"seconds": 30.0, "steps": 300}, project="alice")
    app = make_app(home, project="alice")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.screen.query_one(StatusLine).running == 1, what="the running job")
        await wait_until(pilot, lambda: "1 running" in screen_text(app).splitlines()[0], what="the status line")
        await pilot.press("5")
        await pilot.pause()
        assert isinstance(app.screen, JobsScreen)
        await wait_until(pilot, lambda: shown_status(app, job.id) == "running"
                         and "%" in row_of(app, job.id)[COLUMN_INDEX["progress"]],
                         what="a progress bar")
        first = app.jobs_snapshot.get(job.id).progress.done
        await wait_until(pilot, lambda: app.jobs_snapshot.get(job.id).progress.done > first + 2,
                         what="progress to advance")
        row = dict(zip(COLUMN_INDEX, row_of(app, job.id)))
        assert [row[k] for k in ("id", "stage", "project", "status", "gpu")] == [job.id, "sleep", "alice", "running", "cpu"]
        text = screen_text(app)
        header = next((line for line in text.splitlines() if line.startswith(" ID ")), None)
        assert header is not None and "Time" in header and "Start" in header, text  # fits 80 columns
        text = screen_text(app)
        assert job.id in text and "running" in text and "steps" in text  # detail: done/total unit
        # the log pane follows the selected job's log.txt
        log = app.screen.query_one(LogView)
        await wait_until(pilot, lambda: any("stage sleep" in line for line in log.lines), what="log lines")
        assert f"log of {job.id}" in screen_text(app)
        await pilot.press("enter")  # enter on the job moves to its log, t back to the table
        assert app.focused is log
        await pilot.press("t")
        assert isinstance(app.focused, JobsTable)


@pytest.mark.slow
async def test_cancel_asks_first_and_then_stops_the_job(home: Path) -> None:
    jm = JobManager(Workspace(home).jobs_dir)
    job = jm.submit("sleep", {"seconds": 60.0, "steps": 60, "spawn_child": True}, project="alice")
    app = make_app(home, project="alice")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("5")
        await wait_until(pilot, lambda: shown_status(app, job.id) == "running", what="the running job")
        log = app.screen.query_one(LogView)
        await wait_until(pilot, lambda: log.line_count > 0, what="the log")
        await pilot.press("c")
        await pilot.pause(0.5)
        assert isinstance(app.screen, ConfirmScreen)
        assert f"Cancel job {job.id}" in screen_text(app)
        assert log.line_count > 0  # the log behind the question stays
        await pilot.press("n")  # no: nothing happens
        await pilot.pause()
        assert isinstance(app.screen, JobsScreen)
        assert jm.get(job.id).state == "running"
        await pilot.press("c")
        await pilot.pause()
        await pilot.press("y")
        await wait_until(pilot, lambda: jm.get(job.id).outcome == "cancelled", what="the job to be cancelled")
        await wait_until(pilot, lambda: shown_status(app, job.id) == "cancelled", what="the table to show it")
        assert app.jobs_snapshot.running == 0
        await pilot.press("c")  # a finished job cannot be cancelled again; said, not asked
        await pilot.pause()
        assert isinstance(app.screen, JobsScreen)
        assert any("already finished" in n.message for n in notices(app))


@pytest.mark.slow
async def test_failed_lost_and_corrupt_jobs_show_why(home: Path) -> None:
    jobs_dir = Workspace(home).jobs_dir
    jm = JobManager(jobs_dir)
    failed = jm.submit("sleep", {"seconds": 0.2, "steps": 2, "fail": "error"}, project="alice")
    jm.wait(failed.id, timeout=60)
    broken = jobs_dir / "20200101-000000-beef"
    broken.mkdir(parents=True)
    (broken / "job.json").write_text("{not json", encoding="utf-8")
    app = make_app(home, project="alice")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("5")
        table = app.screen.query_one(JobsTable)
        await wait_until(pilot, lambda: table.row_count == 2, what="both jobs")
        assert row_of(app, failed.id)[COLUMN_INDEX["status"]] == "failed"
        assert row_of(app, broken.name)[COLUMN_INDEX["status"]] == "corrupt"
        table.move_cursor(row=table.get_row_index(failed.id))
        detail = str(JobDetail.describe(app.jobs_snapshot.get(failed.id)))
        assert "exit 2" in detail and "reason: the sleep self-test was asked to fail" in detail
        await wait_until(pilot, lambda: "asked to fail" in screen_text(app), what="the reason shown")
        table.move_cursor(row=table.get_row_index(broken.name))
        await wait_until(pilot, lambda: "job record unreadable" in screen_text(app), what="the corrupt record")


@pytest.mark.slow
async def test_jobs_started_while_the_screen_is_open_appear(home: Path) -> None:
    jm = JobManager(Workspace(home).jobs_dir)
    app = make_app(home, project="alice")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("5")
        await pilot.pause()
        assert "No job selected" in screen_text(app)
        job = jm.submit("sleep", {"seconds": 0.5, "steps": 5}, project="alice")
        await wait_until(pilot, lambda: app.jobs_snapshot.get(job.id) is not None, what="the new job")
        await wait_until(pilot, lambda: app.jobs_snapshot.get(job.id).status == "succeeded",
                         what="the job to succeed")
        # the table follows the snapshot on its next turn of the message loop
        await wait_until(pilot, lambda: shown_status(app, job.id) == "succeeded"
                         and row_of(app, job.id)[COLUMN_INDEX["progress"]] == "██████ 100%",
                         what="the table to show it")


def test_the_watcher_reads_the_stores_file_names() -> None:
    """jobwatch names the files itself (so the store is imported only by the watcher thread)."""
    from backend.jobs import record
    from gsv_tui import jobwatch

    assert (jobwatch.RECORD_FILE, jobwatch.EVENTS_FILE, jobwatch.LOG_FILE) == \
        (record.RECORD_FILE, record.EVENTS_FILE, record.LOG_FILE)


def test_log_follower_starts_near_the_end_with_whole_lines(tmp_path: Path) -> None:
    from gsv_tui.jobwatch import LogFollower

    log = tmp_path / "log.txt"
    log.write_text("".join(f"line {i}\r\x1b[32mline {i} done\x1b[0m\n" for i in range(5000)) + "partial",
                   encoding="utf-8")
    follower = LogFollower(log, initial_bytes=4096)
    lines = follower.read_new()
    assert lines[-1] == "line 4999 done" and len(lines) < 5000  # started near the end, whole lines
    assert all(line.startswith("line ") and line.endswith(" done") for line in lines)
    with log.open("a", encoding="utf-8") as f:
        f.write(" now\n")
    assert follower.read_new() == ["partial now"]


@pytest.mark.slow
async def test_the_log_pane_keeps_only_the_last_lines(home: Path) -> None:
    from gsv_tui.widgets.log_view import MAX_LINES

    app = make_app(home, project="alice", watch_jobs=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("5")
        await pilot.pause()
        log = app.screen.query_one(LogView)
        log.show_lines("job-x", [f"line {i}" for i in range(MAX_LINES + 500)], reset=True)
        await pilot.pause()
        assert log.line_count == MAX_LINES
        assert log.lines[0] == "line 500" and log.lines[-1] == f"line {MAX_LINES + 499}"


@pytest.mark.slow
async def test_a_screen_starts_a_job_for_the_open_project(home: Path) -> None:
    app = make_app(home, project="alice")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.screen.submit_job("sleep", {"seconds": 0.3, "steps": 3})
        job = await wait_until(pilot, lambda: next(iter(app.jobs_snapshot.jobs), None), what="the job")
        assert job.stage == "sleep" and job.project == "alice"
        await wait_until(pilot, lambda: any(f"Job {job.id} (sleep) started" in n.message
                                            for n in notices(app)), what="the notice")
        app.screen.submit_job("sleep", {"seconds": 1.0, "naps": 3})  # a typo is refused, said why
        await wait_until(pilot, lambda: any("bad parameters" in n.message and "naps" in n.message
                                            for n in notices(app)), what="the refusal")
        await wait_until(pilot, lambda: app.jobs_snapshot.get(job.id).status == "succeeded", what="success")


@pytest.mark.slow
async def test_the_table_can_show_only_the_open_projects_jobs(home: Path) -> None:
    ws = Workspace(home)
    ws.create_project("bob")
    jm = JobManager(ws.jobs_dir)
    mine = jm.submit("sleep", {"seconds": 0.1, "steps": 1}, project="alice")
    theirs = jm.submit("sleep", {"seconds": 0.1, "steps": 1}, project="bob")
    app = make_app(home, project="alice")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("5")
        table = app.screen.query_one(JobsTable)
        await wait_until(pilot, lambda: table.row_count == 2, what="both jobs")
        assert "jobs of all projects — a: only alice" in screen_text(app)
        await pilot.press("a")
        await pilot.pause()
        assert table.row_count == 1 and table.selected_id == mine.id
        assert "jobs of alice — a: all projects" in screen_text(app)
        app.open_project_named("bob")
        await wait_until(pilot, lambda: table.selected_id == theirs.id, what="bob's job only")
        await pilot.press("a")
        await pilot.pause()
        assert table.row_count == 2


@pytest.mark.slow
async def test_a_job_whose_processes_vanish_is_shown_lost_with_the_reason(home: Path) -> None:
    """The watcher's periodic reconcile notices it; no process is polled from the UI thread."""
    import os
    import signal

    jm = JobManager(Workspace(home).jobs_dir)
    job = jm.submit("sleep", {"seconds": 60.0, "steps": 60}, project="alice")
    app = make_app(home, project="alice")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("5")
        await wait_until(pilot, lambda: shown_status(app, job.id) == "running", what="the running job")
        record = await wait_until(pilot, lambda: (r := jm.get(job.id)).pid and r.supervisor_pid and r,
                                  what="its pids")
        os.kill(record.supervisor_pid, signal.SIGKILL)
        os.kill(record.pid, signal.SIGKILL)
        await pilot.press("r")  # re-check now rather than at the next periodic pass
        await wait_until(pilot, lambda: shown_status(app, job.id) == "lost", what="the job shown lost")
        await wait_until(pilot, lambda: "reason: process vanished" in screen_text(app),  # wrapped at 80
                         what="the reason under the table")
        assert "reason: process vanished without an exit record" in \
            str(JobDetail.describe(app.jobs_snapshot.get(job.id)))
        await wait_until(pilot, lambda: "0 running" in screen_text(app).splitlines()[0], what="the status line")


def test_progress_reads_in_the_unit_a_person_thinks_in() -> None:
    from gsv_tui.display import progress_detail, progress_text
    from gsv_tui.jobwatch import ProgressView

    assert progress_detail(ProgressView(3, 10, "clips", "ssl")) == "3/10 clips — ssl"
    assert progress_detail(ProgressView(412_345_678, 1_302_900_000, "bytes", "s1v3.ckpt")) == \
        "412.3/1302.9 MB — s1v3.ckpt"
    assert progress_text(ProgressView(5_000_000, None, "bytes")) == "5.0 MB"
    assert progress_text(ProgressView(1, 4, "steps"), width=4) == "█░░░  25%"


async def test_at_80_columns_a_long_job_keeps_its_state_progress_time_and_start_in_view(tmp_path: Path) -> None:
    """A long project name and a job started on another day (the widest Start) once pushed
    Start and Time past the right edge."""
    ws = Workspace(tmp_path / "home")
    ws.create_project("a-rather-long-voice-project-name")
    jm = JobManager(ws.jobs_dir)
    job = jm.submit("sleep", {"seconds": 0.1, "steps": 1}, project="a-rather-long-voice-project-name")
    jm.wait(job.id, timeout=60)
    app = make_app(ws.root, project="a-rather-long-voice-project-name")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("5")
        await wait_until(pilot, lambda: shown_status(app, job.id) == "succeeded", what="the finished job")
        table = app.screen.query_one(JobsTable)
        table.update_cell(job.id, "started", "12-01 14:03", update_width=True)  # the other-day form
        await pilot.pause()
        header = next(line for line in screen_text(app).splitlines() if line.startswith(" ID "))
        assert all(name in header for name in ("ID", "Stage", "State", "Progress", "Time", "Start")), header
