"""Recent synthesis results: the ``OUT.json`` records ``gsv infer`` writes beside each wav.

The Inference screen lists them to compare takes (parameters, seed, duration side by side),
play them again and regenerate one exactly (same parameters and seed). No torch here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Take:
    wav: Path
    record: dict[str, Any]

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.record.get("params", {}))

    @property
    def seed(self) -> int:
        return int(self.record.get("seed", -1))

    @property
    def duration(self) -> float:
        return float(self.record.get("duration", 0.0))

    @property
    def created(self) -> str:
        return str(self.record.get("created", ""))

    def summary(self) -> str:
        """One line: the settings that tell takes apart."""
        p = self.params
        return (f"{p.get('cut', '?')} k{p.get('top_k', '?')} p{p.get('top_p', '?')} "
                f"t{p.get('temperature', '?')} x{p.get('speed', '?')} seed {self.seed}")

    def regenerate_params(self) -> dict[str, Any]:
        """The same request with the seed that was used (so the take comes back exactly)."""
        p = self.params
        p["seed"] = self.seed
        return p


def recent_takes(folder: str | Path, limit: int = 30) -> list[Take]:
    """Takes in ``folder`` (newest first); records that are unreadable or lack their wav are skipped."""
    root = Path(folder)
    if not root.is_dir():
        return []
    found: list[tuple[float, Take]] = []
    for rec in root.glob("*.json"):
        wav = rec.with_suffix(".wav")
        if not wav.is_file():
            continue
        try:
            data = json.loads(rec.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(data, dict) or "params" not in data:
            continue
        found.append((rec.stat().st_mtime, Take(wav, data)))
    found.sort(key=lambda item: item[0], reverse=True)
    return [t for _, t in found[:limit]]


def save_copy(take: Take, target: str | Path) -> Path:
    """Copy a take's wav (and its record) to ``target``; an existing file there is kept as ``.prev``."""
    from backend.fsutil import atomic_write_bytes

    target = Path(target).expanduser()
    if target.suffix.lower() != ".wav":
        target = target.with_suffix(".wav")
    target.parent.mkdir(parents=True, exist_ok=True)
    for src, dst in ((take.wav, target), (take.wav.with_suffix(".json"), target.with_suffix(".json"))):
        if not src.is_file():
            continue
        if dst.exists() and dst.resolve() != src.resolve():
            dst.replace(dst.with_name(f"{dst.stem}.prev{dst.suffix}"))
        if dst.resolve() != src.resolve():
            atomic_write_bytes(dst, src.read_bytes())
    return target
