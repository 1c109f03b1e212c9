"""The gsv-tui app: one mode per pipeline stage plus Jobs, a project picker, help and commands.

Where things are:

- ``MODES`` maps each mode to its screen class (one file each in ``screens/``); keys 1–5 switch.
- ``application`` is the door to the backend (workspace, open project, job manager, settings).
- Three signals let any screen follow shared state without the app knowing the screen:
  ``project_signal`` (the open project changed), ``jobs_signal`` (a new :class:`JobsSnapshot`)
  and ``log_signal`` (lines of the followed job's log).
- ``listen_signal`` carries the listening bridge's :class:`ListenStatus`; ``playback_front`` is the
  browser player while a tab listens (screens give it to their ``PlayerChooser.add_front``).
- A single watcher thread (``jobs-watcher`` worker) reads the job files and posts Messages; the
  UI thread never polls processes.
"""

from __future__ import annotations

import functools
import importlib
from pathlib import Path
from typing import Iterable

from textual import events
from textual.app import App
from textual.screen import ModalScreen, Screen
from textual.signal import Signal
from textual.worker import get_current_worker

from backend.app import Application, Project, describe
from backend.errors import GsvError

from . import keymap
from .commands import GsvCommands, PaletteCommand
from .jobwatch import JobsSnapshot, JobsWatcher
from .listening import ListeningService, ListenStatus
from .messages import JobsUnavailable, JobsUpdated, ListenChanged, LogLines
from .screens.help import HelpScreen
from .screens.listen import ListenScreen
from .screens.project_picker import ProjectPicker
from .widgets.mode_bar import ModeTab

MODE_TITLES = {"dataset": "Dataset", "transcripts": "Transcripts", "training": "Training",
               "inference": "Inference", "jobs": "Jobs"}


def _screen(module: str, name: str) -> Screen[None]:
    return getattr(importlib.import_module(f"{__package__}.screens.{module}"), name)()


