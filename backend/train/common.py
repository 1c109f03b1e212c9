"""What every trainer (SoVITS and GPT) shares: resumable checkpoints, resume decisions, progress
events, mixed precision and seeding. Multi-process launching lives in :mod:`backend.train.distributed`.

Why this exists: the official trainers resume silently from whatever is in the log folder, report
"finished" after a crash, and a re-run of a finished experiment trains nothing without a word. Here
a run's state is one small manifest beside its checkpoints, so "where am I" has one answer.

Checkpoints — :class:`CheckpointStore`
    A folder (SoVITS: ``logs/<exp>/logs_s2_<version>``; GPT: its own) holding checkpoint files and a
    manifest ``gsv-train-state.json``::

        {"format": 1, "epoch": 4, "step": 120, "total_epochs": 8, "finished": false,
         "files": {"G": "G_120.pth", "D": "D_120.pth"}, "exports": ["…/exp_e4_s120.pth"], "time": …}

    :meth:`CheckpointStore.save` writes each file atomically (temp + fsync + rename), *then* the
    manifest, *then* removes the files of older checkpoints when ``keep_latest_only`` — so a
    SIGKILL at any instant leaves a complete checkpoint named by the manifest (the previous one
    if the kill came mid-save): at most one save interval is lost. Files are ``torch.save`` dicts;
    the trainer decides their content (SoVITS writes the official ``G_<step>.pth`` layout
    ``{"model", "iteration", "optimizer", "learning_rate"}`` plus a ``"gsv"`` entry with step,
    scheduler, scaler and RNG state, which the official loader ignores).
    :meth:`CheckpointStore.load` reads one file back (``weights_only``: plain data and tensors).

Resume — :func:`plan_resume`
    Given the store, the requested total epochs and ``restart``: a :class:`ResumePlan` (start
    from the base model, or continue after epoch E at step S), or :class:`RunFinishedError` when
    the last checkpoint already reached the requested epochs (the fix offers ``--epochs E+N``
    to train more, or ``--restart``). ``restart`` moves old checkpoints aside (never deletes), and
    the old run's exports with them (:class:`ExportFiles`): the new run writes the same official
    names, so left in place they would be overwritten.

Progress — :class:`TrainProgress`
    Emits job events through a :class:`~backend.jobs.events.Reporter`:

    - ``progress``: ``done`` = global step, ``total`` = last step of the run, ``unit`` "steps",
      ``label`` "epoch e/E";
    - ``metric`` per logged step: ``step`` and ``values`` = ``epoch``, ``loss/<term>`` for each loss
      term (``loss/total`` among them), ``lr``, ``samples_per_s``, ``eta_s``, and on CUDA
      ``gpu_mem_gb`` (peak allocated since the last event) and ``gpu_mem_total_gb``;
    - ``metric`` at the end of each epoch: ``epoch_end`` = 1, ``epoch``, and the epoch means
      ``loss/<term>``; plus an info message "epoch e/E: …";
    - ``artifact`` (role ``weights``) for each export, ``artifact`` (role ``checkpoint``) per save.

    The Training screen draws loss curves from ``metric`` events with ``loss/total``.

Also: :func:`save_epochs` (every N-th epoch and always the last), :func:`newest_by_digits` (the
official "latest checkpoint" rule, for picking up an official run's files), :func:`remove_temp_files`
(temp files of a save cut short by a kill), :func:`load_checkpoint_file` (named error for damaged
files), :func:`grad_norm` (the official unclipped total norm), :func:`rng_state`/:func:`set_rng_state`.

Mixed precision and seeding — :func:`precision_for`, :func:`autocast`, :func:`make_scaler`,
:func:`seed_everything`, :func:`gpu_supports_fp16`.

A trainer built on this: a ``prepare(settings, world_size, restart)`` in the stage's process
(checks inputs, :func:`plan_resume`, puts the resume point into the settings), then
:func:`backend.train.distributed.run_training` with a ``train_worker(params, report, dist)`` that
saves through :class:`CheckpointStore` on rank 0 and reports through :class:`TrainProgress`;
the stage's ``expected_outputs`` reads the manifest's ``finished`` flag and ``exports``.
(:mod:`backend.train.sovits` and :mod:`backend.train.gpt` are the two examples.)
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import GsvError
from ..fsutil import atomic_write_bytes, atomic_write_text
from ..jobs.events import Reporter

MANIFEST = "gsv-train-state.json"
MANIFEST_FORMAT = 1


class TrainError(GsvError):
    """Training cannot start or continue as asked."""


class RunFinishedError(TrainError):
    """The run already reached the requested number of epochs: resuming would train nothing."""

    def __init__(self, epoch: int, step: int, total_epochs: int, command_hint: str = "") -> None:
        hint = command_hint or "the same command"
        super().__init__(
            f"this training run already finished: its last checkpoint is at epoch {epoch} (step {step}) "
            f"and {total_epochs} epochs were asked for, so resuming would train nothing",
            fix=f"to train more, run {hint} with --epochs {epoch + max(1, min(epoch, 4))} (or any number "
                f"above {epoch}); to start over from the base model, add --restart")
        self.epoch, self.step, self.total_epochs = epoch, step, total_epochs


class CheckpointError(TrainError):
    """A resumable checkpoint is damaged or does not fit the model."""


# --------------------------------------------------------------------------- checkpoints
@dataclass(frozen=True)
class Checkpoint:
    """A complete resumable checkpoint, as named by the manifest."""

    folder: Path
    epoch: int  # last completed epoch
    step: int  # global optimiser steps done
    files: dict[str, str]  # role -> file name inside folder
    total_epochs: int | None = None
    finished: bool = False
    exports: tuple[str, ...] = ()

    def path(self, role: str) -> Path:
        return self.folder / self.files[role]


class CheckpointStore:
    """Resumable checkpoints of one run in one folder; see the module docstring for the guarantees."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)

    @property
    def manifest_path(self) -> Path:
        return self.folder / MANIFEST

    def _read_manifest(self) -> dict[str, Any] | None:
        try:
            data = json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as e:
            raise CheckpointError(f"{self.manifest_path} is unreadable ({e})",
                                  fix="delete that file to fall back to the newest checkpoint files, "
                                      "or use --restart") from None
        return data if isinstance(data, dict) else None

    def latest(self) -> Checkpoint | None:
        """The checkpoint the manifest names, if all its files exist; else None."""
        m = self._read_manifest()
        if not m or not isinstance(m.get("files"), dict):
            return None
        files = {str(k): str(v) for k, v in m["files"].items()}
        if not all((self.folder / f).is_file() for f in files.values()):
            return None
        return Checkpoint(self.folder, int(m["epoch"]), int(m["step"]), files,
                          m.get("total_epochs"), bool(m.get("finished", False)), tuple(m.get("exports", ())))

    def save(self, epoch: int, step: int, payloads: Mapping[str, Mapping[str, Any]], names: Mapping[str, str],
             total_epochs: int | None = None, keep_latest_only: bool = False,
             exports: list[str] | tuple[str, ...] = ()) -> Checkpoint:
        """Write one checkpoint: ``payloads[role]`` (a dict) to ``names[role]``, then the manifest.

        ``names`` should include the step (e.g. ``G_<step>.pth``) so a new checkpoint never
        overwrites the one the manifest still names. Older files named in the previous manifest
        (and its ``history``) are deleted after the manifest switched when ``keep_latest_only``.
        """
        import io

        import torch

        self.folder.mkdir(parents=True, exist_ok=True)
        prev = self._read_manifest() or {}
        for role, payload in payloads.items():
            buf = io.BytesIO()
            torch.save(dict(payload), buf)
            (self.folder / names[role]).parent.mkdir(parents=True, exist_ok=True)  # a name may hold a folder
            atomic_write_bytes(self.folder / names[role], buf.getvalue())
        old_files: list[str] = list(prev.get("history", []))
        if isinstance(prev.get("files"), dict):
            old_files += [str(v) for v in prev["files"].values()]
        new_files = {str(r): str(names[r]) for r in payloads}
        keep = set(new_files.values())
        history = [] if keep_latest_only else sorted({f for f in old_files if f not in keep})
        manifest = {"format": MANIFEST_FORMAT, "epoch": int(epoch), "step": int(step),
                    "total_epochs": total_epochs, "finished": False, "files": new_files,
                    "exports": list(prev.get("exports", [])) + [str(e) for e in exports if str(e) not in prev.get("exports", [])],
                    "history": history, "time": round(time.time(), 3)}
        atomic_write_text(self.manifest_path, json.dumps(manifest, indent=1) + "\n")
        if keep_latest_only:
            for f in set(old_files) - keep:
                try:
                    (self.folder / f).unlink()
                except FileNotFoundError:
                    pass
        return Checkpoint(self.folder, int(epoch), int(step), new_files, total_epochs, False, tuple(manifest["exports"]))

    def mark_finished(self, total_epochs: int, exports: list[str] | tuple[str, ...] = ()) -> None:
        """Record that the run reached ``total_epochs`` (the last checkpoint is its end state)."""
        m = self._read_manifest()
        if m is None:
            return
        m["finished"] = True
        m["total_epochs"] = int(total_epochs)
        m["exports"] = list(m.get("exports", [])) + [str(e) for e in exports if str(e) not in m.get("exports", [])]
        atomic_write_text(self.manifest_path, json.dumps(m, indent=1) + "\n")

    def load(self, ckpt: Checkpoint, role: str, map_location: Any = "cpu") -> dict[str, Any]:
        """One checkpoint file as a dict (tensors on ``map_location``); named error if damaged."""
        return load_checkpoint_file(ckpt.path(role), map_location)

    def remove_temp_files(self) -> list[Path]:
        """Delete half-written temp files (``.<name>.*.tmp``) that a kill during a save left behind."""
        return remove_temp_files(self.folder)

    def move_aside(self, name: str | None = None) -> Path | None:
        """``--restart``: move every checkpoint file and the manifest into ``old-<time>/`` (kept, not deleted),
        with the sub-folders (the official GPT layout's ``ckpt/``) but not earlier ``old-*`` folders."""
        if not self.folder.is_dir():
            return None
        items = [p for p in self.folder.iterdir() if p.is_file() or (p.is_dir() and not p.name.startswith("old-"))]
        if not items:
            return None
        return move_into(items, new_folder(self.folder, name or old_run_name()))


