"""SoVITS decode speed: real-time factor of our inference path against an official-style run.

Setup (as the official CPU measurement in the reference vectors): full-size v2 SoVITS
(``s2.json``, 42.4 M exported parameters) with random weights rounded to float16 (as in every
weights file), ``decode(codes (1,1,150), text (1,50), [spectrogram of a 5 s reference],
noise_scale=0.5, speed=1)`` → 192,000 samples = 6.0 s of 32 kHz audio, reference encoder
included, spectrogram computed beforehand.

Baseline, same run, same weights and the same noise draw: the model in its training layout —
weight norm recomputed from ``weight_g``/``weight_v`` on every call, out-of-place activations,
each resblock computing its own first activation — i.e. the official execution scheme.
Ours: ``load_sovits``' inference layout (weight norm folded once, inference mode, in-place
activations, the shared first activation of a stage's three resblocks computed once). The
outputs are compared (max abs difference). The official implementation measured RTF 0.25 (best
of 9) / 0.27 (median) on a 2-core AMD EPYC with torch 2.13 (``refvectors/bench_cpu``); the
ratio printed is against the baseline here because this machine's speed varies with its load.

    python bench/sovits_rtf.py [--runs 3] [--threads 2] [--codes 150] [--bf16] [--device cuda [--half]]

Wall-clock and process CPU time are both reported: on a shared machine the CPU time of each
run is the steadier measure.

Why the float32 path cannot go much faster on a CPU: the report counts the decoder's
convolution arithmetic (``decoder_gflop``) and times the decoder's most common convolution
alone (``conv_probe_gflops``, the best this machine does on these shapes); their quotient is
the float32 floor for the whole decode. ``--bf16`` also times the ``--precision bf16`` choice
(the decoder alone in bfloat16, as ``SoVITS.set_vocoder_dtype``) and its SNR against float32.
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

OFFICIAL_RTF = {"best": 0.25, "median": 0.27}
SR, HOP = 32000, 640


def build(seed: int = 0) -> SoVITS:
    torch.manual_seed(seed)
    model = SoVITS(SoVITSConfig.for_version("v2"), with_posterior=False)
    g = torch.Generator().manual_seed(seed + 1)
    cb = model.quantizer.vq.layers[0]._codebook
    cb.embed.normal_(0, 0.6, generator=g)
    cb.inited.fill_(1)
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() == 1 and torch.all(p == p.flatten()[0]):  # constant init: perturb (like real weights)
                p.add_(torch.randn(p.shape, generator=g) * 0.1)
            p.copy_(p.half().float())
        for p in model.flow.parameters():  # zero-initialised coupling outputs would make the flow a no-op
            if p.dim() == 3 and not p.any():
                p.normal_(0, 0.01, generator=g)
    for p in model.parameters():
        p.requires_grad_(False)
    return model.eval()


def inputs(n_codes: int, seed: int = 2):
    g = torch.Generator().manual_seed(seed)
    t = torch.arange(5 * SR) / SR
    wav = 0.3 * torch.sin(2 * torch.pi * 140 * t) * (1 + 0.5 * torch.sin(2 * torch.pi * 3 * t))
    wav = wav + 0.02 * torch.randn(wav.shape, generator=g)
    spec = spectrogram(wav[None])
    codes = torch.randint(0, 1024, (1, 1, n_codes), generator=g)
    text = torch.randint(0, 732, (1, 50), generator=g)
    noise = torch.randn(1, 192, 2 * n_codes, generator=g)
    return codes, text, spec, noise


def decoder_gflop(model: SoVITS, frames: int) -> float:
    """Multiply-adds ×2 of every convolution in ``dec`` for ``frames`` latent frames."""
    c = model.cfg
    t, ch = frames, c.upsample_initial_channel
    macs = c.inter_channels * ch * 7 * t  # conv_pre
    for u, k in zip(c.upsample_rates, c.upsample_kernel_sizes):
        t *= u
        macs += ch * (ch // 2) * k // u * t  # transposed conv: k/u taps per output sample
        ch //= 2
        macs += sum(2 * len(d) * ch * ch * ks * t for ks, d in zip(c.resblock_kernel_sizes, c.resblock_dilation_sizes))
    macs += ch * 7 * t  # conv_post
    return 2 * macs / 1e9


def conv_probe_gflops(runs: int = 5) -> float:
    """Throughput of one 128-channel, kernel-11 convolution over 24 000 samples (the decoder's
    second stage, its largest share) run the way the packed decoder runs it."""
    import torch.nn.functional as F

    x = torch.randn(1, 128, 1, 24000).contiguous(memory_format=torch.channels_last)
    w = torch.randn(128, 128, 1, 11).contiguous(memory_format=torch.channels_last)
    best = float("inf")
    with torch.inference_mode():
        for _ in range(runs + 1):
            t0 = time.perf_counter()
            F.conv2d(x, w, padding=(0, 5))
            best = min(best, time.perf_counter() - t0)
    return 2 * 128 * 128 * 11 * 24000 / best / 1e9


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--codes", type=int, default=150)
    ap.add_argument("--json", type=Path, default=None, help="also write the report here")
    ap.add_argument("--bf16", action="store_true", help="also time the bfloat16 vocoder (faster, not the same outputs)")
    ap.add_argument("--device", default="cpu", help="cpu, or cuda on a GPU machine")
    ap.add_argument("--half", action="store_true", help="GPU: both models in fp16 (the official is_half)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    dev = torch.device(args.device)
    dtype = torch.float16 if args.half else torch.float32

    def sync() -> None:
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)

    baseline = build().to(dev, dtype)
    ours = build().to(dev, dtype).prepare_for_inference()
    codes, text, spec, noise = (t.to(dev) for t in inputs(args.codes))
    audio_s = codes.shape[-1] * 2 * HOP / SR

    def run_baseline() -> torch.Tensor:
        with torch.enable_grad():  # nothing requires grad: no graph, but the plain (training) code path
            return SoVITS.decode.__wrapped__(baseline, codes, text, [spec], noise_scale=0.5, noise=noise)

    def run_ours() -> torch.Tensor:
        return ours.decode(codes, text, [spec], noise_scale=0.5, noise=noise)

    runners = {"baseline": run_baseline, "ours": run_ours}
    if args.bf16:
        fast = build().to(dev).prepare_for_inference().set_vocoder_dtype(torch.bfloat16)
        runners["ours_bf16"] = lambda: fast.decode(codes, text, [spec], noise_scale=0.5, noise=noise)
    times: dict[str, list[float]] = {k: [] for k in runners}
    cpu: dict[str, list[float]] = {k: [] for k in runners}
    outs = {k: fn() for k, fn in runners.items()}  # warm-up
    for _ in range(args.runs):  # interleaved so load changes hit all alike
        for name, fn in runners.items():
            sync()
            t0, c0 = time.perf_counter(), time.process_time()
            outs[name] = fn()
            sync()
            times[name].append(time.perf_counter() - t0)
            cpu[name].append(time.process_time() - c0)
    outs = {k: v.float().cpu() for k, v in outs.items()}
    diff = (outs["baseline"] - outs["ours"]).abs().max().item()
    report = {
        "device": str(dev), "dtype": str(dtype).replace("torch.", ""), "threads": args.threads, "codes": args.codes, "audio_seconds": audio_s, "samples": outs["ours"].shape[-1],
        "torch": torch.__version__,
        **{f"{k}_s": {"min": min(v), "median": statistics.median(v), "all": v} for k, v in times.items()},
        **{f"{k}_cpu_s_min": min(v) for k, v in cpu.items()},
        "speedup_cpu_time": min(cpu["baseline"]) / min(cpu["ours"]),
        "rtf_baseline_min": min(times["baseline"]) / audio_s,
        "rtf_ours_min": min(times["ours"]) / audio_s,
        "rtf_ours_median": statistics.median(times["ours"]) / audio_s,
        "speedup_min": min(times["baseline"]) / min(times["ours"]),
        "speedup_median": statistics.median(times["baseline"]) / statistics.median(times["ours"]),
        "max_abs_diff": diff, "peak": outs["ours"].abs().max().item(),
        "official_rtf": OFFICIAL_RTF,
        "speedup_vs_official_min": OFFICIAL_RTF["best"] / (min(times["ours"]) / audio_s),
    }
    gflop = decoder_gflop(ours, 2 * args.codes)
    report.update(decoder_gflop=gflop, ours_gflops=gflop / min(times["ours"]))
    if dev.type == "cpu":
        probe = conv_probe_gflops()
        report.update(conv_probe_gflops=probe, fp32_floor_rtf=gflop / probe / audio_s)
    if args.bf16:  # the --precision bf16 choice: faster, not the same outputs
        fast_out, ref = outs["ours_bf16"], outs["ours"]
        report["bf16_rtf_min"] = min(times["ours_bf16"]) / audio_s
        report["bf16_speedup_min"] = min(times["baseline"]) / min(times["ours_bf16"])
        report["bf16_speedup_vs_official_min"] = OFFICIAL_RTF["best"] / report["bf16_rtf_min"]
        report["bf16_max_abs_diff"] = (ref - fast_out).abs().max().item()
        report["bf16_snr_db"] = (10 * torch.log10(ref.pow(2).sum() / (ref - fast_out).pow(2).sum())).item()
    print(json.dumps(report, indent=1))
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
