"""Which addresses the bridge may bind and which Host headers it answers.

The bridge plays a project's recordings to whoever holds its token, so it listens on loopback
only unless the person opts out explicitly (``listen_allow_remote = true``). The Host header
check defeats DNS rebinding: a page on an attacker's name that resolves to 127.0.0.1 sends
its own name as Host, which is refused. Only a header that is exactly one host (a name, an
IPv4 address or a bracketed IPv6 address) with an optional port is considered at all.
"""

from __future__ import annotations

import ipaddress
import re

from ..errors import GsvError

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "[::1]"})
_HOST_HEADER = re.compile(r"(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::(?P<port>[0-9]{1,5}))?")


class BridgeError(GsvError):
    """The bridge cannot serve or play what was asked."""


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and any loopback IP literal (``127.x``, ``::1``, bracketed or not)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind_host(host: str, allow_remote: bool) -> str | None:
    """Refuse a non-loopback bind address unless the unsafe setting is on; then return the
    warning to show on every start (None for loopback)."""
    if is_loopback(host):
        return None
    if not allow_remote:
        raise BridgeError(
            f"listen_host = {host!r} would let anyone on the network who learns the token hear this project",
            'use listen_host = "127.0.0.1" with an SSH port forward, or, knowing the risk, '
            "add listen_allow_remote = true to config.toml")
    return (f"the listening bridge accepts connections from the network on {host} "
            "(listen_allow_remote = true): anyone who learns its URL hears this project's audio")


def validate_port(port: int) -> int:
    """A TCP port to bind: 1–65535, or 0 for any free port."""
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise BridgeError(f"port {port!r} is not a TCP port", "use a port between 1024 and 65535 (0 picks a free one)")
    return port


def host_header_allowed(values: list[str], bind_host: str, allow_remote: bool) -> bool:
    """Whether the request's Host header names this bridge: exactly one header, well formed,
    naming a loopback host (or, with the unsafe setting, the bind address or any IP literal,
    which DNS rebinding cannot produce)."""
    if len(values) != 1:
        return False
    m = _HOST_HEADER.fullmatch(values[0])
    if m is None or (m.group("port") is not None and int(m.group("port")) > 65535):
        return False
    host = m.group("host").lower()
    if host in LOOPBACK_NAMES:
        return True
    if not allow_remote:
        return False
    if host == bind_host.lower() or host == f"[{bind_host.lower()}]":
        return True
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True
