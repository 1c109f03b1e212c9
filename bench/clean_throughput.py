"""Cleaning speed on this machine's CPU, per step with its default model at full size, and the
peak memory of a 1-hour recording.

    python bench/clean_throughput.py [--seconds 30] [--threads N] [--hour-minutes 60] [--skip-hour] [--json]

Needs the cleaning runner (``gsv install-cleaner``). The default models of each step are
built here at their full size with random weights (speed does not depend on the weights; nothing
is downloaded): the Mel-Band Roformer vocals model, UVR-DeEcho-DeReverb and UVR-DeNoise (VR 5.1).
Each row is measured in its own process: ``--seconds`` of synthetic speech-like audio go through
that one step (one chunk), timed after the model is loaded and warmed on a second of audio.

- ``x real time``: seconds of audio cleaned per wall second (higher is faster).
- ``peak MB``: the process's peak resident memory for that chunk.
- the last row streams a ``--hour-minutes`` recording (60 by default, written here as 16-bit WAV)
  through the chain with a pass-through step, beside the same for a 1-minute file: the memory the
  chain itself needs for a long file. A real run's peak is about that plus the largest step's.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

STEPS = ("separate", "dereverb", "denoise")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _build_full_size(step: str, directory: Path):
    """The step's default model at full size, random weights, under a bench name."""
    import torch

    from backend.clean.catalogue import DEFAULTS, CleanModel, Source, lookup

    real = lookup(DEFAULTS[step], step)
    torch.manual_seed(0)
    if real.arch == "roformer":
        from backend.clean.runner import require_runner

        require_runner()
        from audio_separator.separator.uvr_lib_v5.roformer.mel_band_roformer import (
            MelBandRoformer,
        )

        m = dict(real.config["model"])
        net = MelBandRoformer(**{k: v for k, v in m.items() if k not in ("attn_dropout", "ff_dropout")})
    else:
        import audio_separator.separator as pkg
        from audio_separator.separator.uvr_lib_v5.vr_network import nets_new
        from audio_separator.separator.uvr_lib_v5.vr_network.model_param_init import (
            ModelParameters,
        )

        param_file = Path(pkg.__file__).parent / "uvr_lib_v5" / "vr_network" / "modelparams" / \
            f"{real.model_data['vr_model_param']}.json"
        bins = ModelParameters(str(param_file)).param["bins"]
        net = nets_new.CascadedNet(bins * 2, 0, nout=real.model_data["nout"], nout_lstm=real.model_data["nout_lstm"])
    filename = f"bench_{step}{Path(real.filename).suffix}"
    torch.save(net.state_dict(), directory / filename)
    return CleanModel(f"bench-{step}", step, real.arch, Source(filename), keep=real.keep, about="bench",
                      config=real.config, model_data=real.model_data)


def _measure_step(step: str, seconds: float, work: Path) -> dict:
    import soundfile as sf
    from audio_synth import speechlike

    from backend.clean.chain import Chunking, clean_file
    from backend.clean.runner import StepRunner

    models = work / "models"
    models.mkdir(parents=True, exist_ok=True)
    model = _build_full_size(step, models)
    params_m = sum(p.numel() for p in __import__("torch").load(models / model.filename).values()) / 1e6
    runner = StepRunner(model, models, work / "w", "cpu")
    x = speechlike(seconds, 44100, seed=3)
    sf.write(work / "in.wav", x, 44100)
    sf.write(work / "warm.wav", x[:44100], 44100)
    chunking = Chunking(seconds + 2, 0.5)
    clean_file(work / "warm.wav", work / "warm_out.wav", [runner], work / "c", chunking=chunking)
    t = time.perf_counter()
    clean_file(work / "in.wav", work / "out.wav", [runner], work / "c", chunking=chunking)
    wall = time.perf_counter() - t
    return {"row": f"{step}: {model.arch} ({params_m:.1f} M parameters)", "audio_s": seconds,
            "wall_s": round(wall, 2), "x_real_time": round(seconds / wall, 3), "peak_mb": round(_peak_mb())}


class _PassThrough:
    def process(self, wav_in: Path):
        import soundfile as sf

        return sf.read(wav_in, dtype="float32", always_2d=True)[0]


def _measure_stream(minutes: float, work: Path) -> dict:
    import numpy as np
    import soundfile as sf

    from backend.clean.chain import clean_file

    path = work / f"long_{minutes:g}.wav"
    rng = np.random.default_rng(0)
    with sf.SoundFile(str(path), "w", samplerate=44100, channels=2, subtype="PCM_16") as f:
        for _ in range(int(minutes)):
            f.write((0.1 * rng.standard_normal((44100 * 60, 2))).astype(np.float32))
    t = time.perf_counter()
    clean_file(path, work / "long_out.wav", [_PassThrough()], work / "c")
    wall = time.perf_counter() - t
    path.unlink()
    return {"row": f"chain only, {minutes:g} min file (pass-through step)", "audio_s": minutes * 60,
            "wall_s": round(wall, 2), "x_real_time": round(minutes * 60 / wall, 1), "peak_mb": round(_peak_mb())}


def _child(args: argparse.Namespace) -> None:
    import torch

    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory(prefix="gsv-clean-bench-") as tmp:
        row = (_measure_stream(args.minutes, Path(tmp)) if args.what == "stream"
               else _measure_step(args.what, args.seconds, Path(tmp)))
    print(json.dumps(row))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--hour-minutes", type=float, default=60.0)
    ap.add_argument("--skip-hour", action="store_true")
    ap.add_argument("--steps", nargs="+", default=list(STEPS), choices=STEPS)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--what", help=argparse.SUPPRESS)
    ap.add_argument("--minutes", type=float, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.what:
        _child(args)
        return
    jobs = [["--what", s] for s in args.steps]
    if not args.skip_hour:
        jobs += [["--what", "stream", "--minutes", "1"], ["--what", "stream", "--minutes", str(args.hour_minutes)]]
    rows = []
    for extra in jobs:
        cmd = [sys.executable, __file__, "--seconds", str(args.seconds), "--threads", str(args.threads), *extra]
        r = subprocess.run(cmd, capture_output=True, text=True, check=False, env={**os.environ, "OMP_NUM_THREADS": str(args.threads)})
        if r.returncode != 0:
            sys.exit(f"{' '.join(extra)} failed:\n{r.stderr[-3000:]}")
        rows.append(json.loads(r.stdout.strip().splitlines()[-1]))
        if not args.json:
            row = rows[-1]
            print(f"{row['row']:<58} {row['audio_s']:>7.0f} s audio  {row['wall_s']:>8.1f} s  "
                  f"{row['x_real_time']:>7} x real time  peak {row['peak_mb']:>6} MB", flush=True)
    if args.json:
        print(json.dumps({"threads": args.threads, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
