"""What a project contributes to a served voice: its latest weights, its chosen reference, its language.

One resolution for every caller — the ``serve`` request built for ``gsv serve --project`` and the
Inference screen's Serve action (:mod:`backend.app.serve`), and a voice a client names per
request (``/tts`` ``project``, ``/v1/audio/speech`` ``voice``) — so the three cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backend.infer.params import lang_option


@dataclass(frozen=True)
class ProjectChoice:
    """A project's defaults for serving. Paths are None where the project has nothing to offer."""

    name: str
    version: str
    language: str  # the whole-text language option (all_zh, en, …)
    gpt: Path | None
    sovits: Path | None
    ref: Path | None = None
    ref_text: str | None = None
    ref_lang: str | None = None  # language option of the reference text


def project_choice(project: Any, version: str | None = None) -> ProjectChoice:
    """The project's latest exports of ``version`` (default: the project's), else that version's
    pretrained bases, and the reference chosen in review with ``r`` (its language, else the
    project's)."""
    from backend.infer.weights_choice import default_weights

    version = version or project.version
    chosen = project.settings.get("reference") or {}
    language = lang_option(project.language) or ""
    ref = chosen.get("audio_path") if isinstance(chosen, dict) else None
    return ProjectChoice(
        name=project.name, version=version, language=language,
        gpt=default_weights(project, "gpt", version), sovits=default_weights(project, "sovits", version),
        ref=Path(ref) if ref else None, ref_text=chosen.get("text") if ref else None,
        ref_lang=(lang_option(chosen.get("language")) or language) if ref else None)
