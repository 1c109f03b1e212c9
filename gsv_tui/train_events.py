"""What a training job's events say, folded into one small state the Training screen draws.

Training jobs (``train-sovits``, ``train-gpt``) report through
:class:`backend.train.common.TrainProgress`: ``metric`` events with ``loss/<term>``, ``lr``,
``samples_per_s``, ``eta_s``, ``gpu_mem_gb``/``gpu_mem_total_gb`` per logged step, an
``epoch_end`` metric per epoch, ``progress`` (step done/total, label "epoch e/E"), ``message``
lines and ``artifact`` events (role ``weights``). Nothing here imports Textual or torch.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

MAX_POINTS = 4000
LOG_LINES = 200


@dataclass
class TrainState:
    """The latest numbers of one training job, and its loss curve."""

    job_id: str | None = None
    stage: str | None = None
    step: int = 0
    total_steps: int | None = None
    epoch_label: str | None = None
    eta_s: float | None = None
    samples_per_s: float | None = None
    lr: float | None = None
    gpu_mem_gb: float | None = None
    gpu_mem_total_gb: float | None = None
    losses: dict[str, float] = field(default_factory=dict)
    curve: deque[float] = field(default_factory=lambda: deque(maxlen=MAX_POINTS))
    epoch_means: list[float] = field(default_factory=list)
    log: deque[str] = field(default_factory=lambda: deque(maxlen=LOG_LINES))
    weights: list[str] = field(default_factory=list)

    def apply(self, ev: dict[str, Any]) -> None:
        kind = ev.get("kind")
        if kind == "metric":
            self._metric(ev)
        elif kind == "progress":
            if isinstance(ev.get("done"), (int, float)):
                self.step = int(ev["done"])
            if isinstance(ev.get("total"), (int, float)):
                self.total_steps = int(ev["total"])
            if isinstance(ev.get("label"), str):
                self.epoch_label = ev["label"]
        elif kind == "message" and isinstance(ev.get("text"), str):
            level = ev.get("level", "info")
            self.log.append(ev["text"] if level == "info" else f"{level}: {ev['text']}")
        elif kind == "artifact" and ev.get("role") == "weights" and isinstance(ev.get("path"), str):
            self.weights.append(ev["path"])

    def _metric(self, ev: dict[str, Any]) -> None:
        v = ev.get("values")
        if not isinstance(v, dict):
            return
        total = v.get("loss/total")
        if v.get("epoch_end"):
            if isinstance(total, (int, float)):
                self.epoch_means.append(float(total))
            return
        if isinstance(total, (int, float)):
            self.curve.append(float(total))
        self.losses = {k[5:]: float(x) for k, x in v.items() if k.startswith("loss/") and isinstance(x, (int, float))}
        for name in ("eta_s", "samples_per_s", "lr", "gpu_mem_gb", "gpu_mem_total_gb"):
            if isinstance(v.get(name), (int, float)):
                setattr(self, name, float(v[name]))
        if isinstance(ev.get("step"), int):
            self.step = ev["step"]


def eta_text(seconds: float | None) -> str:
    if seconds is None:
        return "ETA –"
    s = int(round(seconds))
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"ETA {h}h{m:02d}m" if h else (f"ETA {m}m{s:02d}s" if m else f"ETA {s}s")


def status_line(st: TrainState, running: bool = True) -> str:
    """``train-gpt · epoch 2/15 · step 40/300 · ETA 3m10s · loss 812.3 · 11.2 samples/s · GPU 3.1/24 GB``

    The ETA is shown only while the job runs: after a cancel or a failure it would promise an end
    that will not come."""
    parts = [st.stage or "training"]
    if st.epoch_label:
        parts.append(st.epoch_label)
    parts.append(f"step {st.step}/{st.total_steps}" if st.total_steps else f"step {st.step}")
    if running:
        parts.append(eta_text(st.eta_s))
    if "total" in st.losses:
        parts.append(f"loss {st.losses['total']:.4g}")
    if st.samples_per_s is not None:
        parts.append(f"{st.samples_per_s:.3g} samples/s")
    if st.gpu_mem_gb is not None:
        parts.append(f"GPU {st.gpu_mem_gb:.1f}/{st.gpu_mem_total_gb or 0:.0f} GB")
    return " · ".join(parts)


BLOCKS = " ▁▂▃▄▅▆▇█"


def curve_rows(values: list[float], width: int, height: int) -> list[str]:
    """A column chart of ``values`` (resampled to ``width`` columns by bucket means), ``height``
    rows of eighth-blocks, top row first; empty strings when there is nothing to draw."""
    if not values or width < 1 or height < 1:
        return [""] * max(height, 0)
    n = len(values)
    cols = []
    for c in range(min(width, n)):
        lo, hi = c * n // min(width, n), max((c + 1) * n // min(width, n), c * n // min(width, n) + 1)
        chunk = values[lo:hi]
        cols.append(sum(chunk) / len(chunk))
    vmin, vmax = min(cols), max(cols)
    span = vmax - vmin or 1.0
    levels = [1 + round((v - vmin) / span * (height * 8 - 1)) for v in cols]
    rows = []
    for r in range(height - 1, -1, -1):
        base = r * 8
        rows.append("".join(BLOCKS[max(0, min(8, lv - base))] for lv in levels))
    return rows
