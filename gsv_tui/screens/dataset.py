"""Dataset mode (key 1): raw audio in, sliced clips out.

Until the slicer and its screen exist this screen says what will be here. Replace the body of
:class:`DatasetScreen` (keep the class name and ``MODE``) with the real screen.
"""

from __future__ import annotations

from textual.app import ComposeResult

from ..widgets.stage_preview import StagePlan, StagePreview
from .base import ModeScreen
from .planned import planned


def dataset_plan() -> StagePlan:
    return StagePlan(
        title="Dataset — from recordings to clips",
        summary="Import a person's recordings (any format ffmpeg reads) into the project and cut them "
                "into 32 kHz clips of a few seconds at the silences, with the official slicer's "
                "names and cut points. Parameters (threshold, minimum length, interval, hop, "
                "max silence kept) will be edited here and the slicer started as a job.",
        stages=(
            planned("gsv slice INPUT... --project NAME", "import and slice audio into clips/", "slice"),
        ),
        note="Raw audio goes to the project's raw/ folder and clips to clips/.",
    )


class DatasetScreen(ModeScreen):
    MODE = "dataset"

    def compose_body(self) -> ComposeResult:
        yield StagePreview(dataset_plan(), id="preview")
