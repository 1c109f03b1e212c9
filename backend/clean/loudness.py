"""Loudness before and after cleaning, for the slicer's summary of a cleaned folder.

The clean job records each file's RMS level (dBFS) before and after the chain in its report
(``<folder>.clean.json``). When the slicer cuts a folder that has such a report beside it, each
sliced file's summary row gets both figures, and a file the separation emptied (music with no
voice: its cleaned level tens of dB under its original) gets a warning of the run, so it stands
out before anyone transcribes it. A file the report does not list (copied in by hand, or its row lost) has its cleaned level
measured here and its original marked unknown.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from ..fsutil import read_json_file

EMPTIED_DROP_DB = 20.0  # this much quieter than the original: little of the recording is left
SILENT_DB = -60.0  # or this quiet whatever the original: nothing to slice but noise floor


def report_path(folder: Path) -> Path:
    """The clean job's report for the output folder ``folder`` (beside it, not in it)."""
    folder = Path(folder)
    return folder.with_name(folder.name + ".clean.json")


def read_report(folder: Path) -> dict[str, dict[str, Any]] | None:
    """The report's rows by output file name, or None when ``folder`` has no (readable) report."""
    data = read_json_file(report_path(folder))
    rows = data.get("files") if data is not None else None
    if not isinstance(rows, list):
        return None
    return {Path(str(r["output"])).name: r for r in rows if isinstance(r, dict) and r.get("output")}


def _level(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not math.isnan(value) else None


def measure_rms_db(path: Path, block: int = 1 << 20) -> float | None:
    """RMS level of a file over all its samples, read a block at a time (None when unreadable)."""
    import numpy as np
    import soundfile as sf

    total, n = 0.0, 0
    try:
        with sf.SoundFile(str(path)) as f:
            for data in f.blocks(blocksize=block, dtype="float32", always_2d=True):
                total += float(np.square(data, dtype=np.float64).sum())
                n += data.size
    except (OSError, RuntimeError, sf.LibsndfileError):
        return None
    return rms_db(total, n)


def rms_db(sum_sq: float, n: int) -> float:
    """RMS level in dBFS of ``n`` samples whose squares sum to ``sum_sq`` (-inf: digital silence)."""
    return 10 * math.log10(sum_sq / n) if n and sum_sq > 0 else -math.inf


def emptied(original: float | None, cleaned: float | None) -> bool:
    """True when the cleaned file looks emptied: far quieter than its original, or near silent."""
    if cleaned is None:
        return False
    if cleaned <= SILENT_DB:
        return True
    return original is not None and math.isfinite(original) and original - cleaned >= EMPTIED_DROP_DB


def db_text(value: float | None) -> str:
    if value is None:
        return "unknown"
    return "silent" if math.isinf(value) else f"{value:.1f}"


def add_to_slice_rows(files: list[dict[str, Any]]) -> list[str]:
    """Give each summary row of a file from a cleaned folder ``rms_db_original`` and
    ``rms_db_cleaned`` (None: unknown); returns a warning for each file the cleaning emptied."""
    reports: dict[Path, dict[str, dict[str, Any]] | None] = {}
    warnings = []
    for row in files:
        path = Path(str(row.get("path", "")))
        folder = path.parent
        if folder not in reports:
            reports[folder] = read_report(folder)
        report = reports[folder]
        if report is None:
            continue
        found = report.get(path.name, {})
        original, cleaned = _level(found.get("rms_db_before")), _level(found.get("rms_db_after"))
        if cleaned is None:
            cleaned = measure_rms_db(path)
        row["rms_db_original"], row["rms_db_cleaned"] = original, cleaned
        if emptied(original, cleaned):
            warnings.append(f"the cleaning left little of {path.name} ({db_text(original)} → {db_text(cleaned)} "
                            "dBFS): listen to it before transcribing")
    return warnings
