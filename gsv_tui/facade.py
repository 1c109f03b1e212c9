"""The one door from the TUI to the backend: workspace, open project, jobs, user settings.

Screens never build backend objects themselves; they ask ``self.app.facade`` (or the
``ModeScreen.facade`` shortcut). That keeps the heavy parts lazy — the job manager is imported
the first time something needs it, never at start-up — and gives tests one object to point at a
temporary workspace.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from backend.config import Config, load_config
from backend.errors import GsvError, ProjectError
from backend.fsutil import atomic_write_text
from backend.workspace import DEFAULT_VERSION, Project, Workspace

if TYPE_CHECKING:  # imported lazily at run time
    from backend.jobs.manager import JobManager

STATE_FILE = "tui-state.json"


@dataclass
class TuiState:
    """What the TUI remembers between runs (in ``<home>/tui-state.json``)."""

    last_project: str | None = None

    @classmethod
    def load(cls, path: Path) -> "TuiState":
        try:
            data: Any = json.loads(path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError, UnicodeDecodeError):
            return cls()  # a lost or damaged state file only costs the remembered project
        if not isinstance(data, dict):
            return cls()
        last = data.get("last_project")
        return cls(last_project=last if isinstance(last, str) else None)

    def save(self, path: Path) -> None:
        atomic_write_text(path, json.dumps({"last_project": self.last_project}, ensure_ascii=False))


@dataclass
class Facade:
    """Backend access for the TUI. Cheap to build: touches only small files."""

    workspace: Workspace
    config: Config = field(default_factory=Config)
    config_problem: GsvError | None = None  # a bad config.toml: reported, defaults used
    project: Project | None = None
    list_path: Path | None = None  # a .list given on the command line, for the Transcripts screen
    _jobs: "JobManager | None" = field(default=None, repr=False)

    @classmethod
    def from_args(cls, home: Path | str | None = None, list_path: Path | str | None = None) -> "Facade":
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

    def create_project(self, name: str, language: str = "zh", version: str = DEFAULT_VERSION) -> Project:
        """Create and open a project. Raises ProjectError with the reason a name is refused."""
        self.project = self.workspace.create_project(name, language=language, version=version)
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
            from backend.jobs.manager import JobManager

            self._jobs = JobManager(self.workspace.jobs_dir)
        return self._jobs

    def require_project(self) -> Project:
        if self.project is None:
            raise ProjectError("no project is open", "press p to open or create one")
        return self.project
