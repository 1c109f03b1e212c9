"""The command palette (ctrl+p): the screen's commands, then the app's, then Textual's own.

A screen offers its own commands by overriding ``ModeScreen.palette_commands`` and yielding
:class:`PaletteCommand` values; the provider asks the screen each time the palette opens, so
the list always fits where the person is.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Iterable

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from .app import GsvApp


@dataclass(frozen=True)
class PaletteCommand:
    title: str
    help: str
    callback: Callable[[], object]
    discover: bool = True  # listed before anything is typed


class GsvCommands(Provider):
    """Mode switches, project open/create, and the current screen's commands."""

    async def startup(self) -> None:
        app: GsvApp = self.app  # type: ignore[assignment]
        # Reading project.toml files is file I/O: keep it off the UI thread.
        self._app_commands = await asyncio.to_thread(lambda: list(app.palette_commands()))

    def _commands(self) -> list[PaletteCommand]:
        screen_cmds: Iterable[PaletteCommand] = ()
        palette = getattr(self.screen, "palette_commands", None)
        if callable(palette):
            screen_cmds = palette()
        # Textual's own (theme, keys panel, screenshot, quit) last: this provider replaces
        # Textual's, so the order is ours — where you are first, then the app, then the toolkit.
        system = [PaletteCommand(c.title, c.help, c.callback, c.discover)
                  for c in self.app.get_system_commands(self.screen)]
        return [*screen_cmds, *self._app_commands, *system]

    async def discover(self) -> Hits:
        for c in self._commands():
            if c.discover:
                yield DiscoveryHit(c.title, c.callback, help=c.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for c in self._commands():
            score = matcher.match(c.title)
            if score > 0:
                yield Hit(score, matcher.highlight(c.title), c.callback, help=c.help)

