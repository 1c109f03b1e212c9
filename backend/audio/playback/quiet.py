"""Keep C libraries (ALSA, JACK, PortAudio) from printing over the terminal UI.

They write straight to file descriptor 2, past Python's ``sys.stderr``; the only way to silence
them is to point fd 2 elsewhere while they run. What they said is kept and returned, so a
failure can still be explained in one line.
"""

from __future__ import annotations

import os
import tempfile
import threading
from contextlib import contextmanager
from typing import Iterator

_lock = threading.Lock()


@contextmanager
def silenced_stderr() -> Iterator[list[str]]:
    """Redirect fd 2 to a temp file for the block; the list yielded receives what was written."""
    captured: list[str] = []
    with _lock:
        try:
            saved = os.dup(2)
        except OSError:  # no fd 2 at all: nothing can print over us
            yield captured
            return
        with tempfile.TemporaryFile() as sink:
            os.dup2(sink.fileno(), 2)
            try:
                yield captured
            finally:
                os.dup2(saved, 2)
                os.close(saved)
                sink.seek(0)
                text = sink.read().decode("utf-8", errors="replace").strip()
                if text:
                    captured.append(text)
