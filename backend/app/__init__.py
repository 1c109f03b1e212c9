"""The application layer: every user action of the TUI (and the CLI where it does the same) as a
typed request, headless and cheap to import.

``Application`` (in :mod:`.core`) holds the workspace, the open project, the settings and the
job manager; its request methods turn what a person typed into a stage's ``Params`` (checked by
the stage's own ``problems()``) and hand it to the jobs. The submodules group the rest by mode:
:mod:`.dataset` (slicing, ASR), :mod:`.training` (format, train with chaining, base models),
:mod:`.inference` (infer requests, weights, takes, references), :mod:`.checkup` (chained after
training, the latest report as rows), :mod:`.review` (a .list under
review: saving, conflicts, changes on disk), :mod:`.jobs`, :mod:`.playback`, :mod:`.listening`.
Heavy parts are imported inside the functions that need them, so ``import backend.app`` stays
fast and never pulls in torch.
"""

from __future__ import annotations

from ..workspace import DEFAULT_VERSION, LANGUAGES, VERSIONS, Project, Workspace
from .core import Application, TuiState, describe

__all__ = ["Application", "describe", "DEFAULT_VERSION", "LANGUAGES", "Project", "TuiState", "VERSIONS", "Workspace"]
