"""Dataset formatting throughput: clips per second of each step, one process vs several.

    python bench/format_throughput.py [--clips 48] [--seconds 4] [--workers 2] [--gpu] [--json]
                                      [--bert-dir D --hubert-dir D --s2g FILE]

Clips are synthesised here (speech-like tones, half Chinese, half English lines); the models are
the tiny random ones of the tests unless real ones are given (then the figures mean something
for real data: the tiny models make the audio decoding and the text frontend dominate). Each
configuration formats the same transcript into a fresh folder in one run (all three steps, the
way one click does it); the per-step wall time runs from the step's start message to its end
message, so model loading in the workers is included. Configurations, timed in the same run:

- ``cpu x1``: one process (the baseline);
- ``cpu xN``: N worker processes on the CPU (``--workers``);
- with ``--gpu`` and CUDA: ``cuda x1``, and ``cuda:0 x2`` (two processes on one GPU) plus one
  process per visible GPU when there are several.

Compare rows of one run, not runs of different machines.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
os.environ.setdefault("GSV_FRONTEND_DATA", "/work/shared/frontend-data")

from format_helpers import HUBERT_DIR, S2G_PATH, list_lines, make_clips, unpack_bert  # noqa: E402

from backend.format.runner import FormatOptions, run_format  # noqa: E402
from backend.progress import Reporter  # noqa: E402


def step_times(events: list[dict]) -> dict[str, float]:
    """Wall seconds per step from the 'step X: N clips' / 'step X: … computed' messages."""
    starts: dict[str, float] = {}
    out: dict[str, float] = {}
    for e in events:
        text = e.get("text", "") if e.get("kind") == "message" else ""
        if text.startswith("step ") and ":" in text:
            step = text[5:text.index(":")]
            if "computed" in text:
                out[step] = e["t"] - starts[step]
            else:
                starts[step] = e["t"]
    return out


def run_config(root: Path, name: str, devices: list[str], args: argparse.Namespace, bert: Path) -> dict:
    exp = root / f"exp_{name.replace(' ', '_').replace(':', '')}"
    threads = max(1, (os.cpu_count() or 1) // len(devices)) if devices[0] == "cpu" else None
    opts = FormatOptions(list_path=root / "clips.list", exp_dir=exp, version="v2", bert_dir=bert,
                         hubert_dir=args.hubert_dir or HUBERT_DIR, s2g_path=args.s2g or S2G_PATH,
                         devices=devices, threads=threads,
                         allow_pypinyin=True)  # the readings do not change the speed; G2PW need not be here
    report, events = Reporter.collect()
    t0 = time.perf_counter()
    summary = run_format(opts, report)
    total = time.perf_counter() - t0
    per_step = step_times(events)
    return {"config": name, "kept": summary.kept, "total_s": round(total, 2),
            **{f"{s}_clips_per_s": round(summary.kept / t, 2) for s, t in per_step.items() if t > 0}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clips", type=int, default=48)
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--gpu", action="store_true")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--bert-dir", type=Path)
    ap.add_argument("--hubert-dir", type=Path)
    ap.add_argument("--s2g", type=Path)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        clips = make_clips(root / "clips", args.clips, seconds=args.seconds)
        (root / "clips.list").write_text("\n".join(list_lines(clips)), encoding="utf-8")
        bert = args.bert_dir or unpack_bert(root / "models")
        configs = [("cpu x1", ["cpu"]), (f"cpu x{args.workers}", ["cpu"] * args.workers)]
        if args.gpu:
            import torch

            if torch.cuda.is_available():
                n = torch.cuda.device_count()
                configs += [("cuda x1", ["cuda:0"]), ("cuda:0 x2", ["cuda:0", "cuda:0"])]
                if n > 1:
                    configs.append((f"cuda x{n} GPUs", [f"cuda:{i}" for i in range(n)]))
            else:
                print("no CUDA: GPU rows skipped", file=sys.stderr)
        rows = [run_config(root, name, devs, args, bert) for name, devs in configs]
    base = rows[0]
    for r in rows:
        for step in ("text", "ssl", "semantic"):
            k = f"{step}_clips_per_s"
            if k in r and k in base:
                r[f"{step}_vs_cpu_x1"] = round(r[k] / base[k], 2)
    if args.json:
        print(json.dumps(rows, indent=1))
        return
    print(f"{args.clips} clips of ~{args.seconds:g} s; clips/s per step (ratio to cpu x1)")
    for r in rows:
        cells = [f"{s} {r.get(f'{s}_clips_per_s', '-')} ({r.get(f'{s}_vs_cpu_x1', '-')}x)"
                 for s in ("text", "ssl", "semantic")]
        print(f"  {r['config']:<14} " + "  ".join(cells) + f"  total {r['total_s']} s")


if __name__ == "__main__":
    main()
