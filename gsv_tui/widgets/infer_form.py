"""Every choice of one synthesis: weights, reference, texts, languages, slicing, GPT settings.

The values become an :class:`~backend.app.inference.InferSettings` (:meth:`InferForm.settings`),
which the application layer turns into the ``infer`` stage's parameters; the fields' defaults,
the rules and the seconds ↔ GPT tokens conversion are the stage's, so the screen and ``gsv
infer`` never disagree.

The weights of each kind have one source of truth: their list. A path typed beside it (enter, or
leaving the field) is checked, added to the list and chosen; a take loaded with ctrl+g adds its
own weights the same way. So the list always shows, by file name, the weights a synthesis uses.
The reference clip has a list and a path field (a path typed in wins; picking from the list
clears it); more clips for the voice's timbre go in "+ refs", separated by ``;``. "verify" (with
its tries) asks the job to transcribe each piece and say a bad one again (``gsv infer --verify``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Grid, Horizontal, Vertical
from textual.widgets import Checkbox, Input, Label, Select, Static, TextArea

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
    InferForm #gpt-path, InferForm #sovits-path { width: 22; }
    InferForm #ref-note { height: 1; padding: 0 0 0 9; color: $text-muted; }
    InferForm TextArea { height: 4; }
    InferForm Grid { grid-size: 8; grid-rows: 1 1; height: 2; }
    InferForm Grid Label { color: $text-muted; padding: 0 1; }
    InferForm Grid Input { margin: 0 1; }
    InferForm Input.-invalid { color: $error; text-style: bold; }
    InferForm #form-problems { height: auto; color: $error; }
    InferForm #verify { width: auto; }
    InferForm #verify-row Label { width: auto; padding: 0 1; color: $text-muted; }
    InferForm #max-tries { width: 6; }
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._found: dict[str, list[tuple[str, str]]] = {"gpt": [], "sovits": []}  # exports, base models
        self._added: dict[str, list[tuple[str, str]]] = {"gpt": [], "sovits": []}  # typed in, or a take's

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Label("GPT", classes="lbl")
            yield Select([], id="gpt-select", prompt="(no GPT weights found)", compact=True)
            yield Input(placeholder="+ a .ckpt path", id="gpt-path", compact=True)
        with Horizontal():
            yield Label("SoVITS", classes="lbl")
            yield Select([], id="sovits-select", prompt="(no SoVITS weights found)", compact=True)
            yield Input(placeholder="+ a .pth path", id="sovits-path", compact=True)
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
        with Horizontal():
            yield Label("+ refs", classes="lbl")
            yield Input(placeholder="more clips of the voice for its timbre (paths, ; between them)",
                        id="aux-refs", compact=True)
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
        self.tries = requests.max_tries_field()
        with Horizontal(id="verify-row"):
            yield Checkbox("verify: hear each piece, say a bad one again", id="verify", compact=True)
            yield Label("tries")
            yield Input(self.tries.default_text, id="max-tries", compact=True, restrict=r"[0-9]*",
                        select_on_focus=True)
        yield Static("", id="form-problems")

    # --- filling in ------------------------------------------------------------------------
    def set_weight_options(self, kind: str, options: list[tuple[str, str]]) -> None:
        """``options``: (label, path) pairs, best first; keeps the current choice when still offered
        (paths typed in or loaded from a take stay offered, after the found ones)."""
        self._found[kind] = list(options)
        self._show_weights(kind)

    def add_weights(self, kind: str, path: str) -> None:
        """Offer ``path`` (typed in, or a take's) in the ``kind`` list and choose it."""
        path = str(Path(path).expanduser())
        known = {p for _, p in self._found[kind]} | {p for _, p in self._added[kind]}
        if path not in known:
            self._added[kind].append((requests.weights_label(path), path))
        self._show_weights(kind, choose=path)

    def _show_weights(self, kind: str, choose: str | None = None) -> None:
        select = self.query_one(f"#{kind}-select", Select)
        current = choose or select.value
        options = self._found[kind] + self._added[kind]
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
        """Show a take's parameters (to regenerate or vary it): its weights become the chosen ones."""
        for kind in ("gpt", "sovits"):
            if params.get(kind):
                self.add_weights(kind, str(params[kind]))
        refs = [str(r) for r in params.get("refs") or []]
        if refs:
            self.set_reference(refs[0], params.get("ref_text") or "", params.get("ref_lang"))
        self.query_one("#aux-refs", Input).value = "; ".join(refs[1:])
        self.query_one("#target-text", TextArea).text = params.get("text", "")
        for sel in ("lang", "cut"):
            if params.get(sel):
                self.query_one(f"#{sel}", Select).value = params[sel]
        if params.get("trim_ref"):
            self.query_one("#trim", Select).value = params["trim_ref"]
        self.query_one("#verify", Checkbox).value = bool(params.get("verify"))
        if params.get("max_tries"):
            self.query_one("#max-tries", Input).value = _num(params["max_tries"])
        params = requests.form_values(params)
        for f in self.numbers:
            if f.name in params:
                self.query_one(f"#num-{f.name}", Input).value = _num(params[f.name])

    @on(Input.Submitted, "#gpt-path")
    @on(Input.Submitted, "#sovits-path")
    @on(Input.Blurred, "#gpt-path")
    @on(Input.Blurred, "#sovits-path")
    def _weights_typed(self, event: Input.Submitted | Input.Blurred) -> None:
        self.take_typed_weights("gpt" if event.input.id == "gpt-path" else "sovits")

    def take_typed_weights(self, kind: str) -> str | None:
        """Move a path typed beside the ``kind`` list into it (chosen); the reason when it cannot be."""
        field = self.query_one(f"#{kind}-path", Input)
        typed = field.value.strip()
        if not typed:
            return None
        problem = requests.weights_path_problem(kind, typed)
        if problem is not None:
            field.add_class("-invalid")
            self.query_one("#form-problems", Static).update(problem)
            return problem
        field.remove_class("-invalid")
        field.value = ""
        self.add_weights(kind, typed)
        return None

    # --- reading ---------------------------------------------------------------------------
    def weights(self, kind: str) -> str | None:
        """The chosen ``kind`` weights: the list's value, the one source of truth."""
        value = self.query_one(f"#{kind}-select", Select).value
        return value if isinstance(value, str) else None

    def reference_path(self) -> str | None:
        typed = self.query_one("#ref-path", Input).value.strip()
        if typed:
            return str(Path(typed).expanduser())
        value = self.query_one("#ref-select", Select).value
        return value if isinstance(value, str) else None

    def settings(self) -> tuple[InferSettings, list[str]]:
        """What the form holds, and every reason it cannot generate yet (shown under the form).

        A weights path still sitting in its field is taken into its list first (as enter would),
        so what is read is what the lists show."""
        problems: list[str] = [p for p in (self.take_typed_weights(k) for k in ("gpt", "sovits")) if p]
        numbers: dict[str, Any] = {}
        for f in self.numbers:
            field = self.query_one(f"#num-{f.name}", Input)
            try:
                numbers[f.name] = f.parse(field.value)
                field.remove_class("-invalid")
            except ValueError:
                field.add_class("-invalid")
                problems.append(f"{f.label} is not a number")
        verify = self.query_one("#verify", Checkbox).value
        tries_field = self.query_one("#max-tries", Input)
        try:
            max_tries = self.tries.parse(tries_field.value) if verify else None
            tries_field.remove_class("-invalid")
        except ValueError:
            tries_field.add_class("-invalid")
            problems.append("tries is not a whole number")
            max_tries = None
        ref_text = self.query_one("#ref-text", Input).value
        s = InferSettings(
            text=self.query_one("#target-text", TextArea).text, lang=str(self.query_one("#lang", Select).value),
            ref=self.reference_path(), ref_text=ref_text if ref_text.strip() else None,
            ref_lang=str(self.query_one("#ref-lang", Select).value), gpt=self.weights("gpt"),
            sovits=self.weights("sovits"), aux_refs=requests.parse_paths(self.query_one("#aux-refs", Input).value),
            cut=str(self.query_one("#cut", Select).value), trim_ref=str(self.query_one("#trim", Select).value),
            numbers=numbers, verify=verify, max_tries=max_tries)
        if not problems:
            problems = requests.settings_problems(s)
        self.query_one("#form-problems", Static).update("; ".join(problems))
        return s, problems
