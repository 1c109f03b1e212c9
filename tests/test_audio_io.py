"""Decoding every kind of input to 32 kHz mono float32, and naming every kind of failure."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from audio_synth import encode, speechlike, write_corpus

from backend.audio.io import AudioError, load_audio, resample, save_wav_int16, wav_bytes_int16
from backend.errors import GsvError


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str | None]]:
    folder = tmp_path_factory.mktemp("corpus")
    return folder, write_corpus(folder)


GOOD = ["whole.wav", "u8.wav", "s24.wav", "float.wav", "stereo.wav", "surround51.wav", "phone8k.wav",
        "studio96k.wav", "voix enregistrée 录音.wav", "talk.mp3"]


@pytest.mark.parametrize("name", GOOD)
@pytest.mark.slow
def test_every_format_becomes_32k_mono_float(corpus: tuple[Path, dict], name: str) -> None:
    folder, _ = corpus
    reference = load_audio(folder / "whole.wav").samples
    audio = load_audio(folder / name)
    assert audio.sample_rate == 32000 and audio.samples.dtype == np.float32 and audio.samples.ndim == 1
    assert audio.duration == pytest.approx(6.0, abs=0.06)
    n = min(len(reference), len(audio.samples))
    # Same signal after any format/rate/channel change: loudness envelope agrees (8-bit and 8 kHz lose detail).
    env = lambda s: np.sqrt(np.convolve(s[:n] ** 2, np.ones(3200) / 3200, mode="valid"))[::800]  # noqa: E731
    # ffmpeg's downmix (what the official loader does): stereo 0.7071·(L+R), 5.1 adds FC + 0.5·surrounds.
    scale = {"stereo.wav": 1.5 * 0.70710677, "surround51.wav": 2 * 0.70710677 + 1 + 0.5 + 0.5,
             "float.wav": 3.0}.get(name, 1.0)
    lag_free = name != "talk.mp3"
    if lag_free:
        np.testing.assert_allclose(env(audio.samples), scale * env(reference), atol=0.02 * scale)
    assert audio.warnings == []


def test_channels_and_rates_are_recorded(corpus: tuple[Path, dict]) -> None:
    folder, _ = corpus
    a = load_audio(folder / "surround51.wav")
    assert (a.source_rate, a.source_channels) == (48000, 6)
    b = load_audio(folder / "phone8k.wav")
    assert (b.source_rate, b.source_channels) == (8000, 1)
    m = load_audio(folder / "talk.mp3")
    assert m.source_rate == 44100


def test_float_wav_keeps_values_above_one(corpus: tuple[Path, dict]) -> None:
    """Like the official ffmpeg loader: no rescaling on load (the slicer's mix handles peaks > 1)."""
    folder, _ = corpus
    assert np.abs(load_audio(folder / "float.wav").samples).max() > 1.0


@pytest.mark.parametrize("name, words", [
    ("notes.wav", "not audio"),
    ("empty.wav", "empty (0 bytes)"),
    ("header only.wav", "truncated or damaged wav"),
])
def test_unusable_files_are_named_with_the_reason(corpus: tuple[Path, dict], name: str, words: str) -> None:
    folder, _ = corpus
    with pytest.raises(AudioError) as info:
        load_audio(folder / name)
    err = info.value
    assert isinstance(err, GsvError) and err.fix
    assert err.path == folder / name and name in str(err) and words in err.why


def test_truncated_body_is_read_with_a_warning(corpus: tuple[Path, dict]) -> None:
    folder, _ = corpus
    a = load_audio(folder / "cut short.wav")
    assert a.duration == pytest.approx(4.0, abs=0.01)
    assert len(a.warnings) == 1 and "truncated" in a.warnings[0] and "6.00 s" in a.warnings[0]


def test_missing_path_and_folder(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match="does not exist"):
        load_audio(tmp_path / "nope.wav")
    with pytest.raises(AudioError, match="is a folder"):
        load_audio(tmp_path)


def test_random_bytes_with_an_mp3_name(tmp_path: Path) -> None:
    p = tmp_path / "noise.mp3"
    p.write_bytes(np.random.default_rng(0).integers(0, 256, 4000, dtype=np.uint8).tobytes())
    with pytest.raises(AudioError, match="not audio"):
        load_audio(p)


def test_video_container_without_audio_track(tmp_path: Path) -> None:
    import av

    p = tmp_path / "silent film.mp4"
    with av.open(str(p), "w") as out:
        s = out.add_stream("mpeg4", rate=10)
        s.width, s.height, s.pix_fmt = 32, 32, "yuv420p"
        for _ in range(5):
            for pkt in s.encode(av.VideoFrame.from_ndarray(np.zeros((32, 32, 3), np.uint8), format="rgb24")):
                out.mux(pkt)
        for pkt in s.encode(None):
            out.mux(pkt)
    with pytest.raises(AudioError, match="no audio track"):
        load_audio(p)


@pytest.mark.parametrize("ext, codec, channels, sr", [
    ("m4a", "aac", 2, 44100), ("opus", "libopus", 1, 48000), ("webm", "libopus", 2, 48000),
    ("ogg", "libopus", 1, 48000),
])
def test_compressed_containers(tmp_path: Path, ext: str, codec: str, channels: int, sr: int) -> None:
    p = encode(tmp_path / f"speech.{ext}", speechlike(3.0, sr, seed=1), sr, codec, channels)
    a = load_audio(p)
    assert a.sample_rate == 32000 and a.source_channels == channels
    assert a.duration == pytest.approx(3.0, abs=0.06)
    assert np.abs(a.samples).max() > 0.1


def test_truncated_mp3_keeps_what_decodes(tmp_path: Path) -> None:
    p = encode(tmp_path / "cut.mp3", speechlike(4.0, 44100, seed=2), 44100)
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    a = load_audio(p)
    assert 1.5 < a.duration < 2.5


def test_resample_is_soxr_and_a_no_op_at_the_same_rate() -> None:
    x = np.sin(2 * np.pi * 440 * np.arange(48000) / 48000).astype(np.float32)
    assert resample(x, 48000, 48000) is x
    y = resample(x, 48000, 32000)
    assert y.dtype == np.float32 and len(y) == 32000
    np.testing.assert_allclose(y[1000:-1000], np.sin(2 * np.pi * 440 * np.arange(32000) / 32000)[1000:-1000], atol=1e-3)


def test_save_wav_int16_round_trip(tmp_path: Path) -> None:
    pcm = np.array([0, 1, -1, 32767, -32768, 1234], np.int16)
    p = tmp_path / "sub" / "x.wav"
    save_wav_int16(p, pcm, 32000)
    data, sr = sf.read(p, dtype="int16")
    assert sr == 32000 and sf.info(p).subtype == "PCM_16" and sf.info(p).channels == 1
    np.testing.assert_array_equal(data, pcm)
    assert len(wav_bytes_int16(pcm, 32000)) == 44 + 2 * len(pcm)
    save_wav_int16(p, np.array([0.5, -2.0], np.float32))  # float: clipped and scaled
    np.testing.assert_array_equal(sf.read(p, dtype="int16")[0], [16383, -32767])
    assert [c.name for c in p.parent.iterdir()] == ["x.wav"]  # no temp files left behind


@pytest.mark.parametrize("layout, channels", [("stereo", 2), ("5.1", 6)])
def test_downmix_is_ffmpegs(tmp_path: Path, layout: str, channels: int) -> None:
    """Same mono as ``ffmpeg -ac 1 -f f32le`` (libswresample, float, no normalisation) at 32 kHz."""
    import av

    rng = np.random.default_rng(channels)
    data = (0.2 * rng.standard_normal((32000, channels))).astype(np.float32)
    sf.write(tmp_path / "multi.wav", data, 32000, subtype="FLOAT")
    ours = load_audio(tmp_path / "multi.wav").samples
    frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(data.T), format="fltp", layout=layout)
    frame.sample_rate = 32000
    rs = av.AudioResampler(format="flt", layout="mono", rate=32000)
    ffmpeg = np.concatenate([o.to_ndarray().reshape(-1) for o in [*rs.resample(frame), *rs.resample(None)]])
    assert len(ours) == len(ffmpeg) == 32000
    np.testing.assert_allclose(ours, ffmpeg, atol=1e-6)


