"""The bridge's token, kept per workspace so an open browser tab survives a restart.

A fresh token on every start made the tab's URL stale each time the TUI restarted. The token
lives in ``<workspace>/listen.token`` (mode 0600: it is a secret, unlike the files that follow
the umask) and changes only when the person asks for a new one.
"""

from __future__ import annotations

import os
import re
import secrets
import tempfile
from pathlib import Path

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
        _write_private(path, token + "\n")
    except OSError:
        pass
    return token


def _write_private(path: Path, text: str) -> None:
    """Atomic like :func:`backend.fsutil.atomic_write_bytes`, but the file is 0600 from its first
    byte (a chmod after the rename would leave a moment in which others could read the token)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
