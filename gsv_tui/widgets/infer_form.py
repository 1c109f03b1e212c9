"""Every choice of one synthesis: weights, reference, texts, languages, slicing, GPT settings.

The values become an :class:`~backend.app.inference.InferSettings` (:meth:`InferForm.settings`),
which the application layer turns into the ``infer`` stage's parameters; the fields' defaults,
the rules and the seconds ↔ GPT tokens conversion are the stage's, so the screen and ``gsv
infer`` never disagree. Weights and reference clips each have a list to pick from and a
path field; a path typed in wins over the list.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.app import ComposeResult
from textual.containers import Grid, Horizontal, Vertical
from textual.widgets import Input, Label, Select, Static, TextArea

from backend.app import inference as requests
from backend.app.forms import number_text as _num
from backend.app.inference import CUT_OPTIONS, DEFAULT_CUT, DEFAULT_TRIM, LANG_OPTIONS, TRIM_OPTIONS, InferSettings


class InferForm(Vertical):
    DEFAULT_CSS = """
    InferForm { height: auto; }
    InferForm Horizontal { height: 1; }
    InferForm .lbl { width: 9; color: $text-muted; }
    InferForm Select { width: 1fr; }
    InferForm #ref-lang { width: 30; }
    InferForm Input { width: 1fr; }
    InferForm #ref-note { height: 1; padding: 0 0 0 9; color: $text-muted; }
    InferForm TextArea { height: 4; }
    InferForm Grid { grid-size: 7; grid-rows: 1 1; height: 2; }
    InferForm Grid Label { color: $text-muted; padding: 0 1; }
    InferForm Grid Input { margin: 0 1; }
    InferForm Input.-invalid { color: $error; text-style: bold; }
    InferForm #form-problems { height: auto; color: $error; }
    """

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Label("GPT", classes="lbl")
            yield Select([], id="gpt-select", prompt="(no GPT weights found)", compact=True)
            yield Input(placeholder="or a .ckpt path", id="gpt-path", compact=True)
        with Horizontal():
            yield Label("SoVITS", classes="lbl")
            yield Select([], id="sovits-select", prompt="(no SoVITS weights found)", compact=True)
            yield Input(placeholder="or a .pth path", id="sovits-path", compact=True)
        with Horizontal():
            yield Label("Ref clip", classes="lbl")
            yield Select([], id="ref-select", prompt="(pick a reviewed clip)", compact=True)
            yield Input(placeholder="or any audio path (3–10 s)", id="ref-path", compact=True)
        yield Static("", id="ref-note")
        with Horizontal():
            yield Label("Ref text", classes="lbl")
            yield Input(placeholder="what the clip says (blank: ref-free)", id="ref-text",
                        compact=True)
            yield Select(LANG_OPTIONS, id="ref-lang", value="all_zh", allow_blank=False, compact=True)
        yield TextArea("", id="target-text", placeholder="Text to speak (several lines are fine)", compact=True)
        with Horizontal():
            yield Label("Language", classes="lbl")
            yield Select(LANG_OPTIONS, id="lang", value="all_zh", allow_blank=False, compact=True)
            yield Select(CUT_OPTIONS, id="cut", value=DEFAULT_CUT, allow_blank=False, compact=True)
            yield Select(TRIM_OPTIONS, id="trim", value=DEFAULT_TRIM, allow_blank=False, compact=True)
        self.numbers = requests.number_fields()  # defaults read when drawn, from the infer stage
        with Grid():
            for f in self.numbers:
                yield Label(f.label)
            for f in self.numbers:
                yield Input(f.default_text, id=f"num-{f.name}", compact=True,
                            restrict=r"[-+0-9.eE]*", select_on_focus=True)
        yield Static("", id="form-problems")

    # --- filling in ------------------------------------------------------------------------
    def set_weight_options(self, kind: str, options: list[tuple[str, str]]) -> None:
        """``options``: (label, path) pairs, best first; keeps the current choice when still offered."""
        select = self.query_one(f"#{kind}-select", Select)
        current = select.value
        select.set_options(options)
        paths = [p for _, p in options]
        if isinstance(current, str) and current in paths:
            select.value = current
        elif paths:
            select.value = paths[0]

    def set_clip_options(self, options: list[tuple[str, str]]) -> None:
        self.query_one("#ref-select", Select).set_options(options)

    def set_reference(self, audio_path: str, text: str | None = None, lang: str | None = None) -> None:
        """Use ``audio_path`` as the reference (with its text and language option when given)."""
        self.query_one("#ref-path", Input).value = str(audio_path)
        if text is not None:
            self.query_one("#ref-text", Input).value = text
        if lang is not None and lang in {code for _, code in LANG_OPTIONS}:
            self.query_one("#ref-lang", Select).value = lang

    def note_reference(self, text: str) -> None:
        self.query_one("#ref-note", Static).update(text)

    def load(self, params: dict[str, Any]) -> None:
        """Show a take's parameters (to regenerate or vary it)."""
        for kind in ("gpt", "sovits"):
            if params.get(kind):
                self.query_one(f"#{kind}-path", Input).value = str(params[kind])
        refs = params.get("refs") or []
        if refs:
            self.set_reference(refs[0], params.get("ref_text") or "", params.get("ref_lang"))
        self.query_one("#target-text", TextArea).text = params.get("text", "")
        for sel in ("lang", "cut"):
            if params.get(sel):
                self.query_one(f"#{sel}", Select).value = params[sel]
        if params.get("trim_ref"):
            self.query_one("#trim", Select).value = params["trim_ref"]
        params = requests.form_values(params)
        for f in self.numbers:
            if f.name in params:
                self.query_one(f"#num-{f.name}", Input).value = _num(params[f.name])

    # --- reading ---------------------------------------------------------------------------
    def _weights(self, kind: str) -> str | None:
        typed = self.query_one(f"#{kind}-path", Input).value.strip()
        if typed:
            return str(Path(typed).expanduser())
        value = self.query_one(f"#{kind}-select", Select).value
        return value if isinstance(value, str) else None

    def reference_path(self) -> str | None:
        typed = self.query_one("#ref-path", Input).value.strip()
        if typed:
            return str(Path(typed).expanduser())
        value = self.query_one("#ref-select", Select).value
        return value if isinstance(value, str) else None

    def settings(self) -> tuple[InferSettings, list[str]]:
        """What the form holds, and every reason it cannot generate yet (shown under the form)."""
        problems: list[str] = []
        numbers: dict[str, Any] = {}
        for f in self.numbers:
            field = self.query_one(f"#num-{f.name}", Input)
            try:
                numbers[f.name] = f.parse(field.value)
                field.remove_class("-invalid")
            except ValueError:
                field.add_class("-invalid")
                problems.append(f"{f.label} is not a number")
        ref_text = self.query_one("#ref-text", Input).value
        s = InferSettings(
            text=self.query_one("#target-text", TextArea).text, lang=str(self.query_one("#lang", Select).value),
            ref=self.reference_path(), ref_text=ref_text if ref_text.strip() else None,
            ref_lang=str(self.query_one("#ref-lang", Select).value), gpt=self._weights("gpt"),
            sovits=self._weights("sovits"), cut=str(self.query_one("#cut", Select).value),
            trim_ref=str(self.query_one("#trim", Select).value), numbers=numbers)
        if not problems:
            problems = requests.settings_problems(s)
        self.query_one("#form-problems", Static).update("; ".join(problems))
        return s, problems
