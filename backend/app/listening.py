"""The listening bridge (audio to a browser tab over SSH) as the TUI starts and follows it."""

from __future__ import annotations

from ..config import Config
from ..listen import ListenBridge, ssh_forward_hint, workspace_token
from ..listen.token import new_token

__all__ = ["Config", "ListenBridge", "new_token", "ssh_forward_hint", "workspace_token"]
