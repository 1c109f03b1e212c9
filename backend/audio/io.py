"""Load any audio (or video) file as mono float32 at a chosen rate; save 16-bit PCM wav.

Two decoders, tried in order:

- **soundfile** (libsndfile) for wav/flac/ogg/aiff and friends: fast, exact, and it reads
  8/16/24/32-bit integer and float PCM alike;
- **PyAV** (ffmpeg's libraries, shipped as a wheel — no ffmpeg program needed) for everything
  else: mp3, m4a/aac, opus, webm and the audio track of video containers.

The official tools decode through the ffmpeg program to mono float32 at 32 kHz without rescaling.
By default we return bit-identical samples: channels mixed and rate converted by libswresample
with its default options (PyAV's copy of the libraries the ffmpeg program uses), values as decoded
(a float file or a loud stereo mix may exceed ±1). ``resampler="soxr"`` resamples with soxr
instead (and mixes with ffmpeg's downmix weights). Every way a file can be unusable becomes an :class:`AudioError` naming
the file and the reason, so a batch can skip that file and go on.
"""

from __future__ import annotations

import functools
import io
import os
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..errors import GsvError
from ..fsutil import atomic_write_bytes

TARGET_SR = 32000  # every GPT-SoVITS stage after the slicer works at 32 kHz

# Extensions libsndfile reads natively; anything else goes straight to PyAV.
_SOUNDFILE_EXTS = {".wav", ".wave", ".flac", ".ogg", ".oga", ".aif", ".aiff", ".aifc", ".au", ".snd",
                   ".caf", ".w64", ".rf64"}


class AudioError(GsvError):
    """An input file that cannot be used as audio; the message names the file and why."""

    def __init__(self, path: str | os.PathLike[str], why: str, fix: str | None = None) -> None:
        self.path = Path(path)
        self.why = why
        super().__init__(f"{self.path}: {why}", fix)


@dataclass
class LoadedAudio:
    """Decoded audio plus what a person should know about how it was read."""

    samples: np.ndarray  # mono float32 at ``sample_rate``
    sample_rate: int
    source_rate: int
    source_channels: int
    warnings: list[str] = field(default_factory=list)

    @property
    def duration(self) -> float:
        return len(self.samples) / self.sample_rate


RESAMPLERS = ("ffmpeg", "soxr", "librosa")


def load_audio(path: str | os.PathLike[str], sample_rate: int | None = TARGET_SR, resampler: str = "ffmpeg",
               on_progress: Callable[[float], None] | None = None) -> LoadedAudio:
    """Decode ``path`` to mono float32 at ``sample_rate`` (raises :class:`AudioError`).

    ``sample_rate=None`` keeps the file's own rate, with the channels' mean (what torchaudio's
    load followed by ``mean(0)`` gives; the official reads its reference spectrogram's clip so).

    ``resampler="ffmpeg"`` (default) mixes and resamples with libswresample and its default
    options — what the official loader's ``ffmpeg -ac 1 -ar 32000 -f f32le`` does — so the slicer
    sees the same samples and cuts in the same places as the official tool at any input rate
    (with soxr, 18 of 30 test files at 48 kHz had a cut moved by a few frames, which renames the
    clip). ``"soxr"`` uses ffmpeg's downmix weights and soxr's high-quality resampler instead.
    ``"librosa"`` gives what ``librosa.load(path, sr=sample_rate)`` gives (official inference loads
    its reference so): the channels' mean, soxr HQ, the length fixed to ``ceil(n·sample_rate/rate)``.

    ``on_progress(fraction)`` is called now and then while decoding (a long file takes a while).
    """
    if resampler not in RESAMPLERS:
        raise ValueError(f"resampler must be one of {RESAMPLERS}, not {resampler!r}")
    if sample_rate is None:
        resampler = "librosa"  # the plain channel mean; soxr only for parts at a changed rate
    path = Path(path)
    _check_file(path)
    warnings: list[str] = []
    sf_error = ""
    mix: _Mixer | None = None
    if path.suffix.lower() in _SOUNDFILE_EXTS:
        mix = _Mixer(sample_rate, resampler)
        try:
            rate, channels = _read_soundfile(path, warnings, mix, on_progress)
        except _NotForThisDecoder as e:
            sf_error, mix = str(e), None
    if mix is None:
        mix = _Mixer(sample_rate, resampler)
        try:
            rate, channels = _read_pyav(path, warnings, mix, on_progress)
        except _NotForThisDecoder as e:
            raise _explain_failure(path, sf_error, str(e)) from None
    if mix.source_frames == 0:
        raise AudioError(path, "holds no audio samples (0 s)", "remove it from the inputs")
    mono = mix.finish()
    if mix.rate_changes:
        warnings.append(f"the sample rate changes {mix.rate_changes} time(s) inside the file; each part was converted")
    if not np.all(np.isfinite(mono)):
        bad = int(np.count_nonzero(~np.isfinite(mono)))
        warnings.append(f"{bad} samples were NaN or infinite and were set to 0")
        mono = np.nan_to_num(mono, nan=0.0, posinf=0.0, neginf=0.0)
    return LoadedAudio(mono, mix.target_rate or rate, rate, channels, warnings)


