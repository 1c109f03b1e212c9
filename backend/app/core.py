"""The one door to the backend: workspace, open project, settings, jobs, and the typed requests.

The TUI's screens never build backend objects themselves; they ask ``self.app.application`` (or
the ``ModeScreen.application`` shortcut) and read its answers. That keeps the heavy parts lazy —
the job manager is imported the first time something needs it, never at start-up — and gives
tests one object to point at a temporary workspace. The requests of each mode live in the
sibling modules (:mod:`.dataset`, :mod:`.training`, :mod:`.inference`, :mod:`.review`); the
methods here are the ones every mode shares.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from ..config import Config, load_config
from ..errors import GsvError, ProjectError
from ..fsutil import atomic_write_text, read_json_file
from ..workspace import DEFAULT_VERSION, Project, Workspace

if TYPE_CHECKING:  # imported lazily at run time
    from ..jobs.manager import JobManager
    from ..jobs.record import JobRecord

Reference = dict[str, str]  # audio_path, text, language
ReferenceListener = Callable[[Reference], object]

STATE_FILE = "tui-state.json"


@dataclass
class TuiState:
    """What the TUI remembers between runs (in ``<home>/tui-state.json``)."""

    last_project: str | None = None

    @classmethod
    def load(cls, path: Path) -> "TuiState":
        data = read_json_file(path) or {}  # a lost or damaged state file only costs the remembered project
        last = data.get("last_project")
        return cls(last_project=last if isinstance(last, str) else None)

    def save(self, path: Path) -> None:
        atomic_write_text(path, json.dumps({"last_project": self.last_project}, ensure_ascii=False))


@dataclass
class Application:
    """Backend access for the TUI (and the CLI). Cheap to build: touches only small files."""

    workspace: Workspace
    config: Config = field(default_factory=Config)
    config_problem: GsvError | None = None  # a bad config.toml: reported, defaults used
    project: Project | None = None
    list_path: Path | None = None  # a .list given on the command line, for the Transcripts screen
    _jobs: "JobManager | None" = field(default=None, repr=False)
    _reference_listeners: list[ReferenceListener] = field(default_factory=list, repr=False)

    @classmethod
    def from_args(cls, home: Path | str | None = None, list_path: Path | str | None = None) -> "Application":
        try:
            config, problem = load_config(), None
        except GsvError as e:
            config, problem = Config(), e
        return cls(workspace=Workspace(home), config=config, config_problem=problem,
                   list_path=Path(list_path).expanduser().resolve() if list_path else None)

    # --- projects ----------------------------------------------------------------------------
    @property
    def state_path(self) -> Path:
        return self.workspace.root / STATE_FILE

    def remembered_project(self) -> str | None:
        return TuiState.load(self.state_path).last_project

    def list_projects(self) -> list[Project]:
        return self.workspace.list_projects()

    def open_project(self, name: str) -> Project:
        """Open ``name`` and remember it for the next start. Raises ProjectError."""
        self.project = self.workspace.open_project(name)
        self._remember(self.project.name)
        return self.project

    def create_project(self, name: str, language: str = "zh", version: str = DEFAULT_VERSION, *,
                       remember: bool = True) -> Project:
        """Create and open a project (``remember``: open it at the TUI's next start). Raises
        ProjectError with the reason a name is refused."""
        self.project = self.workspace.create_project(name, language=language, version=version)
        if remember:
            self._remember(self.project.name)
        return self.project

    def project_of_list(self) -> str | None:
        """The project a command-line .list file lives in, if it lives in one of ours."""
        if self.list_path is None:
            return None
        try:
            rel = self.list_path.relative_to(self.workspace.projects_dir.resolve())
        except ValueError:
            return None
        return rel.parts[0] if len(rel.parts) > 1 else None

    def _remember(self, name: str) -> None:
        if self.remembered_project() == name:
            return  # nothing new: spare the start-up an fsync
        try:
            TuiState(last_project=name).save(self.state_path)
        except OSError:
            pass  # a read-only workspace still works; it just forgets

    # --- jobs --------------------------------------------------------------------------------
    @property
    def jobs(self) -> "JobManager":
        """The job manager of this workspace (imported on first use, not at start-up)."""
        if self._jobs is None:
            from ..jobs.manager import JobManager

            self._jobs = JobManager(self.workspace.jobs_dir)
        return self._jobs

    def require_project(self) -> Project:
        if self.project is None:
            raise ProjectError("no project is open", "press p to open or create one")
        return self.project

    def submit(self, stage: str, params: Any, *, gpus: list[str] | str | None = None,
               after: str | None = None) -> "JobRecord":
        """Queue ``stage`` with ``params`` (its Params) for the open project; GsvError when refused."""
        project = self.project.name if self.project else None
        return self.jobs.submit(stage, params, project=project, gpus=gpus, after=after)  # type: ignore[arg-type]

    def cancel(self, job_id: str, grace: float = 5.0) -> "JobRecord":
        """TERM → grace → KILL (blocks for up to ``grace`` seconds: call it from a worker thread)."""
        return self.jobs.cancel(job_id, grace=grace)

    def default_gpus(self) -> list[str]:
        """The GPUs a job gets when none are named: config.toml's (as read at start), else every
        visible one."""
        from ..jobs.gpus import visible_gpus

        return [str(g) for g in self.config.gpus] or visible_gpus()

    # --- the inference reference -------------------------------------------------------------
    def reference(self) -> Reference | None:
        """The project's chosen inference reference (``settings.reference``), if any."""
        ref = self.project.settings.get("reference") if self.project is not None else None
        return ref if isinstance(ref, dict) and ref.get("audio_path") else None

    def set_reference(self, transcript: Any, n: int) -> Reference:
        """Make clip ``n`` of an open transcript the inference reference: stored with the project
        (so it survives a restart) and told to every listener at once — no one polls the file."""
        ref = transcript.reference_for(n)
        if transcript.project_root is None:
            transcript.keep_reference(ref)  # a list outside any project: kept in its review file
        else:  # stored with the list's project, as it is on disk now
            owner = Project.load(Path(transcript.project_root))
            owner.settings["reference"] = ref
            owner.save()
            if self.project is not None and owner.root.resolve() == self.project.root.resolve():
                self.project.settings["reference"] = ref
        for listener in list(self._reference_listeners):
            listener(ref)
        return ref

    def on_reference(self, listener: ReferenceListener) -> Callable[[], None]:
        """Call ``listener(ref)`` whenever a reference is chosen; returns the unsubscribe call."""
        self._reference_listeners.append(listener)
        return lambda: self._reference_listeners.remove(listener) if listener in self._reference_listeners else None


def describe(error: BaseException, sep: str = "\nfix: ") -> str:
    """An error as a person reads it: the message, then ``sep`` and the fix when there is one (by
    default on its own line; ``" — "`` where one line must hold both)."""
    if isinstance(error, GsvError):
        return f"{error.message}{sep}{error.fix}" if error.fix else error.message
    return str(error)
