"""GPT training checkpoints in the official layout, so a run moves between the tools both ways.

The official ``s1_train.py`` keeps Lightning checkpoints as ``logs_s1_<ver>/ckpt/epoch=E-step=S.ckpt``
and resumes from the newest one; with none there it silently restarts from the pretrained model.
So our trainer writes its checkpoints under that name too, and our resume picks up an official
run's file when no manifest names a checkpoint.

Names follow Lightning: ``E`` is the 0-based index of the epoch just finished (a checkpoint after
our epoch 1 is ``epoch=0-…``), ``S`` the optimiser steps done (``global_step`` with manual
optimisation). The file is a Lightning checkpoint dict — ``state_dict`` (``model.*``), ``epoch``,
``global_step``, ``pytorch-lightning_version``, ``loops`` (the fit loop's epoch and step
progress), ``callbacks``, ``optimizer_states``, ``lr_schedulers`` — plus our own ``gsv`` entry with
the complete trainer state (the optimiser state is the same object in both places, so
``torch.save`` stores it once). Lightning ignores keys it does not know; we ignore Lightning's.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from .common import Checkpoint

OFFICIAL_DIR = "ckpt"
LIGHTNING_VERSION = "2.6.6"
"""The pytorch-lightning version the official trainer was checked with (refvectors ``train_s1``):
Lightning migrates checkpoints of older versions, so the file claims the one its layout follows."""
_NAME = re.compile(r"epoch=(\d+)-step=(\d+)(?:-v\d+)?\.ckpt")


def file_name(epoch: int, step: int) -> str:
    """Where the checkpoint after (1-based) ``epoch`` at ``step`` goes, relative to the run folder."""
    return f"{OFFICIAL_DIR}/epoch={epoch - 1}-step={step}.ckpt"


def _progress(n: int) -> dict[str, int]:
    return {"ready": n, "started": n, "processed": n, "completed": n}


def lightning_fields(epoch: int, step: int, batches: int, optimizer_state: dict[str, Any]) -> dict[str, Any]:
    """The Lightning checkpoint keys for the state after (1-based) ``epoch``: ``epoch`` epochs done."""
    steps = {"ready": step, "completed": step}
    return {
        "epoch": epoch - 1,
        "global_step": step,
        "pytorch-lightning_version": LIGHTNING_VERSION,
        "loops": {"fit_loop": {
            "state_dict": {},
            "epoch_progress": {"total": _progress(epoch), "current": _progress(epoch)},
            "epoch_loop.state_dict": {"_batches_that_stepped": batches},
            "epoch_loop.manual_optimization.optim_step_progress": {"total": steps, "current": dict(steps)},
        }},
        "callbacks": {},
        "optimizer_states": [optimizer_state],
        "lr_schedulers": [{"_current_step": step}],
    }


def official_checkpoint(run_dir: Path, role: str) -> Checkpoint | None:
    """The newest ``ckpt/epoch=E-step=S.ckpt`` of ``run_dir`` (by epoch, then step, as the official
    trainer picks it) as a :class:`Checkpoint` after epoch ``E + 1``; None when there is none."""
    folder = Path(run_dir) / OFFICIAL_DIR
    if not folder.is_dir():
        return None
    found = [(int(m[1]), int(m[2]), p.name) for p in folder.iterdir()
             if p.is_file() and (m := _NAME.fullmatch(p.name))]
    if not found:
        return None
    epoch, step, name = max(found)
    return Checkpoint(Path(run_dir), epoch + 1, step, {role: f"{OFFICIAL_DIR}/{name}"})


def trainer_state(ck: dict[str, Any], accumulate: int) -> tuple[dict[str, Any], bool]:
    """The trainer state to resume from ``ck`` and whether it is complete (a file of ours).

    An official file carries no ``gsv`` entry: its optimiser state, its step and the batches
    Lightning counted are used; scaler, leftover gradients and RNG state start fresh.
    """
    ours = ck.get("gsv")
    if ours:
        return dict(ours), True
    step = int(ck.get("global_step", 0))
    loops = ((ck.get("loops") or {}).get("fit_loop") or {}).get("epoch_loop.state_dict") or {}
    states = ck.get("optimizer_states") or []
    state: dict[str, Any] = {"steps": step, "schedule": {"steps": step},
                             "batches": int(loops.get("_batches_that_stepped", step * accumulate))}
    if states:
        state["optimizer"] = states[0]
    return state, False