def test_audio_track_of_a_video(tmp_path: Path) -> None:
    import av

    p = tmp_path / "interview.mp4"
    speech = speechlike(3.0, 44100, seed=4)
    with av.open(str(p), "w") as out:
        video = out.add_stream("mpeg4", rate=10)
        video.width, video.height, video.pix_fmt = 32, 32, "yuv420p"
        audio = out.add_stream("aac", rate=44100)
        audio.layout = "stereo"
        for _ in range(30):
            for pkt in video.encode(av.VideoFrame.from_ndarray(np.zeros((32, 32, 3), np.uint8), format="rgb24")):
                out.mux(pkt)
        for k in range(0, len(speech), 4096):
            piece = np.ascontiguousarray(np.repeat(speech[None, k: k + 4096], 2, axis=0))
            frame = av.AudioFrame.from_ndarray(piece, format="fltp", layout="stereo")
            frame.sample_rate = 44100
            for pkt in audio.encode(frame):
                out.mux(pkt)
        for stream in (video, audio):
            for pkt in stream.encode(None):
                out.mux(pkt)
    a = load_audio(p)
    assert a.source_channels == 2 and a.source_rate == 44100
    assert a.duration == pytest.approx(3.0, abs=0.06)
    assert np.abs(a.samples).max() > 0.1


