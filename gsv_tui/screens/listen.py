"""How to hear clips in your own browser: the bridge URL, the SSH command, who is listening."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from ..listening import ListenStatus


def describe(status: ListenStatus) -> Text:
    t = Text()
    if not status.running:
        t.append("The listening bridge is off.\n", style="bold")
        t.append(status.problem or "It starts with the app.")
        return t
    t.append("Hear clips in a browser on your own machine\n\n", style="bold")
    if status.warning:
        t.append(f"⚠ {status.warning}\n\n", style="bold yellow")
    step = 1
    if status.ssh_hint:
        t.append(f"{step}. On your machine, connect with the port forwarded (adjust the host if you use an alias):\n")
        t.append(f"   {status.ssh_hint}\n", style="bold cyan")
        step += 1
    t.append(f"{step}. Open this address in your browser and click once to allow audio:\n")
    t.append(f"   {status.url}\n", style="bold cyan")
    t.append(f"{step + 1}. Every play in gsv-tui then plays in that tab.\n\n")
    if status.listeners:
        t.append(f"● {status.listeners} browser tab{'s' if status.listeners > 1 else ''} listening", style="bold green")
    else:
        t.append("○ no browser tab connected: plays use this machine's audio output", style="yellow")
    return t


class ListenScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape", "dismiss", "Close"), Binding("n", "new_token", "New token")]
    DEFAULT_CSS = """
    ListenScreen { align: center middle; }
    ListenScreen > Vertical { width: 78; height: auto; max-height: 22; border: round $accent; padding: 0 1; }
    """

    def __init__(self, status: ListenStatus) -> None:
        super().__init__()
        self.status = status

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(describe(self.status), id="listen-text")
            yield Static(Text("esc closes · n makes a new token (open tabs must load the new address)", style="dim"))

    def action_new_token(self) -> None:
        listening = getattr(self.app, "listening", None)
        if listening is not None and self.status.running:
            listening.renew_token()  # the app's ListenChanged handler refreshes this screen

    def update_status(self, status: ListenStatus) -> None:
        self.status = status
        self.query_one("#listen-text", Static).update(describe(status))
