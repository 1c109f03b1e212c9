"""Pick an audio file or a folder of them from a directory tree (the Dataset screen's Browse).

Enter on a file picks it; ``f`` picks the highlighted folder (or the folder of the highlighted
file); Backspace goes up one level; Escape closes without picking.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DirectoryTree, Label, Static

from .. import keymap

KEYS = keymap.bindings("browser")


class _VisibleTree(DirectoryTree):
    """Hidden files and folders left out: recordings are not in them."""

    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        return [p for p in paths if not p.name.startswith(".")]


class PathBrowser(ModalScreen["Path | None"]):
    """Dismisses with the picked file or folder, or None."""

    BINDINGS = KEYS
    DEFAULT_CSS = """
    PathBrowser { align: center middle; }
    #browser-box { width: 100%; max-width: 100; height: 100%; max-height: 30;
                   border: round $accent; background: $surface; }
    #browser-title { padding: 0 1; }
    #browser-tree { height: 1fr; }
    #browser-hint { padding: 0 1; color: $text-muted; }
    """

    def __init__(self, start: Path) -> None:
        super().__init__()
        start = start.expanduser()
        while not start.is_dir() and start != start.parent:
            start = start.parent
        self.root = start if start.is_dir() else Path.home()

    def compose(self) -> ComposeResult:
        with Vertical(id="browser-box"):
            yield Label(str(self.root), id="browser-title", markup=False)
            yield _VisibleTree(self.root, id="browser-tree")
            yield Static("Enter: pick file · f: pick folder · Backspace: up · Esc: close", id="browser-hint")

    def on_mount(self) -> None:
        self.query_one(DirectoryTree).focus()

    def on_directory_tree_file_selected(self, event: DirectoryTree.FileSelected) -> None:
        event.stop()
        self.dismiss(Path(event.path))

    def action_pick_folder(self) -> None:
        tree = self.query_one(DirectoryTree)
        node = tree.cursor_node
        path = Path(node.data.path) if node is not None and node.data is not None else self.root
        self.dismiss(path if path.is_dir() else path.parent)

    def action_go_up(self) -> None:
        parent = self.root.parent
        if parent != self.root:
            self.root = parent
            self.query_one(DirectoryTree).path = parent
            self.query_one("#browser-title", Label).update(str(parent))

    def action_close(self) -> None:
        self.dismiss(None)
