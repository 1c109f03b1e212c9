"""File names we derive (clips, merges, splits, trash) that every later step can still use.

Two things break a derived name. A ``|`` or a line break in a clip's name makes a ``.list``
line that no reader splits back into ``path|speaker|LANG|text``. And names only grow as clips
are sliced, merged, split and trashed (``<rec>.wav_0000012345_0000067890.wav``, ``a+b``,
``~replaced``), until the file system refuses one (255 bytes on ext4, XFS, Btrfs, APFS) —
possibly half-way through an edit. So a derived name replaces the unsafe characters and is
kept within a byte budget that leaves room for the temp names of atomic writes; a cut name
carries a short hash of the whole so two long names do not collapse into one.
"""

from __future__ import annotations

import hashlib
import re

MAX_NAME_BYTES = 255  # the common limit of one path component
TEMP_ROOM = 20  # what a temp name adds: "." + ".<8 hex>.tmp", and a "-<k>" to make it unique
NAME_BUDGET = MAX_NAME_BYTES - TEMP_ROOM

# ``|`` separates .list fields; control characters and Unicode line/paragraph separators end or
# corrupt a line in some reader (Python's splitlines() breaks at \x1c-\x1e, \x85, \u2028 too).
_UNSAFE = re.compile(r"[|\x00-\x1f\x7f\x85\u2028\u2029]")


def list_safe(name: str) -> str:
    """``name`` with every character that cannot stand in a ``.list`` path replaced by ``_``."""
    return _UNSAFE.sub("_", name)


def is_list_safe(text: str) -> bool:
    return _UNSAFE.search(text) is None


def bounded(stem: str, suffix: str = "", budget: int = NAME_BUDGET) -> str:
    """``stem + suffix`` if it fits ``budget`` bytes (UTF-8), else a cut stem + ``~<hash>`` + suffix."""
    whole = stem + suffix
    if len(whole.encode("utf-8")) <= budget:
        return whole
    tag = "~" + hashlib.sha1(stem.encode("utf-8", "surrogateescape")).hexdigest()[:8]
    room = max(0, budget - len((tag + suffix).encode("utf-8")))
    cut = stem.encode("utf-8", "surrogateescape")[:room].decode("utf-8", "ignore")
    return cut + tag + suffix


def safe_name(stem: str, suffix: str = "", budget: int = NAME_BUDGET) -> str:
    """A derived file name that a ``.list`` can hold and the file system accepts."""
    return bounded(list_safe(stem), list_safe(suffix), budget)
