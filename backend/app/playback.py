"""Playing audio for the person at the keyboard (local device, or the browser tab listening)."""

from __future__ import annotations

from ..audio.playback import PlayerChooser, register_front, unregister_front
from ..audio.playback.base import Player
from ..audio.playback.bridge import bridge_provider

__all__ = ["Player", "PlayerChooser", "bridge_provider", "register_front", "unregister_front"]
