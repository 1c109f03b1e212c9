"""Transcripts mode (key 2): speech recognition into the .list, then review by keyboard.

Until the ASR stage and the review screen exist this screen says what will be here — including
which .list it will open (the one given on the command line, else the project's). Replace the
body of :class:`TranscriptsScreen` (keep the class name and ``MODE``) with the real screen; the
command-line .list is ``self.facade.list_path``.
"""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult

from backend.workspace import Project

from ..widgets.stage_preview import StagePlan, StagePreview
from .base import ModeScreen
from .planned import planned


def transcripts_plan(list_path: Path | None, project: Project | None) -> StagePlan:
    if list_path is not None:
        target = f"Will open: {list_path}" + ("" if list_path.exists() else " (the file does not exist yet)")
    elif project is not None:
        target = f"Will open the project's transcript: {project.transcript_path}"
    else:
        target = "Open a project (p) or start with `gsv-tui PATH.list` to choose the transcript."
    return StagePlan(
        title="Transcripts — recognise, then review every line",
        summary="Transcribe the clips into the official .list (path|speaker|LANG|text) with "
                "Faster-Whisper or FunASR, then go through it line by line: play a clip, fix its "
                "text or language, merge, split or delete lines — every edit saved atomically with undo.",
        stages=(
            planned("gsv asr CLIPS_DIR --project NAME", "write transcripts/<clips>.list", "asr"),
        ),
        note=target,
    )


class TranscriptsScreen(ModeScreen):
    MODE = "transcripts"

    def compose_body(self) -> ComposeResult:
        yield StagePreview(transcripts_plan(self.facade.list_path, self.facade.project), id="preview")

    def on_project(self, project: Project | None) -> None:
        self.query_one(StagePreview).set_plan(transcripts_plan(self.facade.list_path, project))
