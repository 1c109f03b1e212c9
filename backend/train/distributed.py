"""Running a trainer on one or several devices: in-process, or under torchrun (DDP) for several GPUs.

A trainer provides one function ``train(params: dict, report: Reporter, dist: DistContext) -> None``
(its *worker*), named as ``"package.module:function"``. A stage calls::

    run_training("backend.train.sovits:train_worker", params_json, report, nprocs=len(gpus))

- ``nprocs <= 1``: the worker runs in this process with ``DistContext.single(device)``.
- ``nprocs >= 2``: ``python -m torch.distributed.run --standalone --nproc-per-node N -m
  backend.train.distributed SPEC`` is started (nccl on CUDA, gloo on CPU — the tests use 2 CPU
  processes). Each process calls :func:`DistContext.from_env` (process group set up, its GPU
  chosen from ``LOCAL_RANK`` within ``CUDA_VISIBLE_DEVICES``). Rank 0's events go to a file next
  to SPEC, which this process tails and forwards to ``report`` as they come, so a job's events
  look the same with one process or eight. Other ranks report nothing.

Failure and cancel: a worker that raises writes ``rank<k>.error.json`` (type, message, fix,
CUDA OOM flag); the parent raises the first one again — a :class:`~backend.errors.GsvError` as a
GsvError (same message and fix), anything else as ``RuntimeError`` with the original text, so
the job runner still names CUDA out-of-memory. The torchrun process shares the job's process
group; it starts each rank in a session of its own, so a rank asks the kernel to kill it when
torchrun dies (``PR_SET_PDEATHSIG``). Cancelling the job (TERM to the group: torchrun stops its
ranks; after the grace period KILL: the ranks die with torchrun) or ``kill -9`` of the group
therefore leaves no rank behind; when the parent itself is interrupted it terminates torchrun
and waits for it.

The worker must make all ranks do the same number of steps (DDP requires it) and write files
(checkpoints, exports) on rank 0 only (``dist.is_main``), followed by ``dist.barrier()``.
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ..errors import GsvError
from ..progress import EventCursor, Reporter


@dataclass
class DistContext:
    """Who this process is in the run and which device it trains on."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: Any = "cpu"
    backend: str | None = None  # None: no process group (single process)

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @classmethod
    def single(cls, device: Any = None) -> DistContext:
        import torch

        if device is None:
            device = "cuda:0" if torch.cuda.is_available() else "cpu"
        return cls(device=torch.device(device))

    @classmethod
    def from_env(cls) -> DistContext:
        """Inside a torchrun process: join the process group (nccl with CUDA, else gloo)."""
        import torch
        import torch.distributed as tdist

        rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
        local = int(os.environ.get("LOCAL_RANK", rank))
        use_cuda = torch.cuda.is_available() and os.environ.get("GSV_TRAIN_FORCE_CPU") != "1"
        if use_cuda:
            torch.cuda.set_device(local)
            device = torch.device("cuda", local)
        else:
            device = torch.device("cpu")
        backend = "nccl" if use_cuda else "gloo"
        if not tdist.is_initialized():
            tdist.init_process_group(backend=backend, rank=rank, world_size=world)
        return cls(rank=rank, world_size=world, local_rank=local, device=device, backend=backend)

    def barrier(self) -> None:
        if self.distributed:
            import torch.distributed as tdist

            tdist.barrier()

    def wrap(self, module: Any, **kw: Any) -> Any:
        """``DistributedDataParallel`` around ``module`` when distributed, else the module itself."""
        if not self.distributed:
            return module
        from torch.nn.parallel import DistributedDataParallel as DDP

        ids = [self.device.index] if getattr(self.device, "type", "cpu") == "cuda" else None
        return DDP(module, device_ids=ids, **kw)

    def all_mean(self, values: dict[str, float]) -> dict[str, float]:
        """Average scalar values over ranks (loss terms for reporting)."""
        if not self.distributed or not values:
            return values
        import torch
        import torch.distributed as tdist

        keys = sorted(values)
        t = torch.tensor([float(values[k]) for k in keys], dtype=torch.float64,
                         device=self.device if self.backend == "nccl" else "cpu")
        tdist.all_reduce(t)
        t /= self.world_size
        return {k: float(v) for k, v in zip(keys, t.tolist())}

    def close(self) -> None:
        if self.distributed:
            import torch.distributed as tdist

            if tdist.is_initialized():
                tdist.destroy_process_group()