class _Mixer:
    """Collects decoded blocks and turns them into mono float32 at the target rate."""

    def __init__(self, target_rate: int | None, resampler: str) -> None:
        self.target_rate = target_rate  # None: the first rate seen
        self.resampler = resampler
        self.source_frames = 0
        self.rate = 0
        self._pieces: list[np.ndarray] = []
        self._swr: Any = None  # av.AudioResampler, made on first use
        self._held: list[np.ndarray] = []  # decoded frames not yet mixed
        self._held_n = 0
        self._held_layout = ""
        self._held_rate = 0
        self._done: list[np.ndarray] = []  # converted parts, when the rate changed mid-stream
        self.rate_changes = 0

    def _check_rate(self, rate: int) -> None:
        if self.target_rate is None:
            self.target_rate = rate
        if self.rate and rate != self.rate:  # a stream that changes rate: convert each part on its own
            self._done.append(self._convert_pending())
            self.rate_changes += 1
        self.rate = rate

    def _convert_pending(self) -> np.ndarray:
        """Everything fed so far (at ``self.rate``) as mono float32 at the target rate."""
        if self._swr is not None:
            for out in self._swr.resample(None):
                self._pieces.append(out.to_ndarray().reshape(-1).copy())
            self._swr = None
        mono = np.concatenate(self._pieces) if self._pieces else np.zeros(0, np.float32)
        self._pieces = []
        mono = np.ascontiguousarray(mono, dtype=np.float32)
        target = self.target_rate or self.rate
        if self.resampler == "soxr":
            mono = resample(mono, self.rate, target)
        elif self.resampler == "librosa" and self.rate != target:
            mono = _fix_length(resample(mono, self.rate, target), int(np.ceil(len(mono) * (float(target) / self.rate))))
        return mono

    def _passthrough(self, channels: int) -> bool:
        return channels == 1 and self.rate == self.target_rate

    def add_block(self, block: np.ndarray, rate: int, layout: str | None = None, _counted: bool = False) -> None:
        """``block``: float32 (samples, channels)."""
        self._check_rate(rate)
        n, channels = block.shape
        if not _counted:
            self.source_frames += n
        if self.resampler == "librosa":  # librosa.to_mono: the plain mean of the channels
            self._pieces.append(block.mean(axis=1, dtype=np.float32) if channels > 1 else block[:, 0].copy())
            return
        if self._passthrough(channels) or self.resampler == "soxr":
            self._pieces.append(_to_mono(block, layout))
            return
        import av

        lay = layout or f"{channels}c"
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(block, dtype=np.float32).reshape(1, -1),
                                           format="flt", layout=lay)
        frame.sample_rate = rate
        self._swr_feed(frame)

    def add_frame(self, frame) -> None:  # noqa: ANN001 - av.AudioFrame, straight from the decoder
        """A decoded frame. Frames are gathered into large blocks first: libswresample's output
        does not depend on how its input is cut, and a call per 1152-sample mp3 frame costs more
        than the resampling itself."""
        layout = frame.layout.name
        if self._held and (layout != self._held_layout or frame.sample_rate != self._held_rate):
            self._flush_held()
        self._held.append(_frame_to_float(frame))
        self._held_layout, self._held_rate = layout, frame.sample_rate
        self._held_n += frame.samples
        self.source_frames += frame.samples
        if self._held_n >= 1 << 16:
            self._flush_held()

    def _flush_held(self) -> None:
        if self._held:
            block = np.concatenate(self._held) if len(self._held) > 1 else self._held[0]
            self._held, self._held_n = [], 0
            self.add_block(block, self._held_rate, self._held_layout, _counted=True)

    def _swr_feed(self, frame) -> None:  # noqa: ANN001
        if self._swr is None:
            import av

            self._swr = av.AudioResampler(format="flt", layout="mono", rate=self.target_rate)
        for out in self._swr.resample(frame):
            self._pieces.append(out.to_ndarray().reshape(-1).copy())

    def finish(self) -> np.ndarray:
        self._flush_held()
        parts = [*self._done, self._convert_pending()]
        self._done = []
        return parts[0] if len(parts) == 1 else np.concatenate(parts)


