"""Settings and start buttons for SoVITS and GPT fine-tuning (defaults from the guide).

Defaults: SoVITS 8 epochs, save every 4, text LR weight 0.4; GPT 15 epochs, save every 5; batch
size "auto" = the stage's rule from the GPU's memory (GB // 2, halved without fp16). "Train both"
on one GPU queues GPT after SoVITS (a chained job); with two or more GPUs they run side by side.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Checkbox, Input, Label, Static

from backend.errors import GsvError

from .format_panel import parse_gpus

if TYPE_CHECKING:
    from backend.workspace import Project

DPO_NOTE = "DPO needs a very clean, labelled dataset and ≥ 12 GB of GPU memory"


@dataclass
class TrainRequest:
    stage: str  # train-sovits | train-gpt
    params: dict[str, Any]
    gpus: list[str] | None


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
        """Start these jobs; ``chain``: the second waits for the first (one GPU)."""

        def __init__(self, requests: list[TrainRequest], chain: bool) -> None:
            super().__init__()
            self.requests = requests
            self.chain = chain

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.project: Project | None = None

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Label("SoVITS epochs")
            yield Input("8", id="sovits-epochs", restrict=r"\d*")
            yield Label("save every")
            yield Input("4", id="sovits-save", restrict=r"\d*")
            yield Label("batch")
            yield Input(placeholder="auto", id="train-batch", restrict=r"\d*")
            yield Label("GPUs")
            yield Input(placeholder="auto", id="train-gpus")
        with Horizontal():
            yield Label("GPT epochs")
            yield Input("15", id="gpt-epochs", restrict=r"\d*")
            yield Label("save every")
            yield Input("5", id="gpt-save", restrict=r"\d*")
            yield Checkbox("DPO", id="gpt-dpo", tooltip=DPO_NOTE)
        with Horizontal():
            yield Button("Train SoVITS", id="train-sovits")
            yield Button("Train GPT", id="train-gpt")
            yield Button("Train both", id="train-both", variant="primary")
        yield Static("", id="train-problem")

    def set_project(self, project: Project | None) -> None:
        self.project = project

    def _int(self, wid: str, default: int | None) -> int | None:
        raw = self.query_one(f"#{wid}", Input).value.strip()
        if not raw:
            return default
        value = int(raw)
        if value < 1:
            raise GsvError(f"{wid.replace('-', ' ')} must be at least 1", "type a positive number")
        return value

    def build(self, stage: str, gpus: list[str] | None) -> TrainRequest:
        """The stage's Params (as JSON) for the open project."""
        from backend.stages.base import params_to_json

        p = self.project
        if p is None:
            raise GsvError("no project is open", "open or create one first (p)")
        batch = self._int("train-batch", None)
        if stage == "train-sovits":
            from backend.stages import train_sovits as mod

            params: Any = mod.Params(exp_dir=p.exp_dir, weights_dir=p.sovits_weights_dir(p.version), exp_name=p.name,
                                     version=p.version, project=p.name, batch_size=batch,
                                     epochs=self._int("sovits-epochs", 8) or 8,
                                     save_every=self._int("sovits-save", 4) or 4, gpus=list(gpus or []))
        else:
            from backend.stages import train_gpt as mod

            params = mod.Params(exp_dir=p.exp_dir, weights_dir=p.gpt_weights_dir(p.version), exp_name=p.name,
                                version=p.version, project=p.name, batch_size=batch,
                                epochs=self._int("gpt-epochs", 15) or 15, save_every=self._int("gpt-save", 5) or 5,
                                dpo=self.query_one("#gpt-dpo", Checkbox).value, gpus=list(gpus or []))
        return TrainRequest(stage, params_to_json(params), gpus)

    def requests(self, which: str) -> tuple[list[TrainRequest], bool]:
        gpus = parse_gpus(self.query_one("#train-gpus", Input).value)
        if gpus is None:
            from backend.jobs.gpus import default_gpus

            gpus = default_gpus(True)
        if which != "both":
            return [self.build(f"train-{which}", gpus)], False
        if len(gpus) >= 2:  # one GPU each, side by side
            return [self.build("train-sovits", gpus[:1]), self.build("train-gpt", gpus[1:2])], False
        return [self.build("train-sovits", gpus), self.build("train-gpt", gpus)], True

    def start(self, which: str) -> None:
        problem = self.query_one("#train-problem", Static)
        try:
            reqs, chain = self.requests(which)
        except (GsvError, ValueError) as e:
            problem.update(f"{getattr(e, 'message', e)}" + (f"\nfix: {e.fix}" if getattr(e, "fix", None) else ""))
            return
        problem.update(DPO_NOTE if any(r.params.get("dpo") for r in reqs) else "")
        self.post_message(self.Requested(reqs, chain))

    @on(Button.Pressed, "#train-sovits")
    def _sovits(self) -> None:
        self.start("sovits")

    @on(Button.Pressed, "#train-gpt")
    def _gpt(self) -> None:
        self.start("gpt")

    @on(Button.Pressed, "#train-both")
    def _both(self) -> None:
        self.start("both")
