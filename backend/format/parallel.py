"""Running one step over many items: in this process, or split across worker processes.

Work is split the official way — part ``i`` of ``N`` takes items ``i, i+N, i+2N, …`` — with one
worker process per entry of ``devices`` (``["cuda:0", "cuda:1"]`` for two GPUs, ``["cuda:0"] * 2``
for two processes on one GPU, ``["cpu"] * 2`` for two CPU processes). Each worker loads the step's
models once and appends to its own journal part; the parent follows progress by counting journal
lines, so no queue or shared state is needed, and a killed run keeps every finished item.
With a single device the step runs in this process (no start-up cost).
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import traceback
from collections.abc import Callable
from typing import Any

from . import journal
from .items import FormatItem
from .steps import STEPS, StepConfig, StepUnavailableError

ProgressFn = Callable[[int], None]  # items finished so far in this run


def _is_oom(e: BaseException) -> bool:
    return type(e).__name__ == "OutOfMemoryError" or "out of memory" in str(e).lower()


def run_shard(step: str, cfg: StepConfig, device: str, part: int, work: list[tuple[FormatItem, str]],
              on_item: ProgressFn | None = None) -> int:
    """Process ``work`` (item, hash) with one worker on ``device``; returns the number done."""
    worker = STEPS[step].worker(cfg, device)
    writer = journal.Writer(cfg.exp, step, part)
    done = 0
    try:
        for item, h in work:
            try:
                entry = worker.process(item, h)
            except StepUnavailableError:
                raise
            except Exception as e:  # one bad item never stops the batch, but running out of memory does
                if _is_oom(e):
                    raise
                traceback.print_exc()
                entry = {"key": item.key, "hash": h, "skip": f"failed: {type(e).__name__}: {e}", "retry": True}
            writer.write(entry)
            done += 1
            if on_item is not None:
                on_item(done)
    finally:
        writer.close()
    return done


def _shard_main(step: str, cfg: StepConfig, device: str, part: int, work: list[tuple[FormatItem, str]]) -> int:
    return run_shard(step, cfg, device, part, work)


class WorkerPool:
    """Worker processes kept for a whole run, so torch and the libraries are imported once per
    process rather than once per step. Created on first use; only when more than one device."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._pool: cf.ProcessPoolExecutor | None = None

    def executor(self) -> cf.ProcessPoolExecutor:
        if self._pool is None:
            ctx = multiprocessing.get_context("spawn")  # CUDA cannot be used in forked children
            self._pool = cf.ProcessPoolExecutor(max_workers=self.size, mp_context=ctx)
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def run_parallel(step: str, cfg: StepConfig, devices: list[str], work: list[tuple[FormatItem, str]],
                 on_progress: ProgressFn | None = None, pool: WorkerPool | None = None,
                 poll_s: float = 0.3) -> None:
    """Split ``work`` over ``devices`` (one worker each) and wait; raises the first worker failure."""
    shards = [(part, d, work[part::len(devices)]) for part, d in enumerate(devices)]
    shards = [s for s in shards if s[2]]
    if len(shards) <= 1:
        part, device, w = shards[0] if shards else (0, devices[0], [])
        run_shard(step, cfg, device, part, w, on_progress)
        return
    paths = [journal.state_dir(cfg.exp) / f"{step}.{part:03d}.jsonl" for part, _, _ in shards]
    base = [journal.count_lines(p) for p in paths]

    def report() -> None:
        if on_progress is not None:
            on_progress(sum(journal.count_lines(p) - b for p, b in zip(paths, base)))

    own = pool is None
    pool = pool or WorkerPool(len(shards))
    try:
        futures = [pool.executor().submit(_shard_main, step, cfg, d, part, w) for part, d, w in shards]
        pending: set[Any] = set(futures)
        while pending:
            finished, pending = cf.wait(pending, timeout=poll_s, return_when=cf.FIRST_EXCEPTION)
            report()
            for f in finished:
                if f.exception() is not None:
                    raise f.exception()  # type: ignore[misc]
        report()
    finally:
        if own:
            pool.close()