def _ffmpeg_decode(path: Path) -> np.ndarray:
    """What ``ffmpeg -i PATH -ac 1 -ar 32000 -f f32le`` gives: every decoded frame through one
    libswresample with its default options (PyAV's copy of the libraries the program uses)."""
    import av

    rs = av.AudioResampler(format="flt", layout="mono", rate=32000)
    pieces = []
    with av.open(str(path)) as c:
        for frame in c.decode(audio=0):
            pieces += [o.to_ndarray().reshape(-1) for o in rs.resample(frame)]
    pieces += [o.to_ndarray().reshape(-1) for o in rs.resample(None)]
    return np.concatenate(pieces)


@pytest.mark.parametrize("name", ["s24.wav", "stereo.wav", "surround51.wav", "phone8k.wav", "talk.mp3", "u8.wav"])
def test_default_decoding_gives_the_official_loaders_samples(corpus: tuple[Path, dict], name: str) -> None:
    """Bit for bit what the official ffmpeg-based loader gets, so the slicer cuts where it cuts."""
    folder, _ = corpus
    np.testing.assert_array_equal(load_audio(folder / name).samples, _ffmpeg_decode(folder / name))


def test_soxr_resampler_is_available(corpus: tuple[Path, dict]) -> None:
    folder, _ = corpus
    a = load_audio(folder / "stereo.wav", resampler="soxr").samples
    b = load_audio(folder / "stereo.wav").samples
    assert a.dtype == np.float32 and abs(len(a) - len(b)) <= 1
    assert not np.array_equal(a[: len(b)], b[: len(a)])  # really another resampler
    np.testing.assert_allclose(a[1000:-1000], b[1000: len(a) - 1000], atol=0.02)
    with pytest.raises(ValueError, match="resampler"):
        load_audio(folder / "stereo.wav", resampler="linear")


@pytest.mark.parametrize("name", ["long.wav", "long.mp3"])
@pytest.mark.slow
def test_progress_while_decoding(tmp_path: Path, name: str) -> None:
    x = speechlike(40.0, 44100, seed=6)
    if name.endswith(".mp3"):
        encode(tmp_path / name, x, 44100)
    else:
        sf.write(tmp_path / name, x, 44100)
    seen: list[float] = []
    load_audio(tmp_path / name, on_progress=seen.append)
    assert len(seen) >= 3 and seen == sorted(seen) and 0 < seen[0] < 0.5 and seen[-1] > 0.9


def test_a_named_pipe_is_refused_not_waited_on(tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "stream.wav"
    os.mkfifo(fifo)
    with pytest.raises(AudioError, match="not a regular file"):
        load_audio(fifo)


def test_joined_mp3s_with_another_rate_and_a_damaged_packet(tmp_path: Path) -> None:
    """Two mp3s glued together (a common way to "merge" recordings): the rate changes mid-stream
    and the seam is a damaged packet. Like the ffmpeg program we skip the packet and convert both parts."""
    a = encode(tmp_path / "a.mp3", speechlike(3.0, 44100, seed=1), 44100)
    b = encode(tmp_path / "b.mp3", speechlike(2.0, 22050, seed=2), 22050)
    joined = tmp_path / "joined.mp3"
    joined.write_bytes(a.read_bytes() + b.read_bytes())
    for resampler in ("ffmpeg", "soxr"):
        audio = load_audio(joined, resampler=resampler)
        assert audio.duration == pytest.approx(5.0, abs=0.1)
        assert any("sample rate changes 1 time" in w for w in audio.warnings)
