"""The listening bridge: hear clips in a local browser while the TUI runs on a remote GPU box.

See :mod:`backend.listen.server`. The TUI (or ``gsv listen``) starts a :class:`ListenBridge` on
loopback; the person forwards the port over the SSH connection they already use and opens the
printed URL once; every "play" then goes to that browser tab.
"""

from .hosts import BridgeError
from .server import BridgeLimits, ListenBridge
from .ssh_hint import ssh_forward_hint
from .token import workspace_token

__all__ = ["BridgeError", "BridgeLimits", "ListenBridge", "ssh_forward_hint", "workspace_token"]
