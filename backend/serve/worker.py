"""One model worker: a thread that owns the loaded voices and runs requests one at a time.

Why one thread: the models are not safe to share between concurrent synthesises, and on one
GPU parallel requests only slow each other down. Requests wait in a bounded queue; when it is
full a new request is refused at once (the server answers 503 with ``Retry-After``) instead of
piling up. Each request names the weights it was accepted with, so a weights switch that arrives
meanwhile never changes the voice of a request already in flight. A request that fails hands
its error to its caller only; the worker goes on with the next one.

Loaded voices are kept least-recently-used first out, at most ``max_voices`` at a time, which
bounds the memory several projects' voices can take.
"""

from __future__ import annotations

import queue
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ..errors import GsvError
from .voice import SpeakRequest, Spoken, Voice, VoiceFiles

_END = object()


class ServerBusy(GsvError):
    """Every place in the request queue is taken."""


@dataclass
class _Task:
    files: VoiceFiles
    request: SpeakRequest | None  # None: only load the voice
    out: queue.Queue[Any] = field(default_factory=queue.Queue)


class Stream:
    """What a request gets back: the sample rate, then audio chunks as the worker makes them."""

    def __init__(self, task: _Task) -> None:
        self._q = task.out
        self.sample_rate = 0
        self.version = ""
        self.seed: int | None = None
        self.spoken: Spoken | None = None  # set once the request is finished
        self._first: list[np.ndarray] = []
        self._done = False
        head = self._next()  # ("voice", rate, version) once the voice is loaded, or an error
        if head is not _END:
            _, self.sample_rate, self.version = head

    def _next(self) -> Any:
        item = self._q.get()
        if isinstance(item, BaseException):
            self._done = True
            raise item
        if item is _END:
            self._done = True
        elif isinstance(item, Spoken):
            self.spoken, self.seed = item, item.seed
            return self._next()
        return item

    def first_audio(self) -> None:
        """Wait for the first audio chunk (errors before any audio surface here, as a 400 can)."""
        if not self._done and not self._first:
            item = self._next()
            if item is not _END:
                self._first.append(item)

    def __iter__(self) -> Iterator[np.ndarray]:
        while self._first:
            yield self._first.pop(0)
        while not self._done:
            item = self._next()
            if item is not _END:
                yield item

    def collect(self) -> np.ndarray:
        parts = list(self)
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)


class ModelWorker:
    """The thread that loads voices and runs :class:`SpeakRequest` s in arrival order."""

    def __init__(self, max_waiting: int = 8, max_voices: int = 2,
                 load: Callable[[VoiceFiles], Voice] = Voice) -> None:
        self._tasks: queue.Queue[_Task | None] = queue.Queue(maxsize=max_waiting)
        self._voices: OrderedDict[VoiceFiles, Voice] = OrderedDict()
        self._max_voices = max(1, max_voices)
        self._load = load
        self.activity: dict[str, Any] = {"requests": 0, "chunks": 0, "finished": True}
        """The request being synthesised: its number, audio chunks handed over so far, whether done."""
        self._thread = threading.Thread(target=self._loop, name="gsv-serve-model", daemon=True)
        self._thread.start()

    def submit(self, files: VoiceFiles, request: SpeakRequest | None) -> Stream:
        """Queue a request (blocks until its voice is loaded); raises :class:`ServerBusy` if full."""
        task = _Task(files, request)
        try:
            self._tasks.put_nowait(task)
        except queue.Full:
            raise ServerBusy("the server is busy: every place in its request queue is taken",
                             "retry after a few seconds") from None
        return Stream(task)

    def load(self, files: VoiceFiles) -> Stream:
        """Load ``files`` (waiting in line like a request); raises the loading error, if any."""
        return self.submit(files, None)

    def stop(self) -> None:
        try:
            self._tasks.put_nowait(None)
        except queue.Full:
            pass

    @property
    def pending(self) -> int:
        """Requests waiting here plus the one being synthesised (how a pool picks the least busy)."""
        return self._tasks.qsize() + (0 if self.activity.get("finished", True) else 1)

    def _voice(self, files: VoiceFiles) -> Voice:
        voice = self._voices.get(files)
        if voice is None:
            while len(self._voices) >= self._max_voices:
                self._voices.popitem(last=False)
            voice = self._load(files)
            self._voices[files] = voice
        self._voices.move_to_end(files)
        return voice

    def _loop(self) -> None:
        while True:
            task = self._tasks.get()
            if task is None:
                return
            try:
                voice = self._voice(task.files)
                task.out.put(("voice", voice.sample_rate, voice.version))
                if task.request is not None:
                    self.activity = {"requests": self.activity["requests"] + 1, "chunks": 0, "finished": False}
                    task.out.put(voice.speak(task.request, self._sink(task)))
                task.out.put(_END)
            except Exception as e:  # noqa: BLE001 - one failed request never stops the worker
                task.out.put(e)
            finally:
                self.activity = {**self.activity, "finished": True}

    def _sink(self, task: _Task) -> Callable[[np.ndarray], None]:
        def put(chunk: np.ndarray) -> None:
            self.activity = {**self.activity, "chunks": self.activity["chunks"] + 1}
            task.out.put(chunk)

        return put


