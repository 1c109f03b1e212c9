"""SoVITS training throughput and peak memory: samples/s per batch size, fp16 against fp32.

Setup: the full-size official config of a version (``s2.json``: 42 M-parameter generator with
the posterior encoder, 47 M-parameter multi-period discriminator; ``--tiny`` for a quick CPU
check), random weights, a synthetic batch of ``--seconds``-long clips (random HuBERT features,
noise waveforms and their spectrograms, 20 phones), the real training step
(:func:`backend.train.sovits.train_step`: G forward, D step, G step, AdamW both).

Baseline, same run: fp32. Reported per batch size: samples/s (median over ``--steps`` steps after
one warm-up), peak GPU memory (``torch.cuda.max_memory_allocated``), and the fp16/fp32 speed
ratio. The official guidance is "batch 2 fits in 6 GB" (fp16) and the WebUI's default batch is
GPU memory in GB // 2; the peak memory column is what to check against it.

    python bench/train_sovits.py [--version v2] [--batch-sizes 1,2,4,8] [--steps 5] [--seconds 6] [--tiny]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backend.models.mel import spectrogram  # noqa: E402
from backend.models.sovits import SoVITS, SoVITSConfig  # noqa: E402
from backend.train.common import make_scaler  # noqa: E402
from backend.train.sovits import SoVITSTrainSettings, make_optimizers, train_step  # noqa: E402
from backend.train.sovits_disc import build_mpd  # noqa: E402


def _models(version: str, tiny: bool, device: torch.device):
    if tiny:
        cfg = SoVITSConfig(version=version, inter_channels=32, hidden_channels=32, filter_channels=64, n_layers=2,
                           upsample_initial_channel=64, gin_channels=32, mrte_hidden=None if "Pro" in version else 32)
        d = build_mpd(version, ((4, 1), (8, 4), (8, 4), (8, 4), (8, 4), (8, 1)), (4, 8, 8, 8, 8))
    else:
        cfg = SoVITSConfig.for_version(version)
        d = build_mpd(version)
    g = SoVITS(cfg)
    g.quantizer.vq.layers[0]._codebook.inited.fill_(1)
    return g.to(device).train(), d.to(device).train()


def _batch(b: int, seconds: float, pro: bool, device: torch.device) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(0)
    n = int(seconds * 32000) // 640 * 640
    wav = torch.randn(b, 1, n, generator=gen) * 0.1
    spec = spectrogram(wav[:, 0])
    t = spec.shape[-1]
    out = {"ssl": torch.randn(b, 768, t, generator=gen), "spec": spec, "spec_lengths": torch.full((b,), t),
           "wav": wav, "wav_lengths": torch.full((b,), n), "text": torch.randint(1, 300, (b, 20), generator=gen),
           "text_lengths": torch.full((b,), 20)}
    if pro:
        out["sv"] = torch.randn(b, 20480, generator=gen)
    return {k: v.to(device) for k, v in out.items()}


def measure(version: str, batch: int, amp: bool, steps: int, seconds: float, tiny: bool, device: torch.device):
    g, d = _models(version, tiny, device)
    s = SoVITSTrainSettings(exp_dir="", weights_dir="", exp_name="bench", version=version, pretrained_s2G="",
                            pretrained_s2D="")
    og, od = make_optimizers(g, d, s)
    scaler = make_scaler(device, amp)
    data = _batch(batch, seconds, "Pro" in version, device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    times = []
    for i in range(steps + 1):
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        t0 = time.perf_counter()
        train_step(g, d, og, od, scaler, data, amp=amp)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        if i:
            times.append(time.perf_counter() - t0)
    peak = torch.cuda.max_memory_allocated(device) / 2**30 if device.type == "cuda" else None
    del g, d, og, od
    if device.type == "cuda":
        torch.cuda.empty_cache()
    return batch / statistics.median(times), peak


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--version", default="v2", choices=("v1", "v2", "v2Pro", "v2ProPlus"))
    ap.add_argument("--batch-sizes", default="1,2,4,8")
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=6.0, help="clip length (default 6 s)")
    ap.add_argument("--tiny", action="store_true", help="tiny models (a quick CPU check)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    rows = []
    for b in [int(x) for x in args.batch_sizes.split(",")]:
        row = {"batch": b}
        for amp in ((False, True) if device.type == "cuda" else (False,)):
            key = "fp16" if amp else "fp32"
            try:
                sps, peak = measure(args.version, b, amp, args.steps, args.seconds, args.tiny, device)
                row[f"{key}_samples_per_s"] = round(sps, 3)
                row[f"{key}_peak_gb"] = None if peak is None else round(peak, 2)
            except torch.OutOfMemoryError:
                row[f"{key}_samples_per_s"] = "OOM"
                torch.cuda.empty_cache()
        if isinstance(row.get("fp16_samples_per_s"), float) and isinstance(row.get("fp32_samples_per_s"), float):
            row["fp16_speedup"] = round(row["fp16_samples_per_s"] / row["fp32_samples_per_s"], 2)
        rows.append(row)
        if not args.json:
            print(row, flush=True)
    info = {"device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
            "version": args.version, "tiny": args.tiny, "clip_seconds": args.seconds, "rows": rows}
    if args.json:
        print(json.dumps(info, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