def _explain_failure(path: Path, sf_error: str, av_error: str) -> AudioError:
    """The most useful single reason why neither decoder could read ``path``."""
    with open(path, "rb") as f:
        head = f.read(12)
    if head[:4] in (b"RIFF", b"RF64") and head[8:12] == b"WAVE" or head[:4] == b"fLaC":
        kind = "wav" if head[:4] != b"fLaC" else "flac"
        return AudioError(path, f"truncated or damaged {kind} file ({sf_error or av_error})",
                          "copy the file again from its source, or re-export it")
    if "no audio track" in av_error or "no decodable samples" in av_error:
        return AudioError(path, av_error, "extract the audio track, or pick another file")
    return AudioError(path, "not audio: neither libsndfile nor ffmpeg recognises its contents",
                      "check that the file plays in a media player; convert it to wav or flac if it does")


def resample(samples: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """Resample mono float32 with soxr (high quality); a no-op when the rates match."""
    if from_rate == to_rate:
        return samples
    import soxr

    return np.ascontiguousarray(soxr.resample(samples, from_rate, to_rate, quality="HQ"), dtype=np.float32)


def _fix_length(samples: np.ndarray, n: int) -> np.ndarray:
    """Cut to ``n`` samples or pad with zeros (librosa's ``fix_length``)."""
    if len(samples) >= n:
        return samples[:n]
    return np.concatenate([samples, np.zeros(n - len(samples), dtype=samples.dtype)])


def wav_header(sample_rate: int, data_bytes: int | None = None) -> bytes:
    """A canonical 44-byte PCM 16-bit mono WAV header; ``data_bytes`` None = unknown length (a
    stream: both sizes 0xFFFFFFFF, as streaming servers send it)."""
    size = 0xFFFFFFFF if data_bytes is None else data_bytes
    riff = 0xFFFFFFFF if data_bytes is None else 36 + data_bytes
    return (b"RIFF" + struct.pack("<I", riff) + b"WAVE" + b"fmt " +
            struct.pack("<IHHIIHH", 16, 1, 1, sample_rate, sample_rate * 2, 2, 16) +
            b"data" + struct.pack("<I", size))


def wav_bytes_int16(samples: np.ndarray, sample_rate: int) -> bytes:
    """A canonical 44-byte-header PCM wav holding int16 ``samples`` (mono)."""
    pcm = np.ascontiguousarray(samples, dtype="<i2").tobytes()
    return wav_header(sample_rate, len(pcm)) + pcm


def save_wav_int16(path: str | os.PathLike[str], samples: np.ndarray, sample_rate: int = TARGET_SR,
                   durable: bool = True) -> None:
    """Write a mono 16-bit PCM wav atomically (int16 input is written as is; float is clipped and scaled).

    ``durable=False`` skips the per-file fsync (the file still appears whole or not at all);
    for many small files written in a row, call :func:`sync_folder` once afterwards instead —
    one fsync per clip costs more than slicing it.
    """
    arr = np.asarray(samples)
    if arr.dtype != np.int16:
        arr = (np.clip(arr, -1.0, 1.0) * 32767).astype(np.int16)
    data = wav_bytes_int16(arr, sample_rate)
    if durable:
        atomic_write_bytes(path, data)
        return
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def sync_folder(folder: str | os.PathLike[str]) -> None:
    """Flush the file system holding ``folder`` to disk once (Linux ``syncfs``; else ``os.sync``)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        fd = os.open(folder, os.O_RDONLY)
        try:
            if libc.syncfs(fd) == 0:
                return
        finally:
            os.close(fd)
    except (OSError, AttributeError):
        pass
    if hasattr(os, "sync"):
        os.sync()


# --- internals ----------------------------------------------------------------------------

class _NotForThisDecoder(Exception):
    """This decoder cannot read the file; the message says why."""


def _check_file(path: Path) -> None:
    if not path.exists():
        raise AudioError(path, "does not exist", "check the path (quote it if it has spaces)")
    if path.is_dir():
        raise AudioError(path, "is a folder, not an audio file")
    if not path.is_file():  # a pipe or a device would block or never end
        raise AudioError(path, "is not a regular file (a pipe, socket or device)", "copy the audio to a file first")
    try:
        size = path.stat().st_size
        with open(path, "rb"):
            pass
    except OSError as e:
        raise AudioError(path, f"cannot be opened ({e.strerror or e})", "check the file's permissions") from None
    if size == 0:
        raise AudioError(path, "is empty (0 bytes)", "remove it, or copy it again from its source")


@functools.lru_cache(maxsize=32)
def downmix_weights(layout: str) -> tuple[float, ...]:
    """Per-channel weights of ffmpeg's default downmix of ``layout`` to mono.

    The official loader runs ``ffmpeg -ac 1`` to float, and libswresample does not normalise a
    float downmix: stereo becomes 0.7071·(L+R), 5.1 becomes 0.7071·(FL+FR) + FC + 0.5·(BL+BR)
    (LFE dropped). The slicer's threshold is absolute, so to cut where the official cuts we mix
    the same way. The weights are read off libswresample itself (PyAV's copy of it) by
    downmixing one impulse per channel. ``layout`` is an ffmpeg layout name, or ``"<n>c"`` for
    ffmpeg's default layout of n channels (what it assumes for a wav without a channel mask).
    """
    import av

    try:
        lay = av.AudioLayout(layout)
        n = len(lay.channels)
        if n == 1:
            return (1.0,)
        impulses = np.eye(n, dtype=np.float32)  # sample k: 1.0 on channel k only
        frame = av.AudioFrame.from_ndarray(impulses.reshape(1, -1), format="flt", layout=lay)
        frame.sample_rate = 48000
        rs = av.AudioResampler(format="flt", layout="mono", rate=48000)
        out = [o.to_ndarray().reshape(-1) for o in rs.resample(frame)]
        out += [o.to_ndarray().reshape(-1) for o in rs.resample(None)]
        weights = np.concatenate(out)[:n]
        if len(weights) == n and np.all(np.isfinite(weights)) and weights.any():
            return tuple(float(w) for w in weights)
    except (ValueError, TypeError, IndexError, av.error.FFmpegError):
        pass
    n = int(layout[:-1]) if layout.endswith("c") and layout[:-1].isdigit() else 1
    return (1.0 / n,) * n  # a layout ffmpeg cannot mix: plain average


def _to_mono(block: np.ndarray, layout: str | None = None) -> np.ndarray:
    """(samples, channels) -> (samples,) float32 mixed like ``ffmpeg -ac 1`` (see downmix_weights)."""
    n_ch = block.shape[1]
    if n_ch == 1:
        return np.array(block[:, 0], dtype=np.float32)
    weights = downmix_weights(layout or f"{n_ch}c")
    if len(weights) != n_ch:
        weights = downmix_weights(f"{n_ch}c")
    out = block[:, 0] * np.float32(weights[0])  # column by column: faster than a matrix product here
    for k in range(1, n_ch):
        if weights[k]:
            out += block[:, k] * np.float32(weights[k])
    return out.astype(np.float32, copy=False)


def _read_soundfile(path: Path, warnings: list[str], mix: _Mixer,
                    on_progress: Callable[[float], None] | None = None) -> tuple[int, int]:
    import soundfile as sf

    declared = _riff_declared_data_bytes(path)
    try:
        with sf.SoundFile(path) as f:
            rate, channels = f.samplerate, f.channels
            # Block by block: a long multichannel file never sits in memory whole.
            total = f.frames if f.frames > 0 else 0
            for block in f.blocks(blocksize=1 << 18, dtype="float32", always_2d=True):
                mix.add_block(block, rate)
                if on_progress is not None and total:
                    on_progress(min(1.0, mix.source_frames / total))
    except (sf.LibsndfileError, RuntimeError, ValueError) as e:
        if declared is not None:  # a RIFF header we could read: the damage is in the body
            raise _NotForThisDecoder(f"wav header present but the data cannot be read: {e}") from None
        raise _NotForThisDecoder(str(e)) from None
    got = mix.source_frames
    if declared is not None:
        block_align = _riff_block_align(path)
        if block_align and declared > 0:
            expected_frames = declared // block_align
            if expected_frames > got and got > 0:
                warnings.append(f"truncated: the header promises {expected_frames / rate:.2f} s, "
                                f"the file holds {got / rate:.2f} s; using what is there")
            elif got == 0 and expected_frames > 0:
                raise _NotForThisDecoder(f"truncated: the header promises {expected_frames / rate:.2f} s "
                                         "but no samples follow it")
    return rate, channels


def _riff_chunks(path: Path) -> dict[bytes, tuple[int, int]] | None:
    """Chunk id -> (offset of its payload, declared size) for a RIFF/WAVE file, else None."""
    try:
        with open(path, "rb") as f:
            head = f.read(12)
            if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
                return None
            chunks: dict[bytes, tuple[int, int]] = {}
            for _ in range(64):
                hdr = f.read(8)
                if len(hdr) < 8:
                    break
                cid, size = hdr[:4], struct.unpack("<I", hdr[4:])[0]
                chunks.setdefault(cid, (f.tell(), size))
                if cid == b"data":
                    break
                f.seek(size + (size & 1), io.SEEK_CUR)
            return chunks
    except OSError:
        return None


def _riff_declared_data_bytes(path: Path) -> int | None:
    chunks = _riff_chunks(path)
    if not chunks or b"data" not in chunks:
        return None
    size = chunks[b"data"][1]
    return None if size in (0, 0xFFFFFFFF) else size  # 0/-1: streaming writers that never patched it


def _riff_block_align(path: Path) -> int:
    chunks = _riff_chunks(path)
    if not chunks or b"fmt " not in chunks:
        return 0
    off, size = chunks[b"fmt "]
    if size < 16:
        return 0
    with open(path, "rb") as f:
        f.seek(off)
        fmt = f.read(16)
    return struct.unpack("<HHIIHH", fmt)[4] if len(fmt) == 16 else 0


# How far short of the container's stated duration the decoded audio may fall before we call the
# file truncated: encoder delay/padding and duration estimates differ by far less than this.
TRUNCATION_SLACK_S = 0.5
TRUNCATION_SLACK_SHARE = 0.02


def _read_pyav(path: Path, warnings: list[str], mix: _Mixer,
               on_progress: Callable[[float], None] | None = None) -> tuple[int, int]:
    import av

    try:
        container = av.open(str(path), metadata_errors="ignore")
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as e:
        raise _NotForThisDecoder(f"ffmpeg cannot open it: {e}") from None
    with container:
        streams = container.streams.audio
        if not streams:
            raise _NotForThisDecoder("the file has no audio track")
        stream = streams[0]
        rate = stream.codec_context.sample_rate or stream.rate
        if not rate:
            raise _NotForThisDecoder("the audio track has no sample rate")
        channels = 0
        duration = container.duration / 1_000_000 if container.duration else 0.0  # microseconds
        step = max(1.0, duration / 100)  # report about a hundred times per file
        next_report = step
        bad_packets, first_error = 0, ""
        # Packet by packet, like the ffmpeg program: a damaged packet is skipped, not the rest.
        packets = container.demux(stream)
        while True:
            try:
                packet = next(packets)
            except StopIteration:
                break
            except av.error.FFmpegError as e:  # the container itself is cut or damaged here
                if mix.source_frames:
                    warnings.append(f"reading stopped at {mix.source_frames / (mix.rate or rate):.2f} s ({e}); "
                                    "the file is probably truncated")
                    break
                raise _NotForThisDecoder(f"ffmpeg cannot read it: {e}") from None
            try:
                frames = packet.decode()
            except av.error.FFmpegError as e:
                bad_packets += 1
                first_error = first_error or str(e)
                continue
            for frame in frames:
                channels = max(channels, len(frame.layout.channels))
                mix.add_frame(frame)
            if on_progress is not None and duration:
                done = mix.source_frames / (mix.rate or rate)
                if done >= next_report:
                    next_report = done + step
                    on_progress(min(1.0, done / duration))
    if not mix.source_frames:
        why = f"ffmpeg cannot decode it: {first_error}" if first_error else "the audio track holds no decodable samples"
        raise _NotForThisDecoder(why)
    if bad_packets:
        warnings.append(f"{bad_packets} damaged packet(s) skipped ({first_error})")
    decoded = mix.source_frames / (mix.rate or rate)
    if duration and decoded < duration - max(TRUNCATION_SLACK_S, TRUNCATION_SLACK_SHARE * duration):
        # e.g. an mp3 whose Xing header counts more frames than the file still holds
        warnings.append(f"truncated: the file says {duration:.2f} s, but only {decoded:.2f} s decode; "
                        "the rest is missing (copy or export the file again)")
    return int(mix.rate or rate), channels


def _frame_to_float(frame) -> np.ndarray:  # noqa: ANN001 - av.AudioFrame
    """One decoded frame as float32 of shape (samples, channels)."""
    nd = frame.to_ndarray()
    n_ch = len(frame.layout.channels)
    if frame.format.is_planar:
        arr = nd.T  # (channels, samples) -> (samples, channels)
    else:
        arr = nd.reshape(-1, n_ch)
    kind = arr.dtype
    if kind == np.float32 or kind == np.float64:
        return arr.astype(np.float32, copy=False)
    if kind == np.int16:
        return arr.astype(np.float32) / 32768.0
    if kind == np.int32:
        return (arr.astype(np.float64) / 2147483648.0).astype(np.float32)
    if kind == np.uint8:
        return (arr.astype(np.float32) - 128.0) / 128.0
    if kind == np.int64:
        return (arr.astype(np.float64) / 9223372036854775808.0).astype(np.float32)
    raise _NotForThisDecoder(f"unsupported sample format {frame.format.name}")
