"""Which GPUs a job leases when the user did not say: config.toml's ``gpus``, else every visible GPU.

Found without importing torch (the CLI and TUI must start fast): ``CUDA_VISIBLE_DEVICES`` when set,
else the NVIDIA driver's ``/proc/driver/nvidia/gpus`` entries. No GPU → an empty list: the job runs
on the CPU and leases nothing.
"""

from __future__ import annotations

import os
from pathlib import Path

NVIDIA_PROC = Path("/proc/driver/nvidia/gpus")


def visible_gpus() -> list[str]:
    env = os.environ.get("CUDA_VISIBLE_DEVICES")
    if env is not None:
        return [g.strip() for g in env.split(",") if g.strip() and g.strip() != "-1"]
    try:
        count = sum(1 for _ in NVIDIA_PROC.iterdir())
    except OSError:
        return []
    return [str(i) for i in range(count)]


def default_gpus(uses_gpu: bool) -> list[str]:
    """GPU ids for a job submitted without ``--gpus``: none for a CPU stage; for a GPU stage the
    configured ``gpus`` or, when that is empty, every visible GPU."""
    if not uses_gpu:
        return []
    from ..config import load_config

    configured = load_config().gpus
    return [str(g) for g in configured] if configured else visible_gpus()