def old_run_name() -> str:
    """The folder name a restart gives the run it sets aside."""
    return time.strftime("old-%Y%m%d-%H%M%S")


def new_folder(parent: Path, name: str) -> Path:
    """Create ``parent/name`` (``name-1``, ``name-2``… when taken) and return it."""
    dest, n = parent / name, 1
    while dest.exists():
        dest, n = parent / f"{name}-{n}", n + 1
    dest.mkdir(parents=True)
    return dest


def move_into(files: list[Path], dest: Path) -> Path:
    for p in files:
        shutil.move(str(p), str(dest / p.name))
    return dest


@dataclass(frozen=True)
class ExportFiles:
    """Where a trainer writes its exports and what their (official) names look like.

    A restart trains the same epochs again and writes the same names, so the earlier run's
    exports are moved into ``old-<time>/`` inside the weights folder (the name its checkpoints'
    folder gets): kept, out of the way, and out of the default choice for inference.
    """

    folder: Path
    pattern: re.Pattern[str]  # matches the file name of one export of this experiment

    @classmethod
    def sovits(cls, folder: str | os.PathLike[str], exp_name: str) -> ExportFiles:
        return cls(Path(folder), re.compile(re.escape(exp_name) + r"_e\d+_s\d+(?:_l\d+)?\.pth"))

    @classmethod
    def gpt(cls, folder: str | os.PathLike[str], exp_name: str) -> ExportFiles:
        return cls(Path(folder), re.compile(re.escape(exp_name) + r"-e\d+\.ckpt"))

    def existing(self) -> list[Path]:
        if not self.folder.is_dir():
            return []
        return sorted(p for p in self.folder.iterdir() if p.is_file() and self.pattern.fullmatch(p.name))

    def move_aside(self, name: str) -> Path | None:
        found = self.existing()
        return move_into(found, new_folder(self.folder, name)) if found else None


