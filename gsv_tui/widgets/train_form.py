"""Settings and start buttons for SoVITS and GPT fine-tuning.

The fields and their defaults are the trainers' own (their ``Params`` declarations, through
:mod:`backend.app.training`); batch size "auto" = the stage's rule from the GPU's memory. "Train
both" asks the application layer for a plan: on one GPU GPT is queued after SoVITS (a chained
job); with two or more GPUs they run side by side.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Checkbox, Input, Label, Static

from backend.app import describe
from backend.app import training as requests
from backend.app.training import TrainPlan, TrainSettings, parse_gpus
from backend.errors import GsvError

if TYPE_CHECKING:
    from backend.app import Application

DPO_NOTE = "DPO needs a very clean, labelled dataset and ≥ 12 GB of GPU memory"


class TrainForm(Vertical):
    DEFAULT_CSS = """
    TrainForm { height: auto; }
    TrainForm Horizontal { height: auto; }
    TrainForm Label { padding: 1 1 0 0; }
    TrainForm Input { width: 8; }
    TrainForm #train-gpus { width: 12; }
    TrainForm #train-batch { width: 10; }
    TrainForm #train-problem { height: auto; color: $error; padding: 0 1; }
    """

    class Requested(Message):
        """Start the jobs of this plan (chained ones wait for the one before)."""

        def __init__(self, plan: TrainPlan) -> None:
            super().__init__()
            self.plan = plan

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.application: Application | None = None

    def compose(self) -> ComposeResult:
        fields = requests.train_fields()  # defaults read when drawn, from the stages' Params

        def number(wid: str, **kw: Any) -> Input:
            return Input(fields[wid].default_text, id=wid, restrict=r"\d*", **kw)

        with Horizontal():
            yield Label("SoVITS epochs")
            yield number("sovits-epochs")
            yield Label("save every")
            yield number("sovits-save")
            yield Label("batch")
            yield number("train-batch", placeholder=fields["train-batch"].default_text or "auto")
            yield Label("GPUs")
            yield Input(placeholder="auto", id="train-gpus")
        with Horizontal():
            yield Label("GPT epochs")
            yield number("gpt-epochs")
            yield Label("save every")
            yield number("gpt-save")
            yield Checkbox("DPO", id="gpt-dpo", tooltip=DPO_NOTE)
        with Horizontal():
            yield Button("Train SoVITS", id="train-sovits")
            yield Button("Train GPT", id="train-gpt")
            yield Button("Train both", id="train-both", variant="primary")
        yield Static("", id="train-problem")

    def set_application(self, application: "Application | None") -> None:
        self.application = application

    def _number(self, wid: str) -> int | None:
        raw = self.query_one(f"#{wid}", Input).value.strip()
        return int(raw) if raw else None  # blank: the stage's default

    def settings(self) -> TrainSettings:
        """What the form holds (ValueError/GsvError for what is not understood)."""
        return TrainSettings(sovits_epochs=self._number("sovits-epochs"), sovits_save_every=self._number("sovits-save"),
                             gpt_epochs=self._number("gpt-epochs"), gpt_save_every=self._number("gpt-save"),
                             batch_size=self._number("train-batch"), dpo=self.query_one("#gpt-dpo", Checkbox).value,
                             gpus=parse_gpus(self.query_one("#train-gpus", Input).value))

    def plan(self, which: str) -> TrainPlan:
        if self.application is None or self.application.project is None:
            raise GsvError("no project is open", "open or create one first (p)")
        return requests.train_requests(self.application, which, self.settings())

    def start(self, which: str) -> None:
        problem = self.query_one("#train-problem", Static)
        try:
            plan = self.plan(which)
        except (GsvError, ValueError) as e:
            problem.update(describe(e))
            return
        problem.update(DPO_NOTE if plan.dpo else "")
        self.post_message(self.Requested(plan))

    @on(Button.Pressed, "#train-sovits")
    def _sovits(self) -> None:
        self.start("sovits")

    @on(Button.Pressed, "#train-gpt")
    def _gpt(self) -> None:
        self.start("gpt")

    @on(Button.Pressed, "#train-both")
    def _both(self) -> None:
        self.start("both")