class WorkerPool:
    """One :class:`ModelWorker` per device (one per leased GPU) behind one server.

    Each worker loads its own copy of a voice on its device; a request goes to the worker with
    the fewest requests in hand, so several GPUs serve several clients at once. The pool is
    full — 503 — only when every worker's queue is. A weights switch (:meth:`load`) loads the new
    voice on every worker before it is answered, so no worker speaks with the old voice after the
    switch was accepted while another already has the new one.
    """

    def __init__(self, devices: list[str], max_waiting: int = 8, max_voices: int = 2,
                 load: Callable[[VoiceFiles], Voice] = Voice) -> None:
        self.devices = list(devices) or ["auto"]
        self.workers = [ModelWorker(max_waiting=max_waiting, max_voices=max_voices, load=load)
                        for _ in self.devices]

    def _on(self, files: VoiceFiles, device: str) -> VoiceFiles:
        return files if len(self.devices) == 1 else replace(files, device=device)

    def submit(self, files: VoiceFiles, request: SpeakRequest | None) -> Stream:
        """Queue on the least busy worker; :class:`ServerBusy` only when all are full."""
        order = sorted(range(len(self.workers)), key=lambda i: self.workers[i].pending)
        for i in order:
            try:
                return self.workers[i].submit(self._on(files, self.devices[i]), request)
            except ServerBusy:
                continue
        raise ServerBusy("the server is busy: every place in its request queues is taken",
                         "retry after a few seconds")

    def load(self, files: VoiceFiles) -> Stream:
        """Load ``files`` on every worker; the first failure is raised (the voice stays unchanged
        for requests accepted before). Returns the first worker's stream (its rate and version)."""
        streams = [w.load(self._on(files, d)) for w, d in zip(self.workers, self.devices)]
        return streams[0]

    def stop(self) -> None:
        for w in self.workers:
            w.stop()

    @property
    def activity(self) -> dict[str, Any]:
        """One worker's fields (``requests``, ``chunks``, ``finished``) summed over the workers, and
        each worker's own, with its device."""
        each = [{**w.activity, "device": d} for w, d in zip(self.workers, self.devices)]
        return {"requests": sum(int(a["requests"]) for a in each), "chunks": sum(int(a["chunks"]) for a in each),
                "finished": all(a["finished"] for a in each), "workers": each}


def worker_devices(device: str, leased_gpus: list[str]) -> list[str]:
    """The device of each model worker: one per leased GPU when the device is left to the job
    (``auto``/``cuda``) and more than one is leased (inside the job they are ``cuda:0..N-1``);
    else the one device asked for."""
    if device in ("auto", "cuda") and len(leased_gpus) > 1:
        return [f"cuda:{i}" for i in range(len(leased_gpus))]
    return [device]
