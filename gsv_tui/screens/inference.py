"""Inference mode (key 4): speak new text in the trained voice.

Until the TTS pipeline and its screen exist this screen says what will be here. Replace the body
of :class:`InferenceScreen` (keep the class name and ``MODE``) with the real screen.
"""

from __future__ import annotations

from textual.app import ComposeResult

from ..widgets.stage_preview import StagePlan, StagePreview
from .base import ModeScreen
from .planned import planned


def inference_plan() -> StagePlan:
    return StagePlan(
        title="Inference — new speech in the trained voice",
        summary="Choose GPT and SoVITS weights (this project's exports or the pretrained ones), a "
                "reference clip of 3–10 s with its text and language, and the text to speak; the "
                "result is saved under outputs/ and can be played.",
        stages=(
            planned("gsv infer --gpt PATH --sovits PATH --ref WAV --text TEXT",
                    "synthesise speech to a wav file", "infer"),
        ),
    )


class InferenceScreen(ModeScreen):
    MODE = "inference"

    def compose_body(self) -> ComposeResult:
        yield StagePreview(inference_plan(), id="preview")
