"""``gsv serve`` latency: time to the first audio byte and real-time factor per streaming mode,
and the throughput of N concurrent clients, against a plain ``gsv infer`` synthesis in the same run.

Setup: the full-size random v2 models of ``bench/infer_rtf.py`` (24-layer GPT, v2 SoVITS,
HuBERT-base; the GPT's EOS row zeroed so every piece runs ``--tokens`` tokens), its 5 s
reference and 3-sentence English paragraph, cut at every punctuation mark (api_v2's default
cut5). The server is the real application under uvicorn on a loopback port, called over HTTP
with ``media_type=raw`` (no header, so the first body byte is audio).

Baseline in the same run: the same text through :class:`backend.infer.pipeline.Synthesizer`
(what ``gsv infer`` runs, reference stage included), timed until its whole audio exists; each
round runs it right before the four modes. For each streaming mode the report
gives the first-byte time, the whole-response time and their ratios to the baseline; the goal
is mode 2's first byte under 25 % of the non-streamed response time.

    python bench/serve_latency.py [--runs 1] [--threads 2] [--tokens 100] [--clients 3] [--chunk 16]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from infer_rtf import PARAGRAPHS, REF_TEXT, build_models, reference  # noqa: E402

from backend.infer.params import SynthesisParams  # noqa: E402
from backend.infer.pipeline import Synthesizer  # noqa: E402
from backend.serve import server  # noqa: E402
from backend.serve.app import ServerState  # noqa: E402
from backend.serve.safety import PathRules  # noqa: E402
from backend.serve.voice import Voice, VoiceFiles  # noqa: E402
from backend.serve.worker import ModelWorker  # noqa: E402


def timed_request(url: str, body: dict) -> dict:
    t0 = time.perf_counter()
    first = None
    size = 0
    with httpx.stream("POST", f"{url}/tts", json=body, timeout=3600) as r:
        r.raise_for_status()
        for chunk in r.iter_raw():
            if chunk and first is None:
                first = time.perf_counter() - t0
            size += len(chunk)
    total = time.perf_counter() - t0
    return {"first_byte_s": first or total, "total_s": total, "audio_s": size / 2 / 32000}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=1, help="interleaved rounds (medians are reported)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--tokens", type=int, default=100, help="semantic tokens per piece (25 per second)")
    ap.add_argument("--clients", type=int, default=3, help="concurrent clients for the throughput run")
    ap.add_argument("--chunk", type=int, default=16, help="min_chunk_length for modes 2 and 3")
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from backend.text.langsplit import _lite_model, use_langid_model

    use_langid_model(_lite_model())
    models = build_models(args.device, "auto", "en")
    with tempfile.TemporaryDirectory() as tmp:
        ref = reference(Path(tmp))
        files = VoiceFiles(gpt=Path("(random)"), sovits=Path("(random)"), max_tokens=args.tokens + 1)
        voice = Voice.from_models(models, files)
        text, ref_text = PARAGRAPHS["en"], REF_TEXT["en"]

        # baseline: what `gsv infer` runs (whole text, then the wav), same cut and seed
        synth = Synthesizer(models, max_tokens=args.tokens + 1)
        p = SynthesisParams(text=text, lang="en", ref=str(ref), ref_text=ref_text, ref_lang="en", cut="cut5",
                            seed=1, batch_size=1)
        base = synth.synthesize(p)  # warm-up

        state = ServerState(files=files, workspace=Path(tmp), rules=PathRules([Path(tmp)]), version="v2",
                            max_waiting=args.clients + 1)
        worker = ModelWorker(max_waiting=args.clients + 1, load=lambda _files: voice)
        running = server.start(state, worker, server.bind("127.0.0.1", 0))
        try:
            body = {"text": text, "text_lang": "en", "ref_audio_path": str(ref), "prompt_text": ref_text,
                    "prompt_lang": "en", "seed": 1, "media_type": "raw", "min_chunk_length": args.chunk}
            timed_request(running.url, body)  # warm-up through the server (reference cache filled, as in use)
            infer_runs: list[float] = []
            mode_runs: dict[int, list[dict]] = {m: [] for m in (0, 1, 2, 3)}
            for _ in range(args.runs):  # interleaved, so a change in the machine's load hits all alike
                t0 = time.perf_counter()
                synth.synthesize(p)
                infer_runs.append(time.perf_counter() - t0)
                for m in mode_runs:
                    mode_runs[m].append(timed_request(running.url, {**body, "streaming_mode": m}))
            infer_s = statistics.median(infer_runs)
            modes = {m: {k: statistics.median(r[k] for r in runs) for k in runs[0]} for m, runs in mode_runs.items()}
            results: list[dict] = []

            def client() -> None:
                results.append(timed_request(running.url, {**body, "streaming_mode": 0}))

            threads = [threading.Thread(target=client) for _ in range(args.clients)]
            t0 = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            together_s = time.perf_counter() - t0
        finally:
            running.stop()

    whole = modes[0]["total_s"]
    report = {
        "device": models.placement.label, "threads": args.threads, "tokens_per_piece": args.tokens,
        "pieces": len(base.pieces), "audio_s": round(base.duration, 2),
        "gsv_infer_s": round(infer_s, 2), "gsv_infer_rtf": round(infer_s / base.duration, 3),
        **{f"mode{m}": {"first_byte_s": round(r["first_byte_s"], 2), "total_s": round(r["total_s"], 2),
                        "rtf": round(r["total_s"] / max(1e-9, r["audio_s"]), 3),
                        "first_byte_vs_non_streamed": round(r["first_byte_s"] / whole, 3),
                        "total_vs_gsv_infer": round(r["total_s"] / infer_s, 3)} for m, r in modes.items()},
        "concurrent": {"clients": args.clients, "wall_s": round(together_s, 2),
                       "audio_s_per_wall_s": round(sum(r["audio_s"] for r in results) / together_s, 3),
                       "vs_sequential_gsv_infer": round(together_s / (infer_s * args.clients), 3)},
    }
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
