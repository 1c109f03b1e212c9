"""Training mode (key 3): format the dataset, then fine-tune SoVITS and GPT.

Until the formatting and training stages exist this screen says what will be here. Replace the
body of :class:`TrainingScreen` (keep the class name and ``MODE``) with the real screen.
"""

from __future__ import annotations

from textual.app import ComposeResult

from ..widgets.stage_preview import StagePlan, StagePreview
from .base import ModeScreen
from .planned import planned


def training_plan() -> StagePlan:
    return StagePlan(
        title="Training — format the dataset, fine-tune SoVITS and GPT",
        summary="Turn the reviewed transcript into the official experiment folder (text + BERT "
                "features, HuBERT features and 32 kHz wavs, semantic tokens), then train the SoVITS "
                "and GPT models from the pretrained bases, resumable and on one or more GPUs. Live "
                "loss curves, ETA and the exported weights per epoch will be shown here.",
        stages=(
            planned("gsv format --project NAME", "write exp/ (2-name2text, 3-bert, 4-cnhubert, 5-wav32k, "
                    "6-name2semantic)", "format"),
            planned("gsv train sovits --project NAME", "fine-tune SoVITS → weights/SoVITS_weights_<ver>/",
                    "train_sovits", "train"),
            planned("gsv train gpt --project NAME", "fine-tune GPT (+DPO) → weights/GPT_weights_<ver>/",
                    "train_gpt", "train"),
        ),
        note="Training runs as jobs: one GPU job per GPU at a time; the next one waits in the queue.",
    )


class TrainingScreen(ModeScreen):
    MODE = "training"

    def compose_body(self) -> ComposeResult:
        yield StagePreview(training_plan(), id="preview")
