"""Transcribe the project's clips: engine, model and language, and what to do with an existing .list.

The engine is preselected by the project's language from ``config.toml``'s ``asr_engine`` (FunASR
for Chinese, Faster-Whisper otherwise, as the guide recommends). When the project already has a
transcript — perhaps reviewed for hours — the person chooses what happens to it; the default keeps
every line and only adds clips it does not list yet.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, RadioButton, RadioSet, Select, Static

from backend.app.dataset import asr_choices, asr_engine_options

from ..widgets.fields import no_select_on_focus

ENGINES, LANGUAGES = asr_choices()  # the asr stage's own lists
OPTIONS = {key: (label, engine, model) for key, label, engine, model in asr_engine_options()}
EXISTING = (
    ("merge", "keep its lines, add only new clips (a .bak keeps the old file)"),
    ("new", "write a new .list beside it; leave it untouched"),
    ("overwrite", "transcribe everything again (a .bak keeps the old file)"),
)


@dataclass(frozen=True)
class AsrChoice:
    engine: str
    language: str
    model: str | None
    on_existing: str


class AsrDialog(ModalScreen[AsrChoice | None]):
    BINDINGS = [Binding("escape", "dismiss_none", "Cancel"), Binding("ctrl+r", "start", "Start", priority=True)]
    DEFAULT_CSS = """
    AsrDialog { align: center middle; }
    AsrDialog > Vertical { width: 76; max-width: 100%; height: auto; max-height: 100%;
                           border: round $accent; padding: 0 1; }
    AsrDialog Horizontal { height: auto; }
    AsrDialog Label { width: 10; padding: 1 1 0 0; }
    AsrDialog Select { width: 1fr; }
    AsrDialog Input { width: 1fr; }
    AsrDialog RadioSet { width: 1fr; height: auto; }
    """

    def __init__(self, engine: str, language: str, existing_list: str | None) -> None:
        super().__init__()
        self.engine = engine if engine in OPTIONS else "faster-whisper"
        self.language = language if language in LANGUAGES else "auto"
        self.existing_list = existing_list

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text("Transcribe the clips (a job)", style="bold"))
            # one select per row: two side by side do not fit 80 columns
            with Horizontal():
                yield Label("Engine")
                yield Select([(label, key) for key, (label, _, _) in OPTIONS.items()], value=self.engine,
                             allow_blank=False, id="asr-engine")
            with Horizontal():
                yield Label("Language")
                yield Select([(lang, lang) for lang in LANGUAGES], value=self.language, allow_blank=False,
                             id="asr-language")
            with Horizontal():
                yield Label("Model")
                yield Input(placeholder="the engine's default, a size, or a model folder", id="asr-model")
            if self.existing_list:
                yield Static(Text(f"{self.existing_list} exists:", style="yellow"))
                with RadioSet(id="asr-existing"):
                    for i, (key, text) in enumerate(EXISTING):
                        yield RadioButton(f"{key}: {text}", value=i == 0, name=key)
            yield Static(Text("ctrl+r starts · esc cancels", style="dim"))

    def on_mount(self) -> None:
        no_select_on_focus(self.query(Input))
        self.query_one("#asr-engine", Select).focus()

    def choice(self) -> AsrChoice:
        on_existing = "merge"
        if self.existing_list:
            pressed = self.query_one("#asr-existing", RadioSet).pressed_button
            on_existing = (pressed.name if pressed is not None else None) or "merge"
        _, engine, preset = OPTIONS[str(self.query_one("#asr-engine", Select).value)]
        model = self.query_one("#asr-model", Input).value.strip() or preset  # a typed model wins
        return AsrChoice(engine=engine, language=str(self.query_one("#asr-language", Select).value),
                         model=model, on_existing=on_existing)

    def action_start(self) -> None:
        self.dismiss(self.choice())

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
