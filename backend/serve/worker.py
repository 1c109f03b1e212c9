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
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import GsvError
from .voice import SpeakRequest, Voice, VoiceFiles

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
        elif isinstance(item, tuple) and item[0] == "seed":
            self.seed = item[1]
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
                    seed = voice.speak(task.request, self._sink(task))
                    task.out.put(("seed", seed))
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
