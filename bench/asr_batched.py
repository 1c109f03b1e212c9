"""ASR throughput: faster-whisper's batched-across-clips path vs one clip at a time.

Same tiny random Whisper (built offline, as in the tests), same clips, same language, one run:

    python bench/asr_batched.py [--clips 32] [--batch-size 8]

Prints clips/s for each path and their ratio. With random weights the decoded text is noise,
so both paths are capped at the same number of new tokens to compare like with like.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from asr_models import build_tiny_whisper  # noqa: E402

from backend.asr import AsrOptions, make_engine  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clips", type=int, default=32)
    ap.add_argument("--batch-size", type=int, default=8)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        model = build_tiny_whisper(root / "whisper")
        rng = np.random.default_rng(0)
        paths = []
        for i in range(args.clips):
            seconds = rng.uniform(3, 10)
            t = np.arange(int(16000 * seconds)) / 16000
            audio = 0.3 * np.sin(2 * np.pi * rng.uniform(120, 300) * t) + 0.02 * rng.standard_normal(len(t))
            paths.append(root / f"clip{i:03d}.wav")
            sf.write(paths[-1], audio.astype("float32"), 16000, subtype="PCM_16")
        results = {}
        for name, batch in (("one at a time", 1), ("batched", args.batch_size)):
            engine = make_engine(AsrOptions(model=str(model), language="en", device="cpu", precision="float32",
                                            vad=False, batch_size=batch))
            list(engine.transcribe(paths[:2]))  # warm-up
            start = time.perf_counter()
            out = list(engine.transcribe(paths))
            results[name] = len(out) / (time.perf_counter() - start)
            print(f"{name:>14}: {results[name]:7.2f} clips/s")
        print(f"batched / one at a time: {results['batched'] / results['one at a time']:.2f}x")


if __name__ == "__main__":
    main()
