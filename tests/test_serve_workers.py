"""Several GPUs behind one port: one model worker per leased GPU, requests to the least busy,
503 only when every queue is full, a weights switch loaded on every worker.

The voices here are stand-ins that record which device they were loaded on: this machine has
no GPUs, and what is under test is the dispatch between workers, not synthesis (the real voice
on one worker is exercised by test_serve.py and test_serve_job.py)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from backend.serve.voice import SpeakRequest, Spoken, VoiceFiles
from backend.serve.worker import ServerBusy, WorkerPool, worker_devices

FILES = VoiceFiles(gpt=Path("g.ckpt"), sovits=Path("s.pth"))


@dataclass
class StandInVoice:
    """Loaded on ``files.device``; each request waits for ``gate`` and records its device."""

    files: VoiceFiles
    log: list[tuple[str, str]]
    gate: threading.Event
    started: list[str] = field(default_factory=list)
    sample_rate: int = 32000
    version: str = "v2"

    def speak(self, req: SpeakRequest, on_audio: object) -> Spoken:
        self.log.append(("speak", self.files.device))
        if not self.gate.wait(30):
            raise TimeoutError("the test never opened the gate")
        on_audio(np.zeros(10, dtype=np.float32))  # type: ignore[operator]
        return Spoken(1)


def _pool(gate: threading.Event, log: list[tuple[str, str]], max_waiting: int = 1,
          fail_on: str | None = None) -> WorkerPool:
    def load(files: VoiceFiles) -> StandInVoice:
        log.append(("load", files.device))
        if files.device == fail_on:
            raise RuntimeError(f"out of memory on {files.device}")
        return StandInVoice(files, log, gate)

    return WorkerPool(["cuda:0", "cuda:1"], max_waiting=max_waiting, load=load)  # type: ignore[arg-type]


def _wait(cond: object, what: str) -> None:
    deadline = time.monotonic() + 10
    while not cond():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def test_one_worker_per_leased_gpu() -> None:
    assert worker_devices("auto", ["3", "5"]) == ["cuda:0", "cuda:1"]  # as CUDA_VISIBLE_DEVICES numbers them
    assert worker_devices("cuda", ["0", "1", "2"]) == ["cuda:0", "cuda:1", "cuda:2"]
    assert worker_devices("auto", ["0"]) == ["auto"] and worker_devices("auto", []) == ["auto"]
    assert worker_devices("cuda:1", ["0", "1"]) == ["cuda:1"]  # a device asked for by name: one worker
    assert worker_devices("cpu", ["0", "1"]) == ["cpu"]


def test_a_switch_loads_on_every_worker_and_requests_spread() -> None:
    gate, log = threading.Event(), list[tuple[str, str]]()
    pool = _pool(gate, log)
    try:
        loaded = pool.load(FILES)
        assert (loaded.sample_rate, loaded.version) == (32000, "v2")
        assert sorted(log) == [("load", "cuda:0"), ("load", "cuda:1")]
        results: list[np.ndarray] = []
        req = SpeakRequest(text="Hello.", lang="en", ref="ref.wav")
        threads = [threading.Thread(target=lambda: results.append(pool.submit(FILES, req).collect()))
                   for _ in range(2)]
        for t in threads:
            t.start()
        _wait(lambda: len([e for e in log if e[0] == "speak"]) == 2, "both requests under way at once")
        assert sorted(e[1] for e in log if e[0] == "speak") == ["cuda:0", "cuda:1"]
        assert pool.activity["requests"] == 2 and not pool.activity["finished"]
        gate.set()
        for t in threads:
            t.join(10)
        assert len(results) == 2 and all(len(r) == 10 for r in results)
    finally:
        gate.set()
        pool.stop()


def test_busy_only_when_every_queue_is_full() -> None:
    gate, log = threading.Event(), list[tuple[str, str]]()
    pool = _pool(gate, log, max_waiting=1)
    req = SpeakRequest(text="Hello.", lang="en", ref="ref.wav")
    threads: list[threading.Thread] = []
    try:
        pool.load(FILES)
        for n in range(4):  # two in progress, one waiting on each worker
            t = threading.Thread(target=lambda: pool.submit(FILES, req).collect(), daemon=True)
            t.start()
            threads.append(t)
            if n < 2:  # under way (its worker has taken it off its queue)
                _wait(lambda n=n: len([e for e in log if e[0] == "speak"]) == n + 1, f"request {n + 1} started")
            else:
                _wait(lambda n=n: sum(w.pending for w in pool.workers) == n + 1, f"request {n + 1} queued")
        assert [w.pending for w in pool.workers] == [2, 2]
        with pytest.raises(ServerBusy):
            pool.submit(FILES, req)
    finally:
        gate.set()
        for t in threads:
            t.join(10)
        pool.stop()


def test_a_load_that_fails_on_one_gpu_is_reported() -> None:
    gate, log = threading.Event(), list[tuple[str, str]]()
    pool = _pool(gate, log, fail_on="cuda:1")
    try:
        with pytest.raises(RuntimeError, match="cuda:1"):
            pool.load(FILES)
    finally:
        pool.stop()
