"""The bridge's token, kept per workspace so an open browser tab survives a restart.

A fresh token on every start made the tab's URL stale each time the TUI restarted. The token
lives in ``<workspace>/listen.token`` (mode 0600: it is a secret, unlike the files that follow
the umask) and changes only when the person asks for a new one.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path

from ..fsutil import atomic_write_bytes

TOKEN_FILE = "listen.token"
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,128}")


def new_token() -> str:
    return secrets.token_urlsafe(18)


def workspace_token(home: Path, renew: bool = False) -> str:
    """The stored token of the workspace at ``home`` (created when missing, unreadable or
    ``renew``). A workspace that cannot be written still gets a token, for this run only."""
    path = Path(home) / TOKEN_FILE
    if not renew:
        try:
            text = path.read_text(encoding="ascii").strip()
        except (OSError, UnicodeError):
            text = ""
        if _TOKEN.fullmatch(text):
            return text
    token = new_token()
    try:
        atomic_write_bytes(path, (token + "\n").encode("ascii"), private=True)
    except OSError:
        pass
    return token