def remove_temp_files(folder: Path) -> list[Path]:
    """Delete the temp files of atomic writes interrupted by a kill (``.<name>.<random>.tmp``)."""
    removed = []
    if Path(folder).is_dir():
        for p in Path(folder).glob(".*.tmp"):
            try:
                p.unlink()
                removed.append(p)
            except OSError:
                pass
    return removed


def load_checkpoint_file(path: Path, map_location: Any = "cpu") -> dict[str, Any]:
    import torch

    try:
        data = torch.load(path, map_location=map_location, weights_only=True)
    except FileNotFoundError:
        raise CheckpointError(f"{path} is missing", fix="use --restart to start from the base model") from None
    except Exception as e:  # noqa: BLE001 — any unpickling failure means a damaged file
        raise CheckpointError(f"{path} is damaged or not a training checkpoint ({type(e).__name__}: {e})",
                              fix="delete it (the previous checkpoint is used) or use --restart") from None
    if not isinstance(data, dict):
        raise CheckpointError(f"{path} does not hold a training checkpoint", fix="use --restart")
    return data


_DIGITS = re.compile(r"\d+")


def newest_by_digits(paths: list[Path]) -> Path | None:
    """The official trainers' choice of "latest" file: sorted by all digits in the path joined."""
    if not paths:
        return None
    return max(paths, key=lambda p: int("".join(_DIGITS.findall(p.name)) or "0"))


