"""Transcripts mode (key 2): review a .list clip by clip, from the keyboard.

Opens the ``.list`` given on the command line (``gsv-tui PATH.list``), else the project's
transcript, else the one typed into the path field (ctrl+o). Every action is one key; every
edit goes through :class:`backend.transcripts.Transcript` (undoable, logged before it takes
effect) and the file is saved a moment after the last edit, on leaving and on quitting — so
nothing is lost by quitting, crashing or a dropped SSH session.

Slow work runs in named thread workers: opening the file (``transcripts-open``), reading clip
durations (``transcripts-durations``), counting for the status line (``transcripts-stats``),
merging/splitting/deleting audio (``transcripts-audio``) and starting playback
(``transcripts-play``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.message import Message
from textual.widgets import Input

from backend.app import Project, describe
from backend.app.review import SAVED, ReviewSession, open_transcript, sort_orders, split_clip
from backend.errors import GsvError

from .. import keymap
from ..widgets.clip_table import ClipRow, ClipTable, ClipTableHeader
from ..widgets.fields import no_select_on_focus
from ..widgets.review_text import SORT_LABELS, clip_row, clip_text, detail_text, status_text, title_text
from ..widgets.text_line import TextLine
from .base import ModeScreen
from .transcript_conflict import TranscriptConflict

if TYPE_CHECKING:
    from backend.app.review import Transcript

KEYS = keymap.bindings("transcripts")

class TranscriptOpened(Message):
    def __init__(self, transcript: "Transcript | None", error: GsvError | None, path: Path) -> None:
        super().__init__()
        self.transcript, self.error, self.path = transcript, error, path


class DurationsProgress(Message):
    def __init__(self, done: int, total: int) -> None:
        super().__init__()
        self.done, self.total = done, total


class StatsReady(Message):
    def __init__(self, stats: dict[str, Any], version: int) -> None:
        super().__init__()
        self.stats, self.version = stats, version


class EditDone(Message):
    """An audio edit finished (in a worker): ``error`` is set when it was refused."""

    def __init__(self, what: str, error: GsvError | None, cursor: int | None = None) -> None:
        super().__init__()
        self.what, self.error, self.cursor = what, error, cursor


class PlayStarted(Message):
    def __init__(self, ok: bool, notice: str | None, player: str | None) -> None:
        super().__init__()
        self.ok, self.notice, self.player = ok, notice, player


class TranscriptsScreen(ModeScreen):
    """The review screen.

    Over 300 lines, on purpose: it is some forty one-key actions (each a few lines, each needing
    the cursor, the view order and the line editor they share) plus their workers. What is saved
    when, conflicts and changes on disk are decided headless by
    :class:`backend.app.review.ReviewSession`; what the lines say is :mod:`..widgets.review_text`;
    every edit is :class:`backend.transcripts.Transcript`'s. Splitting the keys across classes
    would only spread that shared state."""

    MODE = "transcripts"
    BINDINGS = KEYS
    HOME_FOCUS = "#clips"
    AUTOSAVE_DELAY = 0.8  # seconds after the last edit
    DEFAULT_CSS = """
    TranscriptsScreen #review-title { height: 1; padding: 0 1; background: $boost; }
    TranscriptsScreen ClipTableHeader { height: 1; text-style: bold; background: $panel; }
    TranscriptsScreen Input.inline { height: 1; border: none; padding: 0 1; background: $accent 30%; }
    TranscriptsScreen #clip-text { height: 3; padding: 0 1; background: $surface; }
    TranscriptsScreen #clip-detail { height: 1; padding: 0 1; color: $text-muted; }
    TranscriptsScreen #review-status { height: 1; padding: 0 1; background: $boost; }
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.session = ReviewSession()
        self.view: list[int] = []  # clip ordinals in display order
        self.sort_kind = "file"
        self.autoplay = False
        self.editing: str | None = None  # "edit" | "search" | "split" | "split-text" | "open"
        self._edit_target: int | None = None
        self._split_seconds: float | None = None  # chosen time while the split's text cut is asked
        self.last_query = ""
        self.stats: dict[str, Any] = {}
        self.durations_done = (0, 0)
        self.busy: str | None = None
        self._autosave_timer: Any = None
        self._stats_timer: Any = None
        self.player_name: str | None = None
        self.playing_clip: int | None = None
        self._play_key: str | None = None  # the clip (path) whose playback is starting
        self._play_notice_shown = False
        self._opened_path: Path | None = None
        self._picked_by_hand = False  # opened with ctrl+o: stays open when the project changes
        self._opening_by_hand = False
        self._unopenable: Path | None = None  # refused once: not retried by the disk check

    @property
    def transcript(self) -> "Transcript | None":
        return self.session.transcript

    @property
    def saved_state(self) -> str:
        return self.session.state

    # --- layout -------------------------------------------------------------------------
    def _title_text(self) -> Text:
        return title_text(self._opened_path or self._wanted_path(), self._transcribe_key())

    def _transcribe_key(self) -> str:
        """The Dataset screen's transcribe key as the person has it (config overrides included)."""
        return self.key_text("dataset.asr")

    def compose_body(self) -> ComposeResult:
        yield TextLine(self._title_text(), id="review-title")
        yield ClipTableHeader()
        yield ClipTable(id="clips")
        yield TextLine("", id="clip-text")
        yield TextLine("", id="clip-detail")
        yield TextLine("", id="review-status")

    DISK_CHECK_INTERVAL = 2.0  # seconds between looks at the file's size and mtime

    def on_mount(self) -> None:
        self.query_one(ClipTable).focus()
        self.set_interval(self.DISK_CHECK_INTERVAL, self._check_disk)

    def _check_disk(self) -> None:
        """Another program rewrote the list (e.g. ASR appended clips): with nothing of ours
        unsaved, follow it; with edits pending, the next save asks what to do. A transcript
        that appeared since the screen opened (an ASR job finished) is opened."""
        if self.busy or self.editing is not None:
            return
        if self.transcript is None:
            wanted = self._wanted_path()
            if wanted is not None and wanted not in (self._opened_path, self._unopenable):
                self.open_list(wanted)
            return
        try:
            fresh = self.session.follow_disk()
        except GsvError as e:
            self._error(e)
            return
        if fresh is not None:
            self._adopt(fresh)
            self.session.state = SAVED  # what is shown is what is on disk
            self._refresh_status()
            self.notify(f"{fresh.path.name} changed on disk; reloaded.", markup=False, timeout=4)

    def on_project(self, project: Project | None) -> None:
        wanted = self._wanted_path()
        if wanted is not None and wanted != self._opened_path:
            self.open_list(wanted)
        elif wanted is None and self.transcript is not None and not self._picked_by_hand:
            self._close_list()  # the new project has no transcript yet
        self.query_one("#review-title", TextLine).set(self._title_text())

    def _close_list(self) -> None:
        self._flush_save()
        self._stop_playback()
        self.session.adopt(None)
        self.view, self.stats = [], {}
        self._opened_path = None
        self.query_one(ClipTable).set_source(0, self._row)
        self._show_detail()
        self._refresh_status()

    def _wanted_path(self) -> Path | None:
        if self.application.list_path is not None:
            return self.application.list_path
        p = self.application.project
        if p is not None and p.transcript_path.exists():
            return p.transcript_path
        return None

    # --- opening ------------------------------------------------------------------------
    def open_list(self, path: Path, by_hand: bool = False) -> None:
        self._flush_save()
        self._opened_path = path
        self._opening_by_hand = by_hand
        self.query_one("#review-title", TextLine).set(self._title_text())
        self._open_worker(path)

    @work(thread=True, exclusive=True, group="transcripts-open", name="transcripts-open")
    def _open_worker(self, path: Path) -> None:
        try:
            t = open_transcript(path)
        except GsvError as e:
            self.post_message(TranscriptOpened(None, e, path))
            return
        self.post_message(TranscriptOpened(t, None, path))

    def on_transcript_opened(self, msg: TranscriptOpened) -> None:
        if msg.error is not None:
            self._error(msg.error)
            self._unopenable = msg.path
            self._opened_path = self.transcript.path if self.transcript is not None else None
            self.query_one("#review-title", TextLine).set(self._title_text())
            return
        t = msg.transcript
        assert t is not None
        self._unopenable = None
        self.session.adopt(t)
        self._picked_by_hand = self._opening_by_hand
        self.sort_kind = "file"
        self.view = list(range(len(t)))
        table = self.query_one(ClipTable)
        table.set_source(len(self.view), self._row)
        table.cursor = 0
        for n in t.notices:
            self.notify(n, markup=False, timeout=8)
        if t.problems:
            shown = "; ".join(str(p) for p in t.problems[:3])
            more = f" (+{len(t.problems) - 3} more)" if len(t.problems) > 3 else ""
            self.notify(f"{len(t.problems)} line(s) are not clips and are kept as they are: {shown}{more}",
                        title="malformed lines", severity="warning", markup=False, timeout=12)
        # Durations are read once the first rows are on screen, in the background.
        self.set_timer(0.2, lambda: self._load_durations(t))
        self._refresh_status()
        if t.dirty:  # edits recovered from a previous session
            self._schedule_save()

    @work(thread=True, exclusive=True, group="transcripts-durations", name="transcripts-durations")
    def _load_durations(self, t: "Transcript") -> None:
        from textual.worker import get_current_worker

        worker = get_current_worker()
        if self.transcript is not t:
            return
        t.load_durations(lambda d, n: self.post_message(DurationsProgress(d, n)),
                         stop=lambda: worker.is_cancelled or self.transcript is not t, yield_every=25)
        if self.transcript is t:
            self.post_message(DurationsProgress(len(t), len(t)))

    def on_durations_progress(self, msg: DurationsProgress) -> None:
        self.durations_done = (msg.done, msg.total)
        self.query_one(ClipTable).invalidate()
        self._refresh_status()
        if msg.done >= msg.total:
            self._compute_stats()

    # --- drawing ------------------------------------------------------------------------
    def _row(self, pos: int) -> ClipRow:
        t = self.transcript
        return clip_row(t, self.view[pos]) if t is not None and pos < len(self.view) else ClipRow("", "", "", "", "")

    def _current(self) -> int | None:
        if self.transcript is None or not self.view:
            return None
        pos = self.query_one(ClipTable).cursor
        return self.view[pos] if 0 <= pos < len(self.view) else None

    @on(ClipTable.CursorMoved)
    def _cursor_moved(self, msg: ClipTable.CursorMoved) -> None:
        self._show_detail()
        if self.autoplay and self.editing is None:
            self.action_play(force=True)

    def _show_detail(self) -> None:
        t, n = self.transcript, self._current()
        shown = t is not None and n is not None
        self.query_one("#clip-text", TextLine).set(clip_text(t, n) if shown else "")  # type: ignore[arg-type]
        line = self.query_one("#clip-detail", TextLine)
        width = line.content_region.width or self.app.size.width - 2
        line.set(detail_text(t, n, width) if shown else "")  # type: ignore[arg-type]

    def on_resize(self) -> None:
        self.call_after_refresh(self._show_detail)  # the folder is cut to the new width

    def _refresh_status(self) -> None:
        t = self.transcript
        self.query_one("#review-status", TextLine).set(
            "" if t is None else status_text(t, self.stats, self.durations_done, self.sort_kind, self.autoplay,
                                             self.saved_state, self.busy))

    STATS_DELAY = 0.3  # recount after edits settle: a count of 10 000 clips is not free

    def _compute_stats(self) -> None:
        if self._stats_timer is not None:
            self._stats_timer.stop()
        self._stats_timer = self.set_timer(self.STATS_DELAY, self._start_stats)

    def _start_stats(self) -> None:
        self._stats_timer = None
        if self.transcript is not None:
            self._stats_worker(self.transcript, self.transcript.version)

    @work(thread=True, exclusive=True, group="transcripts-stats", name="transcripts-stats")
    def _stats_worker(self, t: "Transcript", version: int) -> None:
        try:
            stats = t.stats()
        except (GsvError, IndexError):
            return  # the list changed under us; the next edit recomputes
        self.post_message(StatsReady(stats, version))

    def on_stats_ready(self, msg: StatsReady) -> None:
        self.stats = msg.stats
        self._refresh_status()

    # --- after every change ---------------------------------------------------------------
    def _changed(self, keep: int | None = None) -> None:
        """Rebuild the view after an edit and put the cursor on clip ordinal ``keep``."""
        t = self.transcript
        if t is None:
            return
        table = self.query_one(ClipTable)
        if self.sort_kind == "file" or len(self.view) != len(t):
            self.view = t.order(self.sort_kind) if self.sort_kind != "file" else list(range(len(t)))
        table.set_source(len(self.view), self._row)
        if keep is not None and self.view:
            keep = max(0, min(keep, len(t) - 1))
            table.cursor = self.view.index(keep) if keep in self.view else min(table.cursor, len(self.view) - 1)
        table.invalidate()
        self._show_detail()
        self.session.edited()
        self._refresh_status()
        self._load_durations(t)  # new clips (merge, split, restore) and any left unread
        self._schedule_save()

    def _schedule_save(self) -> None:
        if self._autosave_timer is not None:
            self._autosave_timer.stop()
        self._autosave_timer = self.set_timer(self.AUTOSAVE_DELAY, self._autosave)

    def _autosave(self) -> None:
        self._autosave_timer = None
        self._save()

    def _save(self, force: bool = False) -> bool:
        result = self.session.save(force=force)
        self._refresh_status()
        if result.conflict:
            t = self.transcript
            if t is not None and not isinstance(self.app.screen, TranscriptConflict):
                self.app.push_screen(TranscriptConflict(t.path.name), self._resolve_conflict)
        elif result.error is not None:
            self._error(result.error)
        return result.ok

    def _flush_save(self) -> None:
        if self._autosave_timer is not None:
            self._autosave_timer.stop()
            self._autosave_timer = None
        if self.session.dirty:
            self._save()

    def _resolve_conflict(self, choice: str | None) -> None:
        try:
            fresh = self.session.resolve(choice)
        except GsvError as e:
            self._error(e)
            self._refresh_status()
            return
        if fresh is not None:
            self._adopt(fresh)
        self._refresh_status()

    def _adopt(self, t: "Transcript") -> None:
        """Show ``t`` (reloaded or merged; the session already holds it)."""
        cur = self._current()
        for n in t.notices:
            self.notify(n, markup=False)
        self._changed(keep=cur)
        self._load_durations(t)

    def on_unmount(self) -> None:
        """Leaving (quit, or the app closing): stop the sound and write what is pending. The
        widgets are gone by now, so problems go to a notification only."""
        self._stop_playback()
        if self._autosave_timer is not None:
            self._autosave_timer.stop()
        t = self.transcript
        result = self.session.flush()
        if t is not None and result is not None and not result.ok:  # the history log still holds every edit
            why = result.error if result.error is not None else "it changed on disk"
            self.app.notify(f"{t.path.name} not saved: {why}", severity="error", markup=False)

    def _error(self, e: BaseException) -> None:
        self.notify(describe(e), severity="error", markup=False, timeout=10)

    # --- guards ---------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("cancel",):
            return self.editing is not None
        if action == "open_path":
            return True
        if self.editing is not None and action not in ("save_now",):
            return False  # the line editor has the keys (its escape cancels)
        return super().check_action(action, parameters)

    def _need(self) -> int | None:
        n = self._current()
        if n is None:
            self.notify("No clip selected — open a .list first (ctrl+o).", markup=False)
            return None
        if self.busy:
            self.notify(f"Still {self.busy}; try again in a moment.", markup=False)
            return None
        return n

    # --- moving ---------------------------------------------------------------------------
    def action_move(self, delta: int) -> None:
        self.query_one(ClipTable).move(delta)

    def action_page(self, direction: int) -> None:
        table = self.query_one(ClipTable)
        table.move(direction * max(table.size.height - 1, 1))

    def action_jump(self, pos: int) -> None:
        table = self.query_one(ClipTable)
        if table.count:
            table.cursor = pos % table.count

    def action_flagged(self, direction: int) -> None:
        t = self.transcript
        if t is None or not self.view:
            return
        table = self.query_one(ClipTable)
        pos = t.next_flagged(self.view, table.cursor, backward=direction < 0)
        if pos is None:
            self.notify("No flagged clips.", markup=False)
        else:
            table.cursor = pos

    def action_sort(self) -> None:
        t = self.transcript
        if t is None:
            return
        SORT_ORDERS = sort_orders()
        cur = self._current()
        self.sort_kind = SORT_ORDERS[(SORT_ORDERS.index(self.sort_kind) + 1) % len(SORT_ORDERS)]
        self.view = t.order(self.sort_kind)
        table = self.query_one(ClipTable)
        table.set_source(len(self.view), self._row)
        if cur is not None:
            table.cursor = self.view.index(cur)
        self._refresh_status()
        self.notify(f"Sorted: {SORT_LABELS[self.sort_kind]}.", markup=False, timeout=3)

    def action_autoplay(self) -> None:
        self.autoplay = not self.autoplay
        self._refresh_status()

    # --- the line editor (edit text, search, split time, open path) -------------------------
    async def _open_editor(self, kind: str, value: str, placeholder: str, cursor: int | None = None) -> None:
        """Show the one-line editor (mounted only while in use: no idle controls on screen).
        The cursor goes to the end of ``value`` (or to ``cursor``); nothing is selected, so a
        typed key never replaces the text."""
        await self._remove_editor()
        widget_id = "list-path" if kind == "open" else "line-editor"
        ed = Input(value=value, placeholder=placeholder, id=widget_id)
        no_select_on_focus([ed])
        if kind in ("edit", "split-text"):
            ed.add_class("inline")
        self.editing = kind
        table = self.query_one(ClipTable)
        await self.query_one("#body").mount(ed, after=table)
        ed.focus()
        ed.cursor_position = len(value) if cursor is None else cursor
        if kind in ("edit", "split-text"):
            table._follow()
            self.call_after_refresh(self._place_inline, ed)

    def _place_inline(self, ed: Input) -> None:
        """Draw the text editor over the whole cursor row, full width (its layout slot stays
        below the table; only where it is drawn moves). The row's number and path stay in view
        in the detail lines below."""
        table = self.query_one(ClipTable)
        if not ed.is_attached:
            return
        row_y = table.region.y + table.cursor - round(table.scroll_offset.y)
        ed.styles.width = max(table.region.width, 10)
        ed.styles.offset = (0, row_y - ed.region.y)

    async def _remove_editor(self) -> None:
        for w in list(self.query("#line-editor, #list-path")):
            await w.remove()

    def _close_editor(self) -> None:
        self.editing = None
        self._edit_target = None
        self._split_seconds = None
        for w in list(self.query("#line-editor, #list-path")):
            w.remove()
        self.query_one(ClipTable).focus()

    def action_cancel(self) -> None:
        self._close_editor()

    async def action_edit(self) -> None:
        n = self._need()
        if n is None or self.transcript is None:
            return
        await self._open_editor("edit", self.transcript.clip(n).text.strip(),
                                "text of this clip — enter saves, esc cancels")
        self._edit_target = n

    async def action_search(self) -> None:
        if self.transcript is None:
            return
        await self._open_editor("search", self.last_query, "search text or file name — enter finds the next")

    async def action_open_path(self) -> None:
        await self._open_editor("open", str(self._opened_path or ""),
                                "path of a .list file — enter opens it, esc cancels")

    @on(Input.Submitted, "#list-path")
    def _path_submitted(self, event: Input.Submitted) -> None:
        value = event.value.strip()
        self._close_editor()
        if value:
            self.open_list(Path(value).expanduser().resolve(), by_hand=True)

    @on(Input.Submitted, "#line-editor")
    async def _editor_submitted(self, event: Input.Submitted) -> None:
        kind, value, target, seconds = self.editing, event.value, self._edit_target, self._split_seconds
        text_at = event.input.cursor_position
        self._close_editor()
        t = self.transcript
        if t is None:
            return
        if kind == "edit" and target is not None:
            try:
                if t.set_text(target, value):
                    self._changed(keep=target)
            except GsvError as e:
                self._error(e)
        elif kind == "search":
            self.last_query = value
            pos = t.search(value, self.view, self.query_one(ClipTable).cursor)
            if pos is None:
                self.notify(f"Not found: {value}", markup=False)
            else:
                self.query_one(ClipTable).cursor = pos
        elif kind == "split" and target is not None:
            try:
                at = float(value.strip().rstrip("s").strip())
            except ValueError:
                self.notify(f"Not a time in seconds: {value!r}", severity="error", markup=False)
                return
            await self._ask_text_cut(target, at)
        elif kind == "split-text" and target is not None and seconds is not None:
            self._split_at(target, seconds, text_at)

    # --- editing keys -----------------------------------------------------------------------
    def action_language(self) -> None:
        n = self._need()
        if n is None or self.transcript is None:
            return
        self.transcript.cycle_language(n)
        self.transcript.mark_reviewed(n)
        self._changed(keep=n)

    def action_undo(self) -> None:
        self._history("undo")

    def action_redo(self) -> None:
        self._history("redo")

    def _history(self, which: str) -> None:
        t = self.transcript
        if t is None or self.busy:
            return
        cur = self._current()
        try:
            label = t.undo() if which == "undo" else t.redo()
        except (GsvError, OSError) as e:
            self._error(e)
            return
        if label is None:
            self.notify(f"Nothing to {which}.", markup=False, timeout=3)
            return
        self.notify(f"{which.capitalize()}: {label}", markup=False, timeout=3)
        self._changed(keep=cur)

    def action_delete(self) -> None:
        n = self._need()
        if n is not None:
            self._stop_playback()
            self._audio_edit("deleting", lambda t: _deleted(t, n))

    def action_merge(self) -> None:
        n = self._need()
        if n is not None:
            self._stop_playback()
            self._audio_edit("merging", lambda t: (t.merge_next(n), n)[1])

    async def action_split(self) -> None:
        n = self._need()
        if n is None or self.transcript is None:
            return
        pos = self._player.position() if self._player is not None and self.playing_clip == n else None
        if pos is not None and pos > 0:
            self._stop_playback()
            await self._ask_text_cut(n, pos)
            return
        d = self.transcript.duration(n)
        await self._open_editor("split", "", f"split at how many seconds? (0–{d:.2f})" if d else
                                "split at how many seconds?")
        self._edit_target = n

    async def _ask_text_cut(self, n: int, at: float) -> None:
        """The audio is cut at ``at`` seconds; the text is cut where the person puts the editor's
        cursor (it starts where the time falls in proportion). Enter splits, escape cancels."""
        t = self.transcript
        if t is None:
            return
        text = t.clip(n).text.strip()
        if not text:
            self._split_at(n, at, None)
            return
        d = t.duration(n)
        guess = round(len(text) * min(max(at / d, 0.0), 1.0)) if d else len(text)
        await self._open_editor("split-text", text, "", cursor=guess)
        self._edit_target, self._split_seconds = n, at
        self.notify(f"Split at {at:.2f} s: put the cursor where the second clip's text begins, then enter.",
                    markup=False, timeout=6)

    def _split_at(self, n: int, at: float, text_at: int | None) -> None:
        self._audio_edit("splitting", lambda t: split_clip(t, n, at, text_at))

    def _audio_edit(self, what: str, fn: Callable[["Transcript"], int]) -> None:
        t = self.transcript
        if t is None:
            return
        self.busy = what
        self._refresh_status()
        self._audio_worker(t, what, fn)

    @work(thread=True, exclusive=True, group="transcripts-audio", name="transcripts-audio")
    def _audio_worker(self, t: "Transcript", what: str, fn: Callable[["Transcript"], int]) -> None:
        try:
            cursor = fn(t)
        except (GsvError, OSError) as e:
            err = e if isinstance(e, GsvError) else GsvError(str(e))
            self.post_message(EditDone(what, err))
            return
        self.post_message(EditDone(what, None, cursor))

    def on_edit_done(self, msg: EditDone) -> None:
        self.busy = None
        if msg.error is not None:
            self._error(msg.error)
            self._refresh_status()
            return
        self._changed(keep=msg.cursor)

    def action_restore(self) -> None:
        t = self.transcript
        if t is None or self.busy:
            return
        items = t.trashed()
        if not items:
            self.notify("Nothing deleted to restore.", markup=False, timeout=3)
            return
        try:
            n = t.restore(items[0])
        except (GsvError, OSError) as e:
            self._error(e)
            return
        self.notify(f"Restored {Path(items[0].row.path.replace(chr(92), '/')).name}.", markup=False, timeout=3)
        self._changed(keep=n)

    def action_reference(self) -> None:
        n = self._need()
        if n is None or self.transcript is None:
            return
        try:
            ref = self.application.set_reference(self.transcript, n)
        except GsvError as e:
            self._error(e)
            return
        d = self.transcript.duration(n)
        note = "" if d is None or 3.0 <= d <= 10.0 else f" (it is {d:.1f} s; references work best at 3–10 s)"
        self.notify(f"Inference reference: {Path(ref['audio_path']).name} — {ref['text']}{note}",
                    markup=False, timeout=6)
        if self.transcript.dirty:
            self._schedule_save()

    def action_save_now(self) -> None:
        if self._save():
            self.notify("Saved.", markup=False, timeout=2)

    # --- playback ---------------------------------------------------------------------------

    def action_play(self, force: bool = False) -> None:
        n = self._current()
        t = self.transcript
        if n is None or t is None:
            return
        if not force and self.playing_clip == n and self.player.position() is not None:
            self._stop_playback()
            return
        path = t.audio_path(n)
        if path is None:
            self.notify(f"Audio of clip {n + 1} is missing.", severity="warning", markup=False, timeout=4)
            return
        self.playing_clip = n
        c = t.clip(n)
        self._play_key = c.path
        info = {"name": path.name, "text": c.text.strip(), "duration": t.known_duration(n)}
        self._play_worker(path, info)
        self.query_one(ClipTable).invalidate()

    @work(thread=True, exclusive=True, group="transcripts-play", name="transcripts-play")
    def _play_worker(self, path: Path, info: dict[str, Any]) -> None:
        res = self.player.play(path, 0.0, info)
        self.post_message(PlayStarted(res.ok, res.notice, res.player))

    def on_play_started(self, msg: PlayStarted) -> None:
        self.player_name = msg.player
        if msg.notice:
            self.notify(msg.notice, markup=False, timeout=10,
                        severity="information" if msg.player is None else "warning")
        key, self._play_key = self._play_key, None
        if not msg.ok:
            self.playing_clip = None
            return  # not heard, so not reviewed
        t, n = self.transcript, self.playing_clip
        if t is not None and n is not None and key is not None and n < len(t) and t.clip(n).path == key:
            t.mark_reviewed(n)  # heard: the ✓ goes on
            self.query_one(ClipTable).invalidate()
            self._schedule_save()

    def _stop_playback(self) -> None:
        self.playing_clip = None
        self.stop_playback()

    # --- palette ----------------------------------------------------------------------------
    def palette_commands(self):  # type: ignore[no-untyped-def]
        from ..commands import PaletteCommand

        yield PaletteCommand("Open a .list…", "review any transcript file", self.action_open_path)
        yield PaletteCommand("Transcripts: sort order", "file / worst confidence / duration", self.action_sort)
        yield PaletteCommand("Transcripts: restore last deleted clip", "from the trash", self.action_restore)


def _deleted(transcript: Transcript, n: int) -> int:
    """Delete clip ``n``; the position to show afterwards is the same ordinal."""
    transcript.delete(n)
    return n
