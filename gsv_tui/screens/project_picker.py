"""Open a project of the workspace or create one (p, and on first start).

A refused name (a path-hostile character, an existing project) is explained right under the
field with the fix, and what was typed stays so it can be corrected.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.cells import cell_len, set_cell_size
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, Select, Static
from textual.widgets.option_list import Option

from backend.app import DEFAULT_VERSION, LANGUAGES, VERSIONS, Project, describe  # noqa: F401 - named in a string below
from backend.errors import GsvError

from .. import keymap

if TYPE_CHECKING:
    from backend.app import Application

KEYS = keymap.bindings("picker")


def project_line(name: str, language: str, version: str, name_width: int) -> str:
    """One row of the list, the name padded to ``name_width`` terminal cells: a CJK character
    takes two cells, so padding by characters put 小明's columns out of line with alice's."""
    return f"{set_cell_size(name, max(name_width, cell_len(name)))}  ·  {language:<3}  ·  {version}"


class ProjectPicker(ModalScreen["Project | None"]):
    """Dismisses with the opened or created Project, or None when closed."""

    BINDINGS = KEYS

    def __init__(self, application: "Application", highlight: str | None = None, start_new: bool = False) -> None:
        super().__init__()
        self.application = application
        self.highlight = highlight
        self.start_new = start_new

    def compose(self) -> ComposeResult:
        projects = self.application.list_projects()
        with Vertical(id="picker-box"):
            yield Label(f"Projects in {self.application.workspace.projects_dir}", id="picker-title")
            width = max((cell_len(p.name) for p in projects), default=0)
            options = [Option(project_line(p.name, p.language, p.version, width), id=p.name) for p in projects]
            yield OptionList(*options, id="picker-list")
            if not projects:
                yield Static("No projects yet — create the first one below.", id="picker-empty")
            broken = self.application.workspace.broken_projects()
            if broken:
                yield Static(Text("\n".join(f"unreadable: {p.name}: {why}" for p, why in broken)),
                             id="picker-broken")
            yield Label("New project (one project = one voice):", id="picker-new-title")
            with Horizontal(id="picker-form"):
                yield Input(placeholder="name, e.g. alice or 小明", id="picker-name")
                yield Select([(lang, lang) for lang in LANGUAGES], value="zh", allow_blank=False,
                             id="picker-language")
                yield Select([(v, v) for v in VERSIONS], value=DEFAULT_VERSION, allow_blank=False,
                             id="picker-version")
                yield Button("Create", id="picker-create", variant="primary")
            yield Static("", id="picker-error")

    def on_mount(self) -> None:
        lst = self.query_one(OptionList)
        if lst.option_count and not self.start_new:
            names = [lst.get_option_at_index(i).id for i in range(lst.option_count)]
            lst.highlighted = names.index(self.highlight) if self.highlight in names else 0
            lst.focus()
        else:
            if lst.option_count:
                lst.highlighted = 0
            self.query_one("#picker-name", Input).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        name = event.option.id
        if name is None:
            return
        try:
            project = self.application.open_project(name)
        except GsvError as e:
            self._show_error(e)
            return
        self.dismiss(project)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._create()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "picker-create":
            self._create()

    def _create(self) -> None:
        name = self.query_one("#picker-name", Input).value
        language = str(self.query_one("#picker-language", Select).value)
        version = str(self.query_one("#picker-version", Select).value)
        try:
            project = self.application.create_project(name, language=language, version=version)
        except GsvError as e:
            self._show_error(e)
            self.query_one("#picker-name", Input).focus()
            return
        self.dismiss(project)

    def _show_error(self, e: GsvError) -> None:
        text = describe(e)
        self.query_one("#picker-error", Static).update(Text(text))
        self.query_one("#picker-error", Static).add_class("shown")

    def action_close(self) -> None:
        self.dismiss(None)

    def action_focus_new(self) -> None:
        self.query_one("#picker-name", Input).focus()