# ------------------------------------------------------------------------------ resume
@dataclass(frozen=True)
class ResumePlan:
    """Where a run starts: ``checkpoint`` None = from the base (pretrained) model."""

    checkpoint: Checkpoint | None
    start_epoch: int  # first epoch to train (1-based)
    start_step: int  # global steps already done
    total_epochs: int
    moved_aside: Path | None = None  # the old run's checkpoints (restart)
    exports_moved_to: Path | None = None  # the old run's exports (restart)

    @property
    def resuming(self) -> bool:
        return self.checkpoint is not None

    def moved_path(self, path: str | os.PathLike[str]) -> Path:
        """Where ``path`` is now if the restart moved it (a base model that was an old export)."""
        p = Path(path)
        for old in (self.moved_aside, self.exports_moved_to):
            if old is not None and p.parent == old.parent and (old / p.name).is_file() and not p.exists():
                return old / p.name
        return p

    def restart_notes(self) -> list[str]:
        """What a restart moved and where, for the job log."""
        notes = []
        if self.moved_aside is not None:
            notes.append(f"--restart: the previous checkpoints were moved to {self.moved_aside}")
        if self.exports_moved_to is not None:
            notes.append(f"--restart: the previous run's exports were moved to {self.exports_moved_to}")
        return notes


def plan_resume(store: CheckpointStore, total_epochs: int, restart: bool = False,
                fallback: Checkpoint | None = None, command_hint: str = "",
                exports: ExportFiles | None = None) -> ResumePlan:
    """Decide where training starts (explicit: ``restart``; automatic: the newest checkpoint).

    ``fallback`` is a checkpoint found without a manifest (e.g. an official run's ``G_*.pth``);
    it is used when the manifest names none. Raises :class:`RunFinishedError` when the newest
    checkpoint has already reached ``total_epochs``. On ``restart`` the old checkpoints and the
    old ``exports`` go into folders of the same ``old-<time>`` name.
    """
    if total_epochs < 1:
        raise TrainError(f"--epochs must be at least 1, got {total_epochs}", fix="e.g. --epochs 8")
    if restart:
        name = old_run_name()
        moved = store.move_aside(name)
        moved_exports = exports.move_aside(moved.name if moved is not None else name) if exports else None
        return ResumePlan(None, 1, 0, total_epochs, moved, moved_exports)
    ckpt = store.latest() or fallback
    if ckpt is None:
        return ResumePlan(None, 1, 0, total_epochs)
    if ckpt.epoch >= total_epochs:
        raise RunFinishedError(ckpt.epoch, ckpt.step, total_epochs, command_hint)
    return ResumePlan(ckpt, ckpt.epoch + 1, ckpt.step, total_epochs)


def save_epochs(total_epochs: int, save_every: int) -> set[int]:
    """Epochs after which a checkpoint and an export are written: every ``save_every``-th epoch
    and always the last one (the official trainer skips the last when it is not a multiple)."""
    if save_every < 1:
        raise TrainError(f"--save-every must be at least 1, got {save_every}", fix="e.g. --save-every 4")
    return {e for e in range(1, total_epochs + 1) if e % save_every == 0} | {total_epochs}


