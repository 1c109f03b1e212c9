"""The ✓ marks of a ``.list`` under review, kept in ``<name>.list.review.json`` beside it.

A mark is logged in the transcript's write-ahead history the moment it is made and reaches the
review file with the next save, so a kill in between loses nothing (:meth:`ReviewMarks.recover`).
Outside a project the file also keeps the clip chosen as the inference reference (inside one,
the project's settings keep it).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..fsutil import atomic_write_text


class ReviewMarks:
    """Which clips (by their path field) a person has reviewed."""

    def __init__(self, list_path: Path, log: Callable[[dict[str, Any]], None]) -> None:
        self.path = list_path.with_name(list_path.name + ".review.json")
        self._log = log
        self.keys: set[str] = set()
        self.reference: dict[str, str] | None = None
        self.dirty = False
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            self.keys = {str(p) for p in data.get("reviewed", [])}
            ref = data.get("reference")
            self.reference = ref if isinstance(ref, dict) else None
        except (OSError, ValueError, AttributeError):
            self.keys = set()

    def __contains__(self, key: str) -> bool:
        return key in self.keys

    def add(self, key: str) -> None:
        """A ✓ goes into the write-ahead log at once; the review file follows with the next save."""
        if key not in self.keys:
            self._log({"t": "review", "path": key})
            self.keys.add(key)
            self.dirty = True

    def recover(self, records: list[dict[str, Any]]) -> None:
        """✓ marks logged but not yet in the review file (a kill within the autosave delay)."""
        logged = {str(r["path"]) for r in records if r.get("t") == "review" and "path" in r}
        if logged - self.keys:
            self.keys |= logged
            self.dirty = True

    def keep_reference(self, ref: dict[str, str]) -> None:
        self.reference = ref
        self.dirty = True

    def save(self) -> None:
        data: dict[str, Any] = {"reviewed": sorted(self.keys)}
        if self.reference:
            data["reference"] = self.reference
        atomic_write_text(self.path, json.dumps(data, ensure_ascii=False, indent=0))
        self.dirty = False
