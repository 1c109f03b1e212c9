"""After a finished training run: train on, start over, or start from one of the project's exports.

Resuming a finished run would train nothing, so ``s``/``g``/``r`` on the Training screen open this
question instead of failing. Each answer is a request of the application layer
(:func:`backend.app.training.more_epochs_request`, :func:`~backend.app.training.start_over_request`);
starting over never deletes: the old run's checkpoints and exports move into ``old-<time>/``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from backend.app.training import BaseExport, FinishedRun

from .. import keymap

STAGE_NAMES = {"train-sovits": "SoVITS", "train-gpt": "GPT"}


@dataclass(frozen=True)
class RunChoice:
    """``way``: "more" (train on to ``epochs``), "over" (start over), "base" (a new run from ``base``)."""

    way: str
    epochs: int | None = None
    base: Path | None = None


class RunChoiceScreen(ModalScreen["RunChoice | None"]):
    BINDINGS = keymap.bindings("rerun")
    DEFAULT_CSS = """
    RunChoiceScreen { align: center middle; }
    #rerun-box { width: 78; max-width: 100%; height: auto; border: thick $primary; background: $surface;
                 padding: 0 1; }
    #rerun-box Horizontal { height: auto; }
    #rerun-box Button { width: 22; margin: 0 1 0 0; }
    #rerun-box Label { padding: 1 1 0 0; }
    #rerun-epochs { width: 8; }
    #rerun-base-select { width: 1fr; margin-top: 1; }
    #rerun-box .note { color: $text-muted; padding: 0 0 1 0; }
    #rerun-problem { color: $error; height: auto; display: none; }
    """

    def __init__(self, run: FinishedRun, bases: list[BaseExport]) -> None:
        super().__init__()
        self.run = run
        self.bases = bases

    def compose(self) -> ComposeResult:
        name = STAGE_NAMES.get(self.run.stage, self.run.stage)
        with Vertical(id="rerun-box"):
            yield Static(Text(f"The {name} run finished at epoch {self.run.epoch} (step {self.run.step}). "
                              "How to go on?", style="bold"), id="rerun-title")
            with Horizontal():
                yield Button("More epochs", id="rerun-more", variant="primary")
                yield Label("train on to epoch")
                yield Input(str(self.run.suggested_epochs), id="rerun-epochs", restrict=r"\d*")
            yield Static("the same run continues from its last checkpoint", classes="note")
            yield Button("Start over", id="rerun-over")
            yield Static(f"keeps the old run: its checkpoints and exports move to "
                         f"{self.run.weights_dir.name}/old-<time>/ (the job's log names it)", classes="note")
            with Horizontal():
                yield Button("Continue from", id="rerun-base")
                yield Select([(b.label, str(b.path)) for b in self.bases], id="rerun-base-select",
                             prompt="(no exports of this project)", compact=True)
            yield Static(f"a new run whose base model is this {name} export, instead of the pretrained one; "
                         "the current run is kept as with Start over", classes="note")
            yield Static("", id="rerun-problem")

    def on_mount(self) -> None:
        if self.bases:
            self.query_one("#rerun-base-select", Select).value = str(self.bases[0].path)
        self.query_one("#rerun-more", Button).focus()

    @on(Button.Pressed, "#rerun-more")
    @on(Input.Submitted, "#rerun-epochs")
    def _more(self) -> None:
        raw = self.query_one("#rerun-epochs", Input).value.strip()
        epochs = int(raw) if raw else 0
        if epochs <= self.run.epoch:
            self._problem(f"train on to more than epoch {self.run.epoch} (e.g. {self.run.suggested_epochs})")
            return
        self.dismiss(RunChoice("more", epochs=epochs))

    @on(Button.Pressed, "#rerun-over")
    def _over(self) -> None:
        self.dismiss(RunChoice("over"))

    @on(Button.Pressed, "#rerun-base")
    def _base(self) -> None:
        value = self.query_one("#rerun-base-select", Select).value
        if not isinstance(value, str):
            self._problem("this project has no exports to start from yet")
            return
        self.dismiss(RunChoice("base", base=Path(value)))

    def _problem(self, text: str) -> None:
        box = self.query_one("#rerun-problem", Static)
        box.update(text)
        box.display = True

    def action_close(self) -> None:
        self.dismiss(None)
