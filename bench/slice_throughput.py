"""Slicing throughput, decode included, in × real time — ours beside the official-equivalent path.

    python bench/slice_throughput.py [--minutes 10] [--files 50] [--file-seconds 20] [--workers N] [--repeat 3] [--json]

Two inputs, synthesised here (speech-like tones and noise with pauses; nothing downloaded):
a 10-minute mp3 (44.1 kHz, encoded with PyAV) and a folder of 50 wavs (48 kHz stereo 16-bit).

Three ways to slice each, timed in the same run, all writing the clips to disk:

- ``official-equivalent``: what the official driver does, in one process — decode with ffmpeg's own
  resampler to 32 kHz mono float (PyAV's libswresample, as the ffmpeg program would), the RMS via
  the window×frames matrix and a numpy mean, the frame scan, the loudness mix, one file after
  another;
- ``ours, 1 process``: the slice stage with one worker (soundfile/PyAV decode fed to libswresample in large blocks, blockwise RMS, one flush per file);
- ``ours, N processes``: the slice stage with one worker per core (the default).

Figures are ratios of audio seconds to wall seconds (best of ``--repeat`` runs); compare rows of
one run, not runs of different machines. Files are the unit of parallelism, so for the single mp3
the two "ours" rows run the same path.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from audio_synth import encode, speechlike  # noqa: E402

from backend.audio.slicer import SliceParams, Slicer, clip_name, normalize_clip  # noqa: E402
from backend.progress import Reporter  # noqa: E402
from backend.stages import slice as slice_stage  # noqa: E402

SR = 32000


def decode_like_ffmpeg(path: Path) -> np.ndarray:
    """Decode and convert with libswresample to 32 kHz mono float — the ffmpeg program's path."""
    import av

    pieces = []
    with av.open(str(path)) as c:
        rs = av.AudioResampler(format="flt", layout="mono", rate=SR)
        for frame in c.decode(audio=0):
            for out in rs.resample(frame):
                pieces.append(out.to_ndarray().reshape(-1))
        for out in rs.resample(None):
            pieces.append(out.to_ndarray().reshape(-1))
    return np.concatenate(pieces).astype(np.float32)


def rms_matrix(x: np.ndarray, win: int, hop: int) -> np.ndarray:
    """RMS the official way: a strided window×frames view, squared into a full matrix, averaged."""
    padded = np.pad(x, (win // 2, win // 2))
    view = np.lib.stride_tricks.sliding_window_view(padded, win)[::hop].T  # (win, frames)
    return np.sqrt(np.mean(np.abs(view) ** 2, axis=0))


def official_equivalent(files: list[Path], out: Path) -> int:
    from backend.audio.io import wav_bytes_int16

    slicer = Slicer(SR, SliceParams())
    n = 0
    out.mkdir(parents=True, exist_ok=True)
    for f in files:
        x = decode_like_ffmpeg(f)
        rms = rms_matrix(x, slicer.win, slicer.hop)
        for a, b in slicer.spans(rms):
            pcm = normalize_clip(x[a * slicer.hop: min(len(x), b * slicer.hop)])
            (out / clip_name(f.name, a * slicer.hop, b * slicer.hop)).write_bytes(wav_bytes_int16(pcm, SR))
            n += 1
    return n


def ours(inputs: list[Path], out: Path, workers: int) -> int:
    report, events = Reporter.collect()
    slice_stage.run(slice_stage.Params(inputs=inputs, out_dir=out, workers=workers, max_length=None), report)
    return [e for e in events if e["kind"] == "summary"][0]["data"]["clips"]


def timed(fn, out: Path, repeat: int) -> tuple[float, int]:  # noqa: ANN001
    """Best wall time of ``repeat`` runs (each into an empty folder): the least disturbed by other load."""
    best, n = float("inf"), 0
    for _ in range(repeat):
        shutil.rmtree(out, ignore_errors=True)
        t = time.perf_counter()
        n = fn(out)
        best = min(best, time.perf_counter() - t)
    return best, n


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=10.0, help="length of the mp3 (default 10)")
    ap.add_argument("--files", type=int, default=50, help="wavs in the folder (default 50)")
    ap.add_argument("--file-seconds", type=float, default=20.0, help="length of each wav (default 20)")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--repeat", type=int, default=3, help="runs per row; the best time counts (default 3)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    import soundfile as sf

    tmp = Path(tempfile.mkdtemp(prefix="slicebench"))
    try:
        mp3 = encode(tmp / "talk.mp3", speechlike(args.minutes * 60, 44100, seed=1), 44100, bit_rate=128000)
        folder = tmp / "wavs"
        folder.mkdir()
        for k in range(args.files):
            x = speechlike(args.file_seconds, 48000, seed=100 + k)
            sf.write(folder / f"take_{k:03d}.wav", np.stack([x, 0.8 * x], axis=1), 48000, subtype="PCM_16")
        wavs = sorted(folder.iterdir())
        cases = [("10-min mp3" if args.minutes == 10 else f"{args.minutes:g}-min mp3", [mp3], args.minutes * 60),
                 (f"{args.files} wavs", wavs, args.files * args.file_seconds)]
        rows = []
        for label, files, seconds in cases:
            runs = {
                "official-equivalent": lambda o, f=files: official_equivalent(f, o),
                "ours, 1 process": lambda o, f=files: ours(f, o, 1),
                f"ours, {args.workers} processes": lambda o, f=files: ours(f, o, args.workers),
            }
            base = None
            for name, fn in runs.items():
                wall, clips = timed(fn, tmp / "out", args.repeat)
                xrt = seconds / wall
                base = base or xrt
                rows.append({"input": label, "path": name, "audio_s": seconds, "wall_s": round(wall, 3),
                             "x_realtime": round(xrt, 1), "vs_official": round(xrt / base, 2), "clips": clips})
        if args.json:
            print(json.dumps({"cpus": os.cpu_count(), "rows": rows}, indent=1))
        else:
            print(f"{'input':<12} {'path':<22} {'audio s':>8} {'wall s':>8} {'× real time':>12} {'vs official':>12} {'clips':>6}")
            for r in rows:
                print(f"{r['input']:<12} {r['path']:<22} {r['audio_s']:>8.0f} {r['wall_s']:>8.2f} "
                      f"{r['x_realtime']:>12.1f} {r['vs_official']:>11.2f}× {r['clips']:>6}")
            print(f"({os.cpu_count()} CPUs visible; load average {os.getloadavg()[0]:.1f})")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
