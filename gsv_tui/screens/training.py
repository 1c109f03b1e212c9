"""Training mode (key 3): format the dataset, then fine-tune SoVITS and GPT.

The Format action is real (:mod:`gsv_tui.widgets.format_panel`: version, GPUs, progress per step,
the summary). The training stages are not built yet; below the panel a note says what will come.
Keep the class name and ``MODE`` when building the training part here.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from .. import keymap
from ..commands import PaletteCommand
from ..jobwatch import JobsSnapshot
from ..keymap import KeySpec
from ..messages import JobSubmitted
from ..widgets.format_panel import FormatPanel
from .base import ModeScreen
from .planned import stage_installed


def training_note() -> Text:
    """What follows formatting, and whether it exists yet."""
    t = Text("Then train from the pretrained bases:\n", style="bold")
    for command, does, module in (
            ("gsv train sovits --project NAME", "fine-tune SoVITS → weights/SoVITS_weights_<ver>/", "train_sovits"),
            ("gsv train gpt --project NAME", "fine-tune GPT (+DPO) → weights/GPT_weights_<ver>/", "train_gpt")):
        t.append(f"  {command}  ")
        t.append("available\n" if stage_installed(module, "train") else "not built yet\n", style="italic")
        t.append(f"    {does}\n", style="dim")
    t.append("Training runs as jobs: one GPU job per GPU at a time; the next one waits in the queue.",
             style="italic")
    return t


KEYS = keymap.define("training", "Training screen", [
    KeySpec("training.format", "ctrl+r", "format", "Format", priority=True,
            help="Format the transcript for training (text+BERT, HuBERT+wav32k, tokens) as a job"),
])


class TrainingScreen(ModeScreen):
    MODE = "training"
    BINDINGS = KEYS
    AUTO_FOCUS = "#format-start"  # not a text field, so the mode keys (1–5) work on arrival

    def compose_body(self) -> ComposeResult:
        yield FormatPanel(id="format-panel")
        yield Static(training_note(), id="training-note")

    # --- the Format action (widgets/format_panel.py) ---------------------------------------------
    def on_project(self, project) -> None:  # noqa: ANN001 - Project | None
        self.query_one(FormatPanel).set_project(project)

    def action_format(self) -> None:
        self.query_one(FormatPanel).start()

    def palette_commands(self):  # noqa: ANN201 - Iterable[PaletteCommand]
        yield PaletteCommand("Format the dataset", "text+BERT, HuBERT+wav32k, semantic tokens as a job",
                             self.action_format)

    def on_format_panel_requested(self, message: FormatPanel.Requested) -> None:
        self.submit_job("format", message.params, gpus=message.gpus)

    def on_job_submitted(self, message: JobSubmitted) -> None:  # the base class's notice runs too
        if message.stage == "format":
            self.query_one(FormatPanel).follow(message.job_id)

    def on_jobs(self, snapshot: JobsSnapshot) -> None:
        panel = self.query_one(FormatPanel)
        if panel.job_id is not None:
            panel.show_job(snapshot.get(panel.job_id))
