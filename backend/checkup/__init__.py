"""The voice checkup: score exported models and single takes on intelligibility and likeness.

The application layer (and through it the TUI) reads reports here, cheap to import (no torch);
it queues the ``checkup`` job itself (:func:`backend.app.checkup.submit_checkup`).

- :func:`latest_report` reads the project's newest ``checkups/<time>.json`` into a
  :class:`~backend.checkup.report.CheckupReport` (``rows()`` = pairs sorted by the
  recommendation, ``take_path(take)`` = a take's wav to play, ``best`` = the recommended pair).

Modules: ``normalize`` and ``scoring`` (CER/WER, skips, repeats), ``pace`` (runaways,
truncations), ``likeness`` (speaker-verification cosine), ``sentences`` (the evaluation set),
``evaluate`` (running the pairs), ``report`` (ranking and files), ``verify`` (``gsv infer --verify``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .report import CheckupReport
from .report import latest_report as _latest_in

CHECKUP_AFTER_TRAINING = "checkup_after_training"
"""The project setting (``[settings]`` in project.toml) that chains a checkup after training; on by default."""


def checkup_after_training(project: Any) -> bool:
    """Whether the project wants a checkup chained after each training run (default: yes)."""
    return bool(project.settings.get(CHECKUP_AFTER_TRAINING, True))


def latest_report(project: Any) -> CheckupReport | None:
    """The project's newest readable checkup report, or None."""
    return _latest_in(Path(project.root))


__all__ = ["CHECKUP_AFTER_TRAINING", "CheckupReport", "checkup_after_training", "latest_report"]
