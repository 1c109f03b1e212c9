"""What every mode screen shares: status line, mode tabs, footer, project and jobs updates.

To build a mode's real screen, subclass :class:`ModeScreen` in ``screens/<mode>.py`` (keep the
class name the app's MODES table uses), set ``MODE``, and implement ``compose_body``. Hooks:

- ``on_project(project)``: the open project changed (also called once on mount);
- ``on_jobs(snapshot)``: the job watcher saw a change (also called once on mount);
- ``palette_commands()``: commands this screen adds to the command palette;
- ``submit_job(stage, params, gpus=..., after=...)``: start a stage as a tracked job of the open
  project (in a thread worker); answers with a ``JobSubmitted`` or ``JobRefused`` message, which
  this base class already turns into a notification (a subclass's own ``on_job_submitted`` runs
  first; ``message.prevent_default()`` there skips the base notification);
- ``self.application``: the backend door (``.project``, ``.workspace``, ``.jobs``, ``.config``).

Text fields: entering one never selects its text (the cursor goes to the end), and escape leaves
it for ``HOME_FOCUS`` (a selector; none: no focus), so the mode keys work again. A screen's own
escape binding (closing an editor) is tried first.

Textual runs each class's ``on_mount`` itself (along the MRO), so a subclass's ``on_mount``
needs no ``super().on_mount()`` call; the status line and signals are set up either way.

Keys: add them to the table in :mod:`gsv_tui.keys` under the screen's context and set
``BINDINGS = keymap.bindings("<mode>")``; the help screen and user overrides read the same table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Iterable

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container
from textual.screen import Screen
from textual.widgets import Footer

from backend.app import describe
from backend.errors import GsvError

from .. import keymap
from ..commands import PaletteCommand
from ..jobwatch import JobsSnapshot
from ..messages import JobRefused, JobSubmitted
from ..widgets.fields import focus_without_selecting, is_text_field, no_select_on_focus
from ..widgets.mode_bar import ModeBar
from ..widgets.status_line import StatusLine

if TYPE_CHECKING:
    from backend.app import Application, Project
    from backend.app.playback import PlayerChooser

    from ..app import GsvApp
    from ..listening import ListenStatus


class ModeScreen(Screen[None]):
    MODE: ClassVar[str] = ""
    # Escape always gets out of a text field (a screen's own escape binding, e.g. cancelling an
    # editor, is tried first). Focus goes to HOME_FOCUS (a selector), or nowhere, so the mode
    # keys work again.
    BINDINGS = [Binding("escape", "leave_field", "Leave the field", show=False)]
    HOME_FOCUS: ClassVar[str | None] = None

    @property
    def gsv_app(self) -> "GsvApp":
        return self.app  # type: ignore[return-value]

    @property
    def application(self) -> "Application":
        return self.gsv_app.application

    def compose(self) -> ComposeResult:
        yield StatusLine(id="status-line")
        yield ModeBar(self.gsv_app.mode_tabs(), self.MODE, id="mode-bar")
        with Container(id="body"):
            yield from self.compose_body()
        yield Footer()

    def compose_body(self) -> ComposeResult:
        raise NotImplementedError

    _player: "PlayerChooser | None" = None

    @property
    def player(self) -> "PlayerChooser":
        """This screen's player, made on first use. The listening bridge, while a browser tab
        listens, takes over every player of the process (``register_front``), so no screen adds it."""
        if self._player is None:
            from backend.app.playback import PlayerChooser

            self._player = PlayerChooser()
        return self._player

    def stop_playback(self) -> None:
        if self._player is not None:
            self._player.stop()

    def key_text(self, binding_id: str) -> str:
        """The key(s) of a binding as a person sees them, their config.toml overrides included."""
        spec = keymap.all_specs()[binding_id]
        return keymap.display_key(keymap.effective_key(spec, self.gsv_app.key_overrides))

    def on_mount(self) -> None:
        """Free for subclasses. (Textual calls every class's ``on_mount`` along the MRO by
        itself, so the shared set-up lives in ``_follow_shared_state``, not here.)"""

    @on(events.Mount)
    def _follow_shared_state(self) -> None:
        # The person's keys on this screen's own bindings from the start: Textual drops a binding
        # whose *default* key a focused field types before it applies the keymap, so a key moved
        # off a letter would otherwise not work while a field has the focus.
        self._bindings.apply_keymap(self.gsv_app.key_overrides)
        no_select_on_focus(self.query("Input"))
        app = self.gsv_app
        app.project_signal.subscribe(self, self._project_changed)
        app.jobs_signal.subscribe(self, self._jobs_changed)
        app.listen_signal.subscribe(self, self._listen_changed)
        self._project_changed(self.application.project)
        self._jobs_changed(app.jobs_snapshot)
        self._listen_changed(app.listening.status())

    @on(events.DescendantFocus)
    def _cursor_to_end(self, event: events.DescendantFocus) -> None:
        focus_without_selecting(event.widget)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "leave_field":
            return is_text_field(self.focused)
        return True

    def action_leave_field(self) -> None:
        home = next(iter(self.query(self.HOME_FOCUS)), None) if self.HOME_FOCUS else None
        if home is not None and home.focusable:
            home.focus()
        else:
            self.set_focus(None)

    def _project_changed(self, project: "Project | None") -> None:
        self.query_one(StatusLine).project = (
            f"{project.name} ({project.language}, {project.version})" if project else None)
        self.on_project(project)

    def _jobs_changed(self, snapshot: JobsSnapshot) -> None:
        line = self.query_one(StatusLine)
        line.running, line.queued = snapshot.running, snapshot.queued
        line.jobs_problem = self.gsv_app.jobs_problem is not None
        self.on_jobs(snapshot)

    def _listen_changed(self, status: "ListenStatus") -> None:
        self.query_one(StatusLine).listeners = status.listeners

    # --- hooks for subclasses ------------------------------------------------------------------
    def on_project(self, project: "Project | None") -> None:
        """The open project changed."""

    def on_jobs(self, snapshot: JobsSnapshot) -> None:
        """The jobs changed (state, progress or the list itself)."""

    def palette_commands(self) -> Iterable[PaletteCommand]:
        return ()

    # --- starting jobs ---------------------------------------------------------------------------
    @work(thread=True, group="submit-job", name="submit-job")
    def submit_job(self, stage: str, params: Any, *, gpus: list[str] | str | None = None,
                   after: str | None = None) -> None:
        """Queue ``stage`` with ``params`` (its Params, from an application request) for the open project.

        Runs in a thread: submitting validates parameters, takes the store lock and may start a
        supervisor process. The job then lives on its own; the Jobs screen and ``on_jobs`` see it.
        """
        try:
            record = self.application.submit(stage, params, gpus=gpus, after=after)
        except GsvError as e:
            self.post_message(JobRefused(stage, e))
            return
        self.post_message(JobSubmitted(record.id, stage))
        self.gsv_app.poke_jobs()

    def show_error(self, e: BaseException, **kw: Any) -> None:
        """Notify a refused request: its message and fix, as the application layer words them."""
        kw.setdefault("severity", "error")
        self.notify(describe(e), markup=False, **kw)

    def on_job_submitted(self, message: JobSubmitted) -> None:
        self.notify(f"Job {message.job_id} ({message.stage}) started — key 5 shows it.", markup=False)

    def on_job_refused(self, message: JobRefused) -> None:
        e = message.error
        self.notify(f"{message.stage}: {describe(e)}",
                    title="job not started", severity="error", timeout=10, markup=False)
