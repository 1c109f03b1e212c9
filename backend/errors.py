"""Errors a user can cause, each with the fix spelled out.

Every error that reaches a person is a :class:`GsvError`: its message says what is wrong
in one line and, where there is one, ``fix`` says what to do about it. The CLI prints both
and exits with status 2; the TUI shows both in a notification. Anything else is a bug.
"""

from __future__ import annotations


class GsvError(Exception):
    """A problem with the user's input or environment, explained with its fix."""

    def __init__(self, message: str, fix: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix

    def __str__(self) -> str:
        return f"{self.message}\n  fix: {self.fix}" if self.fix else self.message


class ConfigError(GsvError):
    """The user's config.toml holds a value we cannot use."""


class ProjectError(GsvError):
    """A project name or folder is unusable."""