def _resolve(target: str) -> Callable[..., Any]:
    mod, _, fn = target.partition(":")
    return getattr(importlib.import_module(mod), fn)


def run_training(target: str, params: dict[str, Any], report: Reporter, nprocs: int = 1,
                 device: Any = None, force_cpu: bool = False, poll_s: float = 0.2) -> None:
    """Run the worker ``target`` on ``nprocs`` processes (see the module docstring)."""
    fn = _resolve(target)
    if nprocs <= 1:
        if force_cpu:
            device = "cpu"
        fn(params, report, DistContext.single(device))
        return
    with tempfile.TemporaryDirectory(prefix="gsv-ddp-") as tmp:
        spec = Path(tmp) / "spec.json"
        events = Path(tmp) / "events.jsonl"
        spec.write_text(json.dumps({"target": target, "params": params, "events": str(events)}), encoding="utf-8")
        env = dict(os.environ)
        env["OMP_NUM_THREADS"] = env.get("OMP_NUM_THREADS", "1")
        if force_cpu:
            env["GSV_TRAIN_FORCE_CPU"] = "1"
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nnodes", "1",
               "--nproc-per-node", str(nprocs), "-m", "backend.train.distributed", str(spec)]
        root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        proc = subprocess.Popen(cmd, env=env)
        cursor = EventCursor(events)
        try:
            while proc.poll() is None:
                _forward(cursor, report)
                time.sleep(poll_s)
            _forward(cursor, report)
        except BaseException:
            _stop(proc)
            raise
        errors = [(json.loads(p.read_text(encoding="utf-8")), p.name) for p in Path(tmp).glob("rank*.error.json")]
        if errors:  # the first failure is the cause; the others are peers losing their connection
            _reraise(*min(errors, key=lambda e: float(e[0].get("t", 0.0))))
        if proc.returncode != 0:
            raise RuntimeError(f"torchrun exited with status {proc.returncode} (see the log above)")


def _forward(cursor: EventCursor, report: Reporter) -> None:
    for ev in cursor.read_new():
        kind = ev.pop("kind", None)
        ev.pop("t", None)
        if kind:
            report.emit(kind, **ev)


def _stop(proc: subprocess.Popen, grace: float = 10.0) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)  # torchrun passes it on to every rank
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _reraise(err: dict[str, Any], where: str) -> None:
    text = f"{err.get('message', '')}"
    if err.get("gsv"):
        raise GsvError(text, err.get("fix"))
    raise RuntimeError(f"training process failed ({where.split('.')[0]}): {err.get('type')}: {text}")


def _die_with_parent() -> None:
    """torchrun starts each rank in a session of its own, out of reach of the job's process-group
    signals; so a rank asks the kernel to SIGKILL it when its parent (the torchrun agent) dies —
    after a cancel's SIGKILL or a ``kill -9`` of the job no rank is left behind (Linux only)."""
    parent = os.getppid()
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent or parent == 1:  # the agent died before the request took effect
        os._exit(1)


def _worker_main(spec_path: str) -> int:
    _die_with_parent()
    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    rank = int(os.environ.get("RANK", "0"))
    report = Reporter.to_file(spec["events"]) if rank == 0 else Reporter()
    dist = None
    try:
        dist = DistContext.from_env()
        _resolve(spec["target"])(spec["params"], report, dist)
        return 0
    except BaseException as e:  # noqa: BLE001 — recorded for the parent, then the process fails
        traceback.print_exc()
        err = {"type": type(e).__name__, "message": e.message if isinstance(e, GsvError) else str(e),
               "fix": getattr(e, "fix", None), "gsv": isinstance(e, GsvError), "t": time.time()}
        try:
            Path(spec_path).with_name(f"rank{rank}.error.json").write_text(json.dumps(err), encoding="utf-8")
        except OSError:
            pass
        return 1
    finally:
        if dist is not None:
            try:
                dist.close()
            except Exception:  # noqa: BLE001
                pass


if __name__ == "__main__":
    sys.exit(_worker_main(sys.argv[1]))