class GsvApp(App[None]):
    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute: subclasses elsewhere still find it
    TITLE = "gsv-tui"
    # Each mode's screen module is imported the first time the mode is shown: start-up pays
    # only for the screen it opens on.
    MODES = {
        "dataset": lambda: _screen("dataset", "DatasetScreen"),
        "transcripts": lambda: _screen("transcripts", "TranscriptsScreen"),
        "training": lambda: _screen("training", "TrainingScreen"),
        "inference": lambda: _screen("inference", "InferenceScreen"),
        "jobs": lambda: _screen("jobs", "JobsScreen"),
    }
    DEFAULT_MODE = "dataset"
    BINDINGS = keymap.APP_KEYS
    COMMANDS = {GsvCommands}  # it also lists Textual's system commands, after ours
    # Blocked while a modal (help, picker, confirmation) is open: it must be answered or closed.
    MODAL_BLOCKED = frozenset({"switch_mode", "pick_project", "help"})

    def __init__(self, application: Application | None = None, *, project: str | None = None,
                 watch_jobs: bool = True, watch_interval: float = 0.5, listen: bool = True) -> None:
        application = application or Application.from_args()
        if application.list_path is not None:
            self.DEFAULT_MODE = "transcripts"  # type: ignore[misc]  # `gsv-tui PATH.list` opens straight into review
        super().__init__()
        self.application = application
        self.requested_project = project
        self.project_signal: Signal[Project | None] = Signal(self, "project")
        self.jobs_signal: Signal[JobsSnapshot] = Signal(self, "jobs")
        self.log_signal: Signal[LogLines] = Signal(self, "log")
        self.listen_signal: Signal[ListenStatus] = Signal(self, "listen")
        self.listening = ListeningService(application.config, lambda: self.post_message(ListenChanged()),
                                          home=application.workspace.root)
        self._listen_announced = False
        self._listen = listen
        self.jobs_snapshot = JobsSnapshot()
        self.jobs_problem: str | None = None
        report = keymap.validate_overrides(application.config.keys)
        self.key_overrides = report.keymap
        self.key_problems = report.problems
        self.set_keymap(report.keymap)
        self._bindings.apply_keymap(report.keymap)  # see ModeScreen._follow_shared_state
        self._watch_jobs = watch_jobs
        self._watch_interval = watch_interval
        self._watcher: JobsWatcher | None = None

    # --- start-up --------------------------------------------------------------------------------
    def on_mount(self) -> None:
        # print() from any library while the app runs goes to the log (see quiet.py), not nowhere.
        self.begin_capture_print(self, stdout=True, stderr=True)
        if self.application.config_problem is not None:
            e = self.application.config_problem
            self.notify(describe(e), title="config.toml ignored",
                        severity="error", timeout=15, markup=False)
        for problem in self.key_problems:
            self.notify(problem, title="key override ignored", severity="warning", timeout=15, markup=False)
        self.project_signal.subscribe(self, lambda p: self.listening.follow_project(p.root if p else None))
        self._open_initial_project()
        if self._listen:
            self.call_after_refresh(self._start_listening)
        if self._watch_jobs:  # after the first frame: the watcher's start-up would compete with it
            self.call_after_refresh(self._start_watcher)

    def _open_initial_project(self) -> None:
        explicit = self.requested_project or self.application.project_of_list()
        name = explicit or self.application.remembered_project()
        if name:
            try:
                self.application.open_project(name)
            except GsvError as e:
                if explicit:
                    self.notify(describe(e), severity="error",
                                timeout=10, markup=False)
            else:
                self.project_signal.publish(self.application.project)
                return
        if self.application.list_path is None:  # a .list outside any project is reviewed as it is
            self.action_pick_project()

    # --- listening bridge -------------------------------------------------------------------------
    def _start_listening(self) -> None:
        project = self.application.project
        self.listening.start([project.root] if project else [])  # reports back through ListenChanged

    def on_listen_changed(self, message: ListenChanged) -> None:
        status = self.listening.status()
        self.listen_signal.publish(status)
        if status.running and not self._listen_announced:
            self._listen_announced = True
            if status.warning:
                self.notify(status.warning, title="listening bridge", severity="warning", timeout=15, markup=False)
            if status.ssh_hint:
                self.notify("Over SSH: press w to hear clips in your own browser.", timeout=8, markup=False)
        if isinstance(self.screen, ListenScreen):
            self.screen.update_status(status)

    def playback_front(self) -> object | None:
        """The browser player while a tab listens to the bridge, else None."""
        return self.listening.front_player()

    def action_listen(self) -> None:
        if not isinstance(self.screen, ListenScreen):
            self.push_screen(ListenScreen(self.listening.status()))

    # --- project --------------------------------------------------------------------------------
    def project_opened(self, project: Project | None) -> None:
        if project is None:
            return
        self.project_signal.publish(project)
        self.notify(f"Project {project.name} is open ({project.language}, {project.version}).", markup=False)

    def action_pick_project(self, new: bool = False) -> None:
        current = self.application.project.name if self.application.project else self.application.remembered_project()
        self.push_screen(ProjectPicker(self.application, highlight=current, start_new=new), self.project_opened)

    # --- help and modes -------------------------------------------------------------------------
    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.key_overrides, self.key_problems))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in self.MODAL_BLOCKED and isinstance(self.screen, ModalScreen):
            return False
        return True

    @functools.cached_property
    def mode_keys(self) -> frozenset[str]:
        """The keys that switch modes, overrides included (an empty path field lets them through;
        asked on every key there, and the overrides are fixed at start)."""
        specs = keymap.all_specs()
        return frozenset(k.strip() for m in keymap.MODE_ORDER
                         for k in keymap.effective_key(specs[f"app.mode.{m}"], self.key_overrides).split(","))

    def mode_tabs(self) -> list[ModeTab]:
        specs = keymap.all_specs()
        return [ModeTab(m, keymap.display_key(keymap.effective_key(specs[f"app.mode.{m}"], self.key_overrides)),
                        MODE_TITLES[m]) for m in keymap.MODE_ORDER]

    # --- command palette -----------------------------------------------------------------------
    def palette_commands(self) -> Iterable[PaletteCommand]:
        """App-wide commands (the current screen adds its own; see commands.GsvCommands)."""
        for tab in self.mode_tabs():
            yield PaletteCommand(f"Go to {tab.title}", f"switch mode (key {tab.key})",
                                 functools.partial(self.switch_mode, tab.mode))
        yield PaletteCommand("Open project…", "pick a project of this workspace", self.action_pick_project)
        yield PaletteCommand("Create project…", "a new voice: name, language, model version",
                             lambda: self.action_pick_project(new=True))
        current = self.application.project.name if self.application.project else None
        for p in self.application.list_projects():
            if p.name != current:
                yield PaletteCommand(f"Open project {p.name}", f"{p.language}, {p.version}",
                                     functools.partial(self.open_project_named, p.name), discover=False)
        yield PaletteCommand("Show keys", "every key and its binding id", self.action_help)
        yield PaletteCommand("Listen in your browser…", "hear clips over SSH: the bridge URL and the ssh command",
                             self.action_listen)

    def open_project_named(self, name: str) -> None:
        try:
            project = self.application.open_project(name)
        except GsvError as e:
            self.notify(describe(e), severity="error", markup=False)
            return
        self.project_opened(project)

    # --- jobs -------------------------------------------------------------------------------------
    def _start_watcher(self) -> None:
        self._watcher = JobsWatcher(
            lambda: self.application.jobs,
            on_snapshot=lambda snap: self.post_message(JobsUpdated(snap)),
            on_log=lambda job_id, lines, reset: self.post_message(LogLines(job_id, lines, reset)),
            on_problem=lambda problem: self.post_message(JobsUnavailable(problem)),
            interval=self._watch_interval,
        )
        self.run_worker(self._run_watcher, thread=True, name="jobs-watcher", group="jobs-watcher",
                        exit_on_error=False)

    def _run_watcher(self) -> None:
        watcher = self._watcher
        assert watcher is not None
        worker = get_current_worker()
        watcher.run(stop_when=lambda: worker.is_cancelled)

    def follow_log(self, job_id: str | None) -> None:
        if self._watcher is not None:
            self._watcher.follow(job_id)

    def poke_jobs(self, reconcile: bool = False) -> None:
        if self._watcher is not None:
            self._watcher.poke(reconcile=reconcile)

    def on_jobs_updated(self, message: JobsUpdated) -> None:
        self.jobs_snapshot = message.snapshot
        self.jobs_signal.publish(message.snapshot)

    def on_log_lines(self, message: LogLines) -> None:
        self.log_signal.publish(message)

    def on_jobs_unavailable(self, message: JobsUnavailable) -> None:
        self.jobs_problem = message.problem
        if message.problem:
            self.notify(f"Cannot read the job store: {message.problem}", severity="error", timeout=10,
                        markup=False)
        self.jobs_signal.publish(self.jobs_snapshot)

    def on_print(self, event: events.Print) -> None:
        import logging

        text = event.text.rstrip("\n")
        if text:
            logging.getLogger("gsv_tui.print").log(logging.WARNING if event.stderr else logging.INFO, text)

    def on_unmount(self) -> None:
        self.listening.stop()
        if self._watcher is not None:
            self._watcher.stop()
