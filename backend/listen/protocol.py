"""What the bridge and its page exchange: the audio types it serves and the state the page reports.

A module of its own so that the server and its routes both read it without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass

AUDIO_TYPES = {
    ".wav": "audio/wav", ".flac": "audio/flac", ".mp3": "audio/mpeg", ".ogg": "audio/ogg",
    ".opus": "audio/ogg", ".m4a": "audio/mp4", ".aac": "audio/aac", ".webm": "audio/webm",
}


@dataclass
class PageState:
    """What the browser tab last reported about its audio element."""

    seq: int = 0
    paused: bool = True
    current_time: float = 0.0
    duration: float = 0.0
    error: str | None = None
    received: float = 0.0
