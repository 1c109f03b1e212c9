"""GPT training throughput and peak memory: samples/s per batch size, fp16 against fp32.

Setup: the full-size official GPT (``s1longer-v2``: 24 layers, 512 wide, 77 M parameters; ``--tiny``
for a quick CPU check), random weights, a synthetic batch of ``--seconds``-long utterances (25
semantic tokens and about 12 phones per second, random BERT features), the real training step
(:meth:`backend.train.gpt.GPTTrainer.train_batch`: forward, scaled backward, the official ScaledAdam
step every fourth batch).

Baseline, same run: fp32. Reported per batch size: samples/s (median over ``--steps`` batches after
one warm-up), peak GPU memory (``torch.cuda.max_memory_allocated``), the fp16/fp32 speed ratio, and
whether every loss stayed finite and the fp16 loss scale stayed above 1 (the scaler halving it
down to nothing is how an fp16 overflow shows).

    python bench/train_gpt.py [--batch-sizes 2,8,16] [--steps 8] [--seconds 6] [--tiny] [--json]
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backend.models.gpt import S1LONGER_V2, Text2SemanticDecoder  # noqa: E402
from backend.models.gpt.config import GPTConfig  # noqa: E402
from backend.train.gpt import GPTTrainer  # noqa: E402

TINY = GPTConfig(hidden_dim=32, embedding_dim=32, head=4, n_layer=2, linear_units=64)


def _batch(b: int, seconds: float, config: GPTConfig) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(0)
    ty, tx = int(seconds * 25), max(4, int(seconds * 12))
    return {"phoneme_ids": torch.randint(1, config.phoneme_vocab_size, (b, tx), generator=gen),
            "phoneme_ids_len": torch.full((b,), tx),
            "semantic_ids": torch.randint(0, config.EOS, (b, ty), generator=gen),
            "semantic_ids_len": torch.full((b,), ty),
            "bert_feature": torch.randn(b, 1024, tx, generator=gen)}


def measure(batch: int, fp16: bool, steps: int, seconds: float, tiny: bool, device: torch.device
            ) -> tuple[float, float | None, bool, float | None]:
    torch.manual_seed(0)
    config = TINY if tiny else S1LONGER_V2
    trainer = GPTTrainer(Text2SemanticDecoder(config).to(device).train(), fp16=fp16, device=device)
    data = _batch(batch, seconds, config)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    times, finite = [], True
    for i in range(steps + 1):
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        t0 = time.perf_counter()
        result = trainer.train_batch(data, i)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        finite &= math.isfinite(result.loss)
        if i:
            times.append(time.perf_counter() - t0)
    peak = torch.cuda.max_memory_allocated(device) / 2**30 if device.type == "cuda" else None
    scale = float(trainer.scaler.get_scale()) if trainer.amp else None
    del trainer
    if device.type == "cuda":
        torch.cuda.empty_cache()
    return batch / statistics.median(times), peak, finite, scale


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batch-sizes", default="2,8")
    ap.add_argument("--steps", type=int, default=8, help="batches timed (the optimiser steps every fourth)")
    ap.add_argument("--seconds", type=float, default=6.0, help="utterance length (default 6 s)")
    ap.add_argument("--tiny", action="store_true", help="tiny model (a quick CPU check)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    rows = []
    for b in [int(x) for x in args.batch_sizes.split(",")]:
        row: dict[str, object] = {"batch": b}
        for fp16 in ((False, True) if device.type == "cuda" else (False,)):
            key = "fp16" if fp16 else "fp32"
            try:
                sps, peak, finite, scale = measure(b, fp16, args.steps, args.seconds, args.tiny, device)
                row[f"{key}_samples_per_s"] = round(sps, 3)
                row[f"{key}_peak_gb"] = None if peak is None else round(peak, 2)
                row[f"{key}_losses_finite"] = finite
                if scale is not None:
                    row[f"{key}_loss_scale"] = scale
            except torch.OutOfMemoryError:
                row[f"{key}_samples_per_s"] = "OOM"
                torch.cuda.empty_cache()
        fast, slow = row.get("fp16_samples_per_s"), row.get("fp32_samples_per_s")
        if isinstance(fast, float) and isinstance(slow, float):
            row["fp16_speedup"] = round(fast / slow, 2)
        rows.append(row)
        if not args.json:
            print(row, flush=True)
    info = {"device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
            "tiny": args.tiny, "seconds": args.seconds, "rows": rows}
    if args.json:
        print(json.dumps(info, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
