"""Workspaces and projects on disk.

A *workspace* is one folder (default: the platform's user-data folder, overridden by
``--home`` or ``GSV_HOME``) that holds projects and the job store. A *project* is one voice:
a folder with ``project.toml`` and one sub-folder per stage. The experiment folder ``exp/``
has the official ``logs/<exp>`` layout and the weight folders the official names, so a user
can copy them to and from the official WebUI unchanged.

Jobs live in the workspace (``<home>/jobs``), not in a project, because the GPU queue spans
every project; each job record names its project.
"""

from __future__ import annotations

import os
import tomllib
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import platformdirs
import tomli_w

from .errors import ProjectError
from .fsutil import atomic_write_text

APP_NAME = "gsv-tui"
PROJECT_FILE = "project.toml"
VERSIONS = ("v1", "v2", "v2Pro", "v2ProPlus")
LANGUAGES = ("zh", "en", "ja", "ko", "yue")
DEFAULT_VERSION = "v2Pro"  # the official WebUI's default training version

# Characters that cannot appear in a file name on Linux, macOS or Windows (a project folder
# may be copied to a Windows machine running the official WebUI).
_HOSTILE = set('/\\:*?"<>|') | {"\0"}
_RESERVED_WINDOWS = {"CON", "PRN", "AUX", "NUL"} | {f"COM{i}" for i in range(1, 10)} | {
    f"LPT{i}" for i in range(1, 10)
}


def default_home() -> Path:
    """The workspace root: ``GSV_HOME`` if set, else the platform's user-data folder."""
    env = os.environ.get("GSV_HOME")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def validate_project_name(name: str) -> str:
    """Return the name (NFC-normalised) or raise :class:`ProjectError` saying why it is refused.

    Non-ASCII names (Chinese names are common) are welcome; what is refused is what would break
    a path on some system or be invisible to the person reading a list.
    """
    name = unicodedata.normalize("NFC", name)
    fix = "use letters, digits, spaces, '-', '_' or '.' (any script), e.g. 'alice' or '小明'"
    if not name or not name.strip():
        raise ProjectError("a project name cannot be empty", fix)
    if name != name.strip():
        raise ProjectError(f"project name {name!r} starts or ends with a space", "remove the space")
    if name in {".", ".."} or name.startswith("."):
        raise ProjectError(f"project name {name!r} cannot start with '.'", fix)
    bad = sorted({c for c in name if c in _HOSTILE or unicodedata.category(c)[0] == "C"})
    if bad:
        shown = ", ".join(repr(c) for c in bad)
        raise ProjectError(f"project name {name!r} contains characters a path cannot hold: {shown}", fix)
    if name.rstrip(".").upper().split(".")[0] in _RESERVED_WINDOWS:
        raise ProjectError(f"project name {name!r} is reserved on Windows", fix)
    if len(name.encode("utf-8")) > 200:
        raise ProjectError("project name is too long (over 200 bytes)", "choose a shorter name")
    return name


