"""Keep library chatter off the screen while the TUI draws.

A C extension or a library that prints to file descriptor 1 or 2 while the TUI runs would
scribble over the frame. While the app runs, fds 1 and 2 point at a log file; the terminal
itself is reached through duplicates of the original descriptors, which become
``sys.__stdout__``/``sys.__stderr__`` — what Textual's driver writes to and measures. Python
warnings go to the same log through :mod:`logging`. Everything is put back on exit.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from pathlib import Path
from typing import Iterator


@contextlib.contextmanager
def terminal_only(log_path: Path) -> Iterator[Path]:
    """Send fds 1/2, warnings and logging to ``log_path``; keep the terminal for the app."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    saved_out, saved_err = os.dup(1), os.dup(2)
    old_dunder = sys.__stdout__, sys.__stderr__
    term_out = open(os.dup(saved_out), "w", encoding="utf-8", errors="replace", closefd=True)
    term_err = open(os.dup(saved_err), "w", encoding="utf-8", errors="replace", closefd=True)
    log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    handler = logging.FileHandler(log_path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    old_handlers, old_level = root.handlers[:], root.level
    try:
        os.dup2(log_fd, 1)
        os.dup2(log_fd, 2)
        sys.__stdout__, sys.__stderr__ = term_out, term_err  # type: ignore[misc]
        root.handlers = [handler]
        root.setLevel(logging.INFO)
        logging.captureWarnings(True)
        yield log_path
    finally:
        logging.captureWarnings(False)
        root.handlers, root.level = old_handlers, old_level
        handler.close()
        for stream in (sys.stdout, sys.stderr, term_out, term_err):
            with contextlib.suppress(Exception):
                stream.flush()
        os.dup2(saved_out, 1)
        os.dup2(saved_err, 2)
        sys.__stdout__, sys.__stderr__ = old_dunder  # type: ignore[misc]
        for f in (term_out, term_err):
            with contextlib.suppress(Exception):
                f.close()
        for fd in (saved_out, saved_err, log_fd):
            os.close(fd)
