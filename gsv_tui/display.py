"""Short text forms of job values for narrow (80-column) tables."""

from __future__ import annotations

import time
from datetime import datetime

from .jobwatch import JobView, ProgressView

BAR_WIDTH = 6


def progress_text(p: ProgressView | None, width: int = BAR_WIDTH) -> str:
    """``██████░░ 75%`` when the total is known, ``1234 steps`` when it is not."""
    if p is None:
        return ""
    frac = p.fraction
    if frac is None:
        return _amount(p.done, None, p.unit)
    filled = int(round(frac * width))
    return "█" * filled + "░" * (width - filled) + f" {int(frac * 100):3d}%"


def progress_detail(p: ProgressView | None) -> str:
    if p is None:
        return "no progress reported yet"
    label = f" — {p.label}" if p.label else ""
    return _amount(p.done, p.total, p.unit) + label


def _amount(done: float, total: float | None, unit: str) -> str:
    """``3/10 clips``; byte counts in MB (``412.3/1302.9 MB``)."""
    if unit == "bytes":
        done, total, unit = done / 1e6, (total / 1e6 if total is not None else None), "MB"
        return f"{done:.1f}" + (f"/{total:.1f}" if total is not None else "") + f" {unit}"
    return _num(done) + (f"/{_num(total)}" if total is not None else "") + f" {unit}"


def _num(x: float | None) -> str:
    if x is None:
        return "?"
    return str(int(x)) if float(x).is_integer() else f"{x:.1f}"


def clock_text(t: float | None) -> str:
    """Start time as ``14:03`` today, ``12-01 14:03`` on another day."""
    if t is None:
        return ""
    dt = datetime.fromtimestamp(t)
    if dt.date() == datetime.now().date():
        return dt.strftime("%H:%M")
    return dt.strftime("%m-%d %H:%M")


def duration_text(job: JobView, now: float | None = None) -> str:
    if job.started is None:
        return ""
    end = job.finished if job.finished is not None else (now if now is not None else time.time())
    secs = max(0, int(end - job.started))
    h, rem = divmod(secs, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def gpus_text(job: JobView) -> str:
    return ",".join(str(g) for g in job.gpus) if job.gpus else "cpu"