# ---------------------------------------------------------------------------- progress
@dataclass
class TrainProgress:
    """Turns trainer steps into job events (see the module docstring for names and fields).

    ``samples`` counts every process's samples (pass ``batch_size * world_size`` per step).
    ``min_interval`` throttles per-step metric events (seconds); epoch ends are always sent.
    """

    report: Reporter
    total_epochs: int
    steps_per_epoch: int
    start_epoch: int = 1
    start_step: int = 0
    min_interval: float = 1.0
    device: Any = None
    _t0: float = field(default=0.0, init=False)
    _last_emit: float = field(default=0.0, init=False)
    _samples: int = field(default=0, init=False)
    _steps: int = field(default=0, init=False)
    _epoch_sums: dict[str, float] = field(default_factory=dict, init=False)
    _epoch_n: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self._t0 = time.monotonic()
        self._last_emit = 0.0

    @property
    def total_steps(self) -> int:
        return self.start_step + (self.total_epochs - self.start_epoch + 1) * self.steps_per_epoch

    def start(self) -> None:
        self.report.progress(self.start_step, self.total_steps, "steps",
                             label=f"epoch {self.start_epoch}/{self.total_epochs}")

    def step(self, step: int, epoch: int, losses: Mapping[str, float], lr: float, samples: int,
             extra: Mapping[str, float] | None = None) -> None:
        """After each optimiser step: ``step`` = global steps done, ``losses`` = term -> value."""
        self._samples += samples
        self._steps += 1
        for k, v in losses.items():
            self._epoch_sums[k] = self._epoch_sums.get(k, 0.0) + float(v)
        self._epoch_n += 1
        now = time.monotonic()
        if now - self._last_emit < self.min_interval and step < self.total_steps:
            return
        self._last_emit = now
        elapsed = max(now - self._t0, 1e-9)
        left = max(self.total_steps - step, 0)
        values: dict[str, float] = {"epoch": epoch, "lr": float(lr),
                                    "samples_per_s": round(self._samples / elapsed, 4),
                                    "eta_s": round(left * elapsed / max(self._steps, 1), 1)}
        values.update({f"loss/{k}": float(v) for k, v in losses.items()})
        values.update(gpu_memory(self.device))
        if extra:
            values.update({k: float(v) for k, v in extra.items()})
        self.report.metric(step=step, **values)
        self.report.progress(step, self.total_steps, "steps", label=f"epoch {epoch}/{self.total_epochs}")

    def epoch_end(self, epoch: int, step: int) -> dict[str, float]:
        means = {k: v / max(self._epoch_n, 1) for k, v in self._epoch_sums.items()}
        self.report.metric(step=step, epoch=epoch, epoch_end=1, **{f"loss/{k}": v for k, v in means.items()})
        self.report.progress(step, self.total_steps, "steps", label=f"epoch {epoch}/{self.total_epochs}")
        terms = ", ".join(f"{k} {v:.4g}" for k, v in means.items())
        self.report.info(f"epoch {epoch}/{self.total_epochs} done (step {step}): {terms}")
        self._epoch_sums, self._epoch_n = {}, 0
        return means


def gpu_memory(device: Any = None) -> dict[str, float]:
    """``gpu_mem_gb`` (peak allocated since the last call, then reset) and ``gpu_mem_total_gb``; {} on CPU."""
    import torch

    if device is None or not torch.cuda.is_available() or torch.device(device).type != "cuda":
        return {}
    peak = torch.cuda.max_memory_allocated(device) / 2**30
    total = torch.cuda.get_device_properties(device).total_memory / 2**30
    torch.cuda.reset_peak_memory_stats(device)
    return {"gpu_mem_gb": round(peak, 3), "gpu_mem_total_gb": round(total, 2)}


# -------------------------------------------------------------------- precision, seeds
def gpu_supports_fp16(device: Any) -> bool:
    """fp16 training pays off (tensor cores) from compute capability 7.0 (Volta) on; the
    official WebUI likewise turns half precision off for Pascal (P40/P100/10xx) and GTX 16xx cards."""
    import torch

    dev = torch.device(device)
    if dev.type != "cuda" or not torch.cuda.is_available():
        return False
    major, _minor = torch.cuda.get_device_capability(dev)
    name = torch.cuda.get_device_name(dev).upper()
    return major >= 7 and not re.search(r"GTX\s*16\d\d|\b16[56]0\b", name)  # GTX 16xx: no tensor cores


def precision_for(device: Any, want_fp16: bool = True) -> bool:
    """Whether to run fp16 autocast + GradScaler on this device."""
    return bool(want_fp16) and gpu_supports_fp16(device)


def autocast(device: Any, enabled: bool):
    """``torch.autocast`` in fp16 when enabled (:func:`precision_for` enables it on capable GPUs only)."""
    import torch

    return torch.autocast(device_type=torch.device(device).type, dtype=torch.float16, enabled=enabled)


def make_scaler(device: Any, enabled: bool):
    import torch

    return torch.amp.GradScaler(torch.device(device).type, enabled=enabled)


def seed_everything(seed: int) -> None:
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def rng_state() -> dict[str, Any]:
    """CPU (and CUDA) generator states, stored in checkpoints so a resumed run continues the stream."""
    import torch

    st: dict[str, Any] = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        st["cuda"] = torch.cuda.get_rng_state_all()
    return st


def set_rng_state(state: Mapping[str, Any] | None) -> None:
    import torch

    if not state:
        return
    if state.get("torch") is not None:
        torch.set_rng_state(state["torch"])
    if state.get("cuda") is not None and torch.cuda.is_available():
        try:
            torch.cuda.set_rng_state_all(list(state["cuda"]))
        except (RuntimeError, ValueError):
            pass  # a different number of GPUs now: keep the fresh streams


def grad_norm(parameters: Any) -> float:
    """Total 2-norm of the gradients, without clipping (the official ``clip_grad_value_(p, None)``)."""
    import torch

    norms = [p.grad.detach().float().norm(2) for p in parameters if p.grad is not None]
    if not norms:
        return 0.0
    return float(torch.stack(norms).norm(2))
