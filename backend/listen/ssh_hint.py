"""The ``ssh -L`` command a person runs on their own machine to reach the bridge.

``SSH_CONNECTION`` (``client_ip client_port server_ip server_port``) says which address of this
machine the person reached. Inside containers ``socket.getfqdn()`` is often ``localhost``, which
is useless on the other side, so the server address wins unless this machine's name resolves to
that same address (then the name reads better).
"""

from __future__ import annotations

import getpass
import os
import socket
from collections.abc import Callable

from .hosts import is_loopback


def _resolve(name: str) -> set[str]:
    try:
        return {str(info[4][0]) for info in socket.getaddrinfo(name, None)}
    except (OSError, UnicodeError):
        return set()


def ssh_target_host(server_ip: str | None, hostname: str,
                    resolve: Callable[[str], set[str]] = _resolve) -> str:
    """The host to put in the ``ssh`` line: the name when it resolves to the server address
    (or, without one, to anything but loopback), else the server address."""
    addresses = resolve(hostname) if hostname else set()
    name_ok = bool(hostname) and not is_loopback(hostname) and bool(addresses) \
        and not all(is_loopback(a) for a in addresses)
    if server_ip and not is_loopback(server_ip):
        return hostname if name_ok and server_ip in addresses else server_ip
    if name_ok:
        return hostname
    return server_ip or "HOST"


def ssh_forward_hint(port: int, environ: dict[str, str] | None = None, *,
                     hostname: str | None = None, resolve: Callable[[str], set[str]] = _resolve) -> str | None:
    """The exact ``ssh -L`` command to reach this machine's bridge, when we run inside SSH."""
    env = os.environ if environ is None else environ
    conn = env.get("SSH_CONNECTION") or ""
    parts = conn.split()
    if len(parts) < 4:
        legacy = (env.get("SSH_CLIENT") or "").split()  # client_ip client_port server_port
        if not legacy:
            return None
        parts = [legacy[0], legacy[1] if len(legacy) > 1 else "", "", legacy[2] if len(legacy) > 2 else "22"]
    ssh_port = parts[3] or "22"
    name = socket.getfqdn() if hostname is None else hostname
    host = ssh_target_host(parts[2] or None, name, resolve)
    try:
        user = getpass.getuser()
    except Exception:  # no passwd entry in some containers
        user = env.get("USER", "")
    target = f"{user}@{host}" if user else host
    port_opt = f" -p {ssh_port}" if ssh_port != "22" else ""
    return f"ssh -L {port}:127.0.0.1:{port}{port_opt} {target}"
