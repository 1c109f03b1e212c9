"""Audio bodies for HTTP responses: wav, raw PCM, and compressed formats through PyAV.

Why PyAV: it carries its own FFmpeg libraries, so aac (ADTS), opus, flac and mp3 need no system
``ffmpeg`` (the official server runs an ``ffmpeg`` subprocess for aac). Ogg/Vorbis goes through
libsndfile (soundfile), as the official's does.

Samples are 16-bit as api_v2 sends them (float × 32768, clipped). A streamed wav starts with a
header whose sizes say "unknown length" (0xFFFFFFFF, which players and FFmpeg read as "until the
end of the stream"); the official header says 0 bytes of data, which some players take
literally and stop at once. Streamed ogg and aac send each chunk as its own complete stream
(chained Ogg, concatenated ADTS frames), as the official does.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..audio.io import wav_bytes_int16
from ..errors import GsvError


class MediaError(GsvError):
    """Audio cannot be encoded in the format asked for."""


@dataclass(frozen=True)
class Codec:
    container: str  # PyAV/FFmpeg muxer name
    codec: str
    rates: tuple[int, ...] = ()  # sample rates the encoder takes (empty: any)
    bit_rate: int | None = None
    content_type: str = "application/octet-stream"


CODECS: dict[str, Codec] = {
    "aac": Codec("adts", "aac", bit_rate=192_000, content_type="audio/aac"),
    "opus": Codec("ogg", "libopus", rates=(48000, 24000, 16000, 12000, 8000), bit_rate=64_000,
                  content_type="audio/ogg"),
    "flac": Codec("flac", "flac", content_type="audio/flac"),
    "mp3": Codec("mp3", "libmp3lame", rates=(48000, 44100, 32000, 24000, 22050, 16000), bit_rate=128_000,
                 content_type="audio/mpeg"),
}
CONTENT_TYPES = {"wav": "audio/wav", "raw": "audio/raw", "pcm": "audio/pcm", "ogg": "audio/ogg",
                 **{k: c.content_type for k, c in CODECS.items()}}


def to_int16(audio: np.ndarray) -> np.ndarray:
    """api_v2's output conversion: × 32768, clipped to the 16-bit range."""
    return np.clip(np.asarray(audio, dtype=np.float32) * 32768.0, -32768, 32767).astype(np.int16)


def encode_av(samples: np.ndarray, sample_rate: int, fmt: str) -> bytes:
    """``samples`` (int16 mono) as one complete stream of ``fmt`` (a key of :data:`CODECS`)."""
    import av

    spec = CODECS[fmt]
    rate = sample_rate if not spec.rates or sample_rate in spec.rates else spec.rates[0]
    buf = io.BytesIO()
    try:
        with av.open(buf, "w", format=spec.container) as out:
            stream: Any = out.add_stream(spec.codec, rate=rate, layout="mono")
            cc = stream.codec_context
            if spec.bit_rate:
                cc.bit_rate = spec.bit_rate
            resampler = av.AudioResampler(format=cc.format.name, layout="mono", rate=rate)
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples, dtype=np.int16)[None], format="s16",
                                               layout="mono")
            frame.sample_rate = sample_rate
            frames = resampler.resample(frame) + resampler.resample(None) if len(samples) else []
            for f in frames:
                for packet in stream.encode(f):
                    out.mux(packet)
            for packet in stream.encode(None):
                out.mux(packet)
    except (av.FFmpegError, ValueError) as e:
        raise MediaError(f"cannot encode {fmt} audio: {e}", "ask for wav or raw") from e
    return buf.getvalue()


def ogg_vorbis(samples: np.ndarray, sample_rate: int) -> bytes:
    """Ogg/Vorbis through libsndfile (FFmpeg's own Vorbis encoder takes stereo only)."""
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, samples.astype(np.int16), sample_rate, format="OGG", subtype="VORBIS")
    return buf.getvalue()


def encode(samples: np.ndarray, sample_rate: int, media_type: str) -> bytes:
    """A complete body: ``wav`` (header + PCM), ``raw``/``pcm`` (headerless little-endian), or a codec."""
    if media_type == "wav":
        return wav_bytes_int16(samples, sample_rate)
    if media_type in ("raw", "pcm"):
        return samples.astype("<i2").tobytes()
    if media_type == "ogg":
        return ogg_vorbis(samples, sample_rate)
    if media_type in CODECS:
        return encode_av(samples, sample_rate, media_type)
    raise MediaError(f"media type {media_type!r} is not supported",
                     f"use one of wav, raw, {', '.join(CODECS)}")
