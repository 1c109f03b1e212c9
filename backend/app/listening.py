"""The listening bridge (audio to a browser tab over SSH) as the TUI starts and follows it."""

from __future__ import annotations

from ..config import Config
from ..listen import ListenBridge, ssh_forward_hint

__all__ = ["Config", "ListenBridge", "ssh_forward_hint"]
