"""Where the audio of deleted and replaced clips goes, and the record that makes a delete undoable
even after the history is gone: ``trash/deleted.jsonl``, one JSON object per deleted clip."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .audio import unique_path
from .listfile import Clip


@dataclass(frozen=True)
class TrashedClip:
    """A deleted clip that can be restored: its line, its old row index, its audio in the trash."""

    row: Clip
    index: int
    original: str  # where the audio lived
    trash: str  # where it lives now
    when: float


class Trash:
    """A trash folder (the project's ``trash/``, or one beside a list outside a project)."""

    def __init__(self, folder: Path) -> None:
        self.dir = folder

    @property
    def manifest_path(self) -> Path:
        return self.dir / "deleted.jsonl"

    def target(self, src: Path, stem: str | None = None, taken: tuple[Path, ...] = ()) -> Path:
        """A free name in the trash for ``src`` (never overwrites what is already there)."""
        return unique_path(self.dir, src.stem if stem is None else stem, src.suffix, taken=taken)

    def record(self, rec: dict[str, Any]) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        with open(self.manifest_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")

    def items(self, list_path: Path, present: set[str]) -> list[TrashedClip]:
        """Deleted clips of ``list_path`` whose audio is still in the trash and whose line is not
        back in the list (``present``: the path fields it holds now), newest first."""
        out: list[TrashedClip] = []
        try:
            lines = self.manifest_path.read_text(encoding="utf-8").splitlines()
        except OSError:
            return out
        for line in lines:
            try:
                d = json.loads(line)
                if d.get("list") != str(list_path):
                    continue
                row = Clip(**{k: d["row"][k] for k in ("path", "speaker", "lang", "text")},
                           raw=d["row"].get("raw"), ending=d["row"].get("ending", "\n"))
                item = TrashedClip(row, int(d["index"]), d["original"], d["trash"], float(d["when"]))
            except (ValueError, KeyError, TypeError):
                continue
            if Path(item.trash).exists() and item.row.path not in present:
                out.append(item)
        out.reverse()
        return out
