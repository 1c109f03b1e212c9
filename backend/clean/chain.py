"""The cleaning chain over one recording, a chunk at a time.

A recording of any length is read as a stream, resampled to the models' rate (44.1 kHz for every
model we ship) and cut into chunks of ``chunk_seconds`` that overlap by ``overlap_seconds``. Each
chunk goes through every chosen step in order (separate → dereverb → denoise); consecutive chunk
outputs are cross-faded over the overlap, so the seams do not click, and appended to the output.
Memory therefore depends on the chunk length, not the recording's: an hour costs what a minute
does. The output is written beside its final name and renamed into place only when whole, so a
killed run never leaves a half-cleaned file that a later run would take as done.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from ..errors import GsvError
from .loudness import rms_db

CHANNELS = 2  # the separation networks are stereo; mono input is duplicated


class CleanInputError(GsvError):
    """A recording that cannot be decoded."""


class StepLike(Protocol):
    def process(self, wav_in: Path) -> np.ndarray: ...


@dataclass(frozen=True)
class Chunking:
    """How a recording is cut for the networks (they see each chunk on its own)."""

    chunk_seconds: float = 60.0  # longer: fewer seams, more memory (about 50 MB per minute per step)
    overlap_seconds: float = 1.0  # cross-fade length at each seam

    def frames(self, rate: int) -> tuple[int, int]:
        c, o = round(self.chunk_seconds * rate), round(self.overlap_seconds * rate)
        if c <= 2 * o or o < 0:
            raise GsvError(f"chunk ({self.chunk_seconds:g} s) must be longer than twice the overlap "
                           f"({self.overlap_seconds:g} s)", "raise --chunk-seconds or lower --overlap-seconds")
        return c, o


@dataclass
class FileOutcome:
    seconds: float
    chunks: int
    rms_db_before: float
    rms_db_after: float


def _to_stereo(block: np.ndarray) -> np.ndarray:
    if block.shape[1] == 1:
        return np.repeat(block, 2, axis=1)
    if block.shape[1] > 2:
        return block[:, :2]
    return block


def _decoded_blocks(path: Path, rate: int, start_s: float, max_s: float | None,
                    block_frames: int = 1 << 16) -> tuple[Iterator[np.ndarray], int]:
    """Stereo float32 blocks at ``rate`` and the expected total frame count. soundfile reads what
    libsndfile knows (wav, flac, ogg, mp3…); anything else (m4a, video) is decoded with PyAV."""
    import soundfile as sf
    import soxr

    try:
        f = sf.SoundFile(str(path))
    except Exception:  # noqa: BLE001 - libsndfile does not know it: try the general decoder
        return _pyav_blocks(path, rate, start_s, max_s)
    sr = f.samplerate
    start = int(start_s * sr)
    if start:
        f.seek(min(start, f.frames))
    left = f.frames - min(start, f.frames)
    if max_s is not None:
        left = min(left, int(max_s * sr))
    total = math.ceil(left * rate / sr)

    def gen() -> Iterator[np.ndarray]:
        nonlocal left
        rs = soxr.ResampleStream(sr, rate, CHANNELS, dtype="float32") if sr != rate else None
        with f:
            while left > 0:
                try:
                    block = f.read(min(block_frames, left), dtype="float32", always_2d=True)
                except Exception as e:
                    raise CleanInputError(f"{path.name}: cannot be decoded past {f.tell() / sr:.1f} s: {e}",
                                          "re-export the recording (e.g. to WAV or FLAC) and clean it again") from e
                if not len(block):
                    break
                left -= len(block)
                block = _to_stereo(block)
                yield rs.resample_chunk(block, last=left <= 0) if rs is not None else block
            if rs is not None and left > 0:
                yield rs.resample_chunk(np.zeros((0, CHANNELS), np.float32), last=True)

    return gen(), total


def _pyav_blocks(path: Path, rate: int, start_s: float, max_s: float | None) -> tuple[Iterator[np.ndarray], int]:
    import av

    try:
        container = av.open(str(path))
        stream = container.streams.audio[0]
    except Exception as e:
        raise CleanInputError(f"{path.name} is not an audio file we can read: {e}",
                              "check the file (or convert it to WAV/FLAC) and clean it again") from e
    duration = float(stream.duration * stream.time_base) if stream.duration and stream.time_base else (
        container.duration / 1e6 if container.duration else 0.0)
    length = max(0.0, duration - start_s) if max_s is None else min(max_s, max(0.0, duration - start_s))
    total = int(length * rate)
    limit = int(max_s * rate) if max_s is not None else None
    skip = int(start_s * rate)

    def gen() -> Iterator[np.ndarray]:
        resampler = av.AudioResampler(format="flt", layout="stereo", rate=rate)
        sent, skipped = 0, 0
        try:
            with container:
                for frame in container.decode(stream):
                    for out in resampler.resample(frame):
                        block = out.to_ndarray().reshape(-1, CHANNELS)
                        if skipped < skip:
                            cut = min(skip - skipped, len(block))
                            skipped += cut
                            block = block[cut:]
                        if limit is not None:
                            block = block[: max(0, limit - sent)]
                        if len(block):
                            sent += len(block)
                            yield block.astype(np.float32, copy=False)
                        if limit is not None and sent >= limit:
                            return
        except av.error.FFmpegError as e:
            raise CleanInputError(f"{path.name}: cannot be decoded: {e}",
                                  "re-export the recording (e.g. to WAV or FLAC) and clean it again") from e

    return gen(), total


def _chunks(blocks: Iterator[np.ndarray], size: int, overlap: int) -> Iterator[np.ndarray]:
    """Chunks of ``size`` frames, each starting ``size - overlap`` after the previous one."""
    buf = np.zeros((0, CHANNELS), np.float32)
    emitted = False
    for b in blocks:
        buf = np.concatenate([buf, b]) if len(buf) else b
        while len(buf) >= size:
            yield buf[:size]
            emitted = True
            buf = buf[size - overlap:]
    if len(buf) > (overlap if emitted else 0):
        yield buf


def count_chunks(total: int, size: int, overlap: int) -> int:
    if total <= size:
        return 1
    return 1 + math.ceil((total - size) / (size - overlap))


def clean_file(src: Path, dst: Path, steps: list[StepLike], work_dir: Path, rate: int = 44100,
               chunking: Chunking = Chunking(), start_s: float = 0.0, max_s: float | None = None,
               on_chunk: Callable[[int, int], None] | None = None) -> FileOutcome:
    """Run ``steps`` over ``src`` (from ``start_s``, at most ``max_s`` seconds) into ``dst``
    (16-bit WAV at ``rate``, stereo). ``on_chunk(done, total)`` after each chunk."""
    import soundfile as sf

    size, overlap = chunking.frames(rate)
    blocks, total = _decoded_blocks(src, rate, start_s, max_s)
    n_chunks = count_chunks(total, size, overlap)
    work_dir.mkdir(parents=True, exist_ok=True)
    chunk_wav = work_dir / "chunk.wav"
    partial = dst.with_name(f".{dst.name}.partial")
    fade_in = np.linspace(0.0, 1.0, overlap, dtype=np.float32)[:, None]
    tail: np.ndarray | None = None
    in_sq = out_sq = 0.0
    in_n = out_n = written = done = 0
    try:
        with sf.SoundFile(str(partial), "w", samplerate=rate, channels=CHANNELS, subtype="PCM_16",
                          format="WAV") as out:
            def write(y: np.ndarray) -> None:
                nonlocal out_sq, out_n, written
                out.write(np.clip(y, -1.0, 1.0))
                out_sq += float(np.square(y, dtype=np.float64).sum())
                out_n += y.size
                written += len(y)

            chunks = _chunks(blocks, size, overlap)
            chunk = next(chunks, None)
            while chunk is not None:
                following = next(chunks, None)  # looked ahead: the estimate of the count may be off
                fresh = chunk if tail is None else chunk[overlap:]
                in_sq += float(np.square(fresh, dtype=np.float64).sum())
                in_n += fresh.size
                y = chunk
                for step in steps:
                    sf.write(str(chunk_wav), y, rate, subtype="FLOAT")
                    y = _fit(step.process(chunk_wav), len(chunk))
                if tail is not None:
                    n = min(overlap, len(y), len(tail))
                    y = y.copy()
                    y[:n] = tail[:n] * (1 - fade_in[:n]) + y[:n] * fade_in[:n]
                done += 1
                if following is None or len(y) <= overlap:
                    write(y)
                    tail = None
                else:
                    write(y[:-overlap])
                    tail = y[-overlap:]
                if on_chunk is not None:
                    on_chunk(done, max(n_chunks, done + (following is not None)))
                chunk = following
            if tail is not None:
                write(tail)
        with open(partial, "rb+") as fh:
            os.fsync(fh.fileno())
        if written == 0:
            raise CleanInputError(f"{src.name} holds no audio" + (f" after {start_s:g} s" if start_s else ""),
                                  "check the recording (or the excerpt's start)")
        os.replace(partial, dst)
    finally:
        partial.unlink(missing_ok=True)
        chunk_wav.unlink(missing_ok=True)
    return FileOutcome(seconds=written / rate, chunks=done, rms_db_before=rms_db(in_sq, in_n),
                       rms_db_after=rms_db(out_sq, out_n))


def _fit(y: np.ndarray, n: int) -> np.ndarray:
    """A step's output cut or padded to the chunk's length (networks may round to their hop)."""
    y = _to_stereo(np.asarray(y, dtype=np.float32))
    if len(y) >= n:
        return y[:n]
    return np.concatenate([y, np.zeros((n - len(y), CHANNELS), np.float32)])
