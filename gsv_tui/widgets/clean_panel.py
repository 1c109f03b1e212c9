"""The Dataset screen's Clean panel: the cleaning chain before slicing, folded into one line.

Folded by default so that the slicer's input, form and result keep their place at 80×24; its
key opens it. Open, it lists each step of the chain (separation, de-reverb/de-echo, denoise)
with an on/off box and its model (default first; "download" marks a model whose file is not
here yet), the chosen model's description, the keys that clean and preview, and the job's
progress and outcome. Without the runner it shows, instead of the keys, the key that installs
it (a job) and the command that does the same.
The screen owns the jobs; this widget only shows and reads choices.
"""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.containers import Horizontal
from textual.widgets import Checkbox, Collapsible, ProgressBar, Select, Static

from backend.app.clean import CleanSettings, RunnerState, StepChoice


def _option(m) -> tuple[str, str]:  # noqa: ANN001 - a ModelChoice
    return (f"{m.name} · {m.arch}" + ("" if m.here else " · download"), m.name)


class CleanPanel(Collapsible):
    DEFAULT_CSS = """
    CleanPanel { height: auto; border: none; padding: 0; margin: 0; }
    CleanPanel > Contents { height: auto; padding: 0 0 0 1; }
    CleanPanel .clean-step { height: 1; }
    CleanPanel .clean-step Checkbox { width: 30; border: none; padding: 0; height: 1; }
    CleanPanel .clean-step Select { width: 1fr; margin-right: 1; }
    CleanPanel #clean-about, CleanPanel #clean-actions { height: auto; padding: 0 1; }
    CleanPanel #clean-about { color: $text-muted; }
    CleanPanel #clean-progress-row { height: 1; }
    CleanPanel #clean-progress { width: 30; padding: 0 1; }
    CleanPanel #clean-status { width: 1fr; }
    CleanPanel #clean-outcome { height: auto; max-height: 6; padding: 0 1; }
    """

    def __init__(self, steps: tuple[StepChoice, ...], runner: RunnerState, **kwargs) -> None:  # noqa: ANN003
        super().__init__(title="Clean the recordings before slicing", collapsed=True, **kwargs)
        self.steps = steps
        self.runner = runner

    def on_mount(self) -> None:
        contents = self.query_one(Collapsible.Contents)
        for step in self.steps:
            row = Horizontal(Checkbox(f"{step.title}", step.on_by_default, id=f"clean-on-{step.step}", compact=True),
                             Select([_option(m) for m in step.models], value=step.models[0].name, allow_blank=False,
                                    id=f"clean-model-{step.step}", compact=True),
                             classes="clean-step")
            contents.mount(row)
        contents.mount(Static("", id="clean-about"))
        contents.mount(Static("", id="clean-actions"))
        contents.mount(Horizontal(ProgressBar(total=None, show_eta=False, id="clean-progress"),
                                  Static("", id="clean-status"), id="clean-progress-row"))
        contents.mount(Static("", id="clean-outcome"))
        self.call_after_refresh(self._after_mount)

    def _after_mount(self) -> None:
        self.query_one("#clean-progress-row").display = False
        if self.steps:
            self._describe(self.steps[0].step)

    # --- what the person chose ----------------------------------------------------------------
    def settings(self) -> CleanSettings:
        chosen: dict[str, str | None] = {}
        for step in self.steps:
            on = self.query_one(f"#clean-on-{step.step}", Checkbox).value
            model = self.query_one(f"#clean-model-{step.step}", Select).value
            chosen[step.step] = str(model) if on and isinstance(model, str) else None
        return CleanSettings(**{k: v for k, v in chosen.items() if k in ("separate", "dereverb", "denoise")})

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.has_focus and event.select.id and event.select.id.startswith("clean-model-"):
            self._describe(event.select.id.removeprefix("clean-model-"))

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        """The description follows the step being looked at."""
        wid = event.widget.id or ""
        for prefix in ("clean-on-", "clean-model-"):
            if wid.startswith(prefix):
                self._describe(wid.removeprefix(prefix))

    def _describe(self, step_name: str) -> None:
        step = next((s for s in self.steps if s.step == step_name), None)
        if step is None:
            return
        value = self.query_one(f"#clean-model-{step_name}", Select).value
        model = next((m for m in step.models if m.name == value), step.models[0])
        here = "file here" if model.here else "file not here: the job downloads it first"
        self.query_one("#clean-about", Static).update(Text(f"{model.name}: {model.about} ({here})"))

    # --- what the screen tells it ---------------------------------------------------------------
    def show_actions(self, clean_key: str, preview_key: str, play_keys: str, runner: RunnerState,
                     install_key: str = "") -> None:
        """The keys that act, or (runner missing) what is missing, the key that installs it here
        and the command that does the same."""
        self.runner = runner
        actions = self.query_one("#clean-actions", Static)
        if not runner.available:
            actions.update(Text.assemble((runner.message, "yellow"), "\n",
                                         (f"{install_key} installs it here", "bold") if install_key else "",
                                         f" (a job), or {runner.fix}" if install_key else f"fix: {runner.fix}"))
            return
        actions.update(Text(f"{clean_key} cleans raw/ into clean/ · {preview_key} previews 10 s · "
                            f"{play_keys}: original/cleaned", style="dim"))

    def show_progress(self, done: float | None, total: float | None, text: Text, detail: Text | None = None) -> None:
        """The job's state on the progress line; ``detail`` (a failure's reason and fix) wraps below."""
        self.query_one("#clean-progress-row").display = True
        self.query_one("#clean-outcome", Static).update(detail or "")
        bar = self.query_one("#clean-progress", ProgressBar)
        if total:
            bar.update(total=total, progress=done or 0)
        self.query_one("#clean-status", Static).update(text)