@dataclass
class Project:
    """One voice: its folder and its settings from ``project.toml``."""

    root: Path
    name: str
    language: str = "zh"
    version: str = DEFAULT_VERSION
    created: str = ""
    settings: dict[str, Any] = field(default_factory=dict)

    # --- per-stage folders -------------------------------------------------------------
    @property
    def raw_dir(self) -> Path:  # audio as imported
        return self.root / "raw"

    @property
    def clips_dir(self) -> Path:  # slicer output, 32 kHz mono int16
        return self.root / "clips"

    @property
    def transcripts_dir(self) -> Path:  # <clips folder name>.list + ASR sidecar
        return self.root / "transcripts"

    @property
    def transcript_path(self) -> Path:  # official naming: <input folder name>.list
        return self.transcripts_dir / f"{self.clips_dir.name}.list"

    @property
    def exp_dir(self) -> Path:  # the official logs/<exp> layout
        return self.root / "exp"

    @property
    def weights_dir(self) -> Path:  # SoVITS_weights_<ver>/ and GPT_weights_<ver>/ inside
        return self.root / "weights"

    @property
    def outputs_dir(self) -> Path:  # synthesised speech
        return self.root / "outputs"

    @property
    def trash_dir(self) -> Path:  # deleted clips go here, never to oblivion
        return self.root / "trash"

    def sovits_weights_dir(self, version: str | None = None) -> Path:
        v = version or self.version
        return self.weights_dir / ("SoVITS_weights" if v == "v1" else f"SoVITS_weights_{v}")

    def gpt_weights_dir(self, version: str | None = None) -> Path:
        v = version or self.version
        return self.weights_dir / ("GPT_weights" if v == "v1" else f"GPT_weights_{v}")

    def stage_dirs(self) -> list[Path]:
        return [self.raw_dir, self.clips_dir, self.transcripts_dir, self.exp_dir,
                self.weights_dir, self.outputs_dir, self.trash_dir]

    # --- persistence ---------------------------------------------------------------------
    def to_toml(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "language": self.language,
            "version": self.version,
            "created": self.created,
        }
        if self.settings:
            data["settings"] = self.settings
        return data

    def save(self) -> None:
        atomic_write_text(self.root / PROJECT_FILE, tomli_w.dumps(self.to_toml()))

    @classmethod
    def load(cls, root: Path) -> "Project":
        path = root / PROJECT_FILE
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ProjectError(f"{root} is not a project (no {PROJECT_FILE})",
                               "create it with `gsv project create NAME`") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
            raise ProjectError(f"{path} is not valid TOML: {e}",
                               f"fix the file by hand or restore it from {path}.bak") from None
        language = str(data.get("language", "zh"))
        version = str(data.get("version", DEFAULT_VERSION))
        if language not in LANGUAGES:
            raise ProjectError(f"{path}: unknown language {language!r}",
                               f"set language to one of {', '.join(LANGUAGES)}")
        if version not in VERSIONS:
            raise ProjectError(f"{path}: unknown model version {version!r}",
                               f"set version to one of {', '.join(VERSIONS)}")
        return cls(root=root, name=str(data.get("name", root.name)), language=language,
                   version=version, created=str(data.get("created", "")),
                   settings=dict(data.get("settings", {})))


class Workspace:
    """The folder that holds every project and the job store."""

    def __init__(self, root: Path | str | None = None) -> None:
        self.root = Path(root).expanduser() if root is not None else default_home()

    @property
    def projects_dir(self) -> Path:
        return self.root / "projects"

    @property
    def jobs_dir(self) -> Path:
        return self.root / "jobs"

    def project_path(self, name: str) -> Path:
        return self.projects_dir / validate_project_name(name)

    def create_project(self, name: str, language: str = "zh", version: str = DEFAULT_VERSION) -> Project:
        name = validate_project_name(name)
        if language not in LANGUAGES:
            raise ProjectError(f"unknown language {language!r}", f"use one of {', '.join(LANGUAGES)}")
        if version not in VERSIONS:
            raise ProjectError(f"unknown model version {version!r}", f"use one of {', '.join(VERSIONS)}")
        root = self.projects_dir / name
        if (root / PROJECT_FILE).exists():
            raise ProjectError(f"project {name!r} already exists at {root}",
                               "open it, or choose another name")
        project = Project(root=root, name=name, language=language, version=version,
                          created=datetime.now(timezone.utc).isoformat(timespec="seconds"))
        for d in project.stage_dirs():
            d.mkdir(parents=True, exist_ok=True)
        project.save()
        return project

    def open_project(self, name: str) -> Project:
        root = self.project_path(name)
        if not (root / PROJECT_FILE).exists():
            raise ProjectError(f"no project named {name!r} in {self.projects_dir}",
                               f"create it with `gsv project create {name}` or pick one from `gsv project list`")
        return Project.load(root)

    def list_projects(self) -> list[Project]:
        """Every readable project, sorted by name; unreadable folders are skipped by design
        (``broken_projects`` names them)."""
        out = []
        if self.projects_dir.is_dir():
            for d in sorted(self.projects_dir.iterdir()):
                if (d / PROJECT_FILE).is_file():
                    try:
                        out.append(Project.load(d))
                    except ProjectError:
                        continue
        return out

    def broken_projects(self) -> list[tuple[Path, str]]:
        out = []
        if self.projects_dir.is_dir():
            for d in sorted(self.projects_dir.iterdir()):
                if (d / PROJECT_FILE).is_file():
                    try:
                        Project.load(d)
                    except ProjectError as e:
                        out.append((d, e.message))
        return out
