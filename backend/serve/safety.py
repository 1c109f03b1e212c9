"""What makes the server safe to expose: confined paths, a token beyond loopback, bounded requests.

The official server opens any path a client names and binds wherever it is told. Here a path a
client names (reference audio, weights) must lie, with symlinks resolved, inside the workspace
or a folder listed in config.toml (``[serve] allowed_dirs``); binding beyond loopback needs a
token unless the person says ``--insecure``; a server without a token answers only requests whose
``Host`` names loopback, which defeats DNS rebinding from a web page.
"""

from __future__ import annotations

import hmac
import os
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import GsvError
from ..listen.hosts import is_loopback

MAX_BODY_BYTES = 1 << 20  # JSON requests
MAX_UPLOAD_BYTES = 20 << 20  # reference clips
MAX_TEXT_CHARS = 5000


class ServeSafetyError(GsvError):
    """The server was asked to do something its safety rules forbid."""


def check_binding(host: str, token: str | None, insecure: bool) -> None:
    """Refuse to listen beyond loopback without a token (unless told ``--insecure``)."""
    if not is_loopback(host) and not token and not insecure:
        raise ServeSafetyError(
            f"binding to {host} exposes the server to the network, and it has no token",
            "pass --token SECRET (clients send `Authorization: Bearer SECRET` or ?token=SECRET), "
            "or --insecure if every machine that can reach it is trusted")


@dataclass
class PathRules:
    """Folders a client may name files in (everything else is refused with the rule)."""

    roots: list[Path] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.roots = [Path(os.path.realpath(Path(r).expanduser())) for r in self.roots]

    def allows(self, path: str | Path) -> bool:
        real = Path(os.path.realpath(Path(path).expanduser()))
        return any(real == r or r in real.parents for r in self.roots)

    def rule(self) -> str:
        return ("the server reads files only inside " + ", ".join(str(r) for r in self.roots) +
                " (add folders to config.toml: [serve] allowed_dirs = [\"/path\"])")


def token_matches(expected: str, authorization: str | None, query_token: str | None) -> bool:
    """``Authorization: Bearer <token>`` or ``?token=<token>``, compared in constant time."""
    given = None
    if authorization and authorization.lower().startswith("bearer "):
        given = authorization[7:].strip()
    elif query_token:
        given = query_token
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


def host_header_is_loopback(host_header: str | None) -> bool:
    if not host_header:
        return False
    host = host_header
    if host.startswith("["):
        host = host[1:host.find("]")] if "]" in host else host
    elif host.count(":") == 1:
        host = host.split(":")[0]
    return is_loopback(host)
