"""Reference clips sent by clients on other machines (``POST /upload_ref``).

The official server reads references only from its own disk, so a client elsewhere cannot use
its own recording. Here a client uploads the clip (multipart ``file`` field, or the raw audio as
the body); it is checked like any reference (readable audio, 3–10 s) and kept in the workspace
under a name made from its content, which the client then sends as ``ref_audio_path``. The same
clip uploaded twice is stored once.
"""

from __future__ import annotations

import hashlib
from email.parser import BytesParser
from email.policy import HTTP
from pathlib import Path
from typing import Any

from ..fsutil import atomic_write_bytes

UPLOAD_DIR = "serve-uploads"
SUFFIXES = {".wav", ".flac", ".mp3", ".ogg", ".m4a", ".aac", ".opus", ".webm"}


def audio_from_upload(content_type: str, body: bytes) -> tuple[bytes, str]:
    """The audio bytes and a file suffix from a multipart form (first file part) or a raw body."""
    if not body:
        raise ValueError("the upload is empty: send the clip as multipart field `file` or as the body")
    if not content_type.lower().startswith("multipart/form-data"):
        return body, ".wav"
    message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body)
    for part in message.iter_parts() if message.is_multipart() else []:
        name = part.get_filename()
        if name is not None or part.get_param("name", header="content-disposition") == "file":
            suffix = Path(name or "clip.wav").suffix.lower()
            payload = part.get_payload(decode=True)
            return (payload if isinstance(payload, bytes) else b""), suffix if suffix in SUFFIXES else ".wav"
    raise ValueError("the multipart upload has no file part: send the clip in a field named `file`")


def store_reference(workspace: Path, data: bytes, suffix: str) -> dict[str, Any]:
    """Keep a checked clip under ``<workspace>/serve-uploads/<sha256>.<ext>``; raises ValueError
    (with the reason) when it is not a usable reference."""
    from .voice import check_reference

    folder = Path(workspace) / UPLOAD_DIR
    path = folder / f"{hashlib.sha256(data).hexdigest()[:32]}{suffix}"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, data)
    try:
        duration = check_reference(str(path))
    except Exception as e:
        path.unlink(missing_ok=True)
        raise ValueError(getattr(e, "message", None) or str(e)) from e
    return {"message": "success", "ref_audio_path": str(path), "duration": round(duration, 2)}
