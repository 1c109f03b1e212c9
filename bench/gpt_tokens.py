"""GPT generation speed: tokens/s of our cached decoder against an official-style one, same run.

Setup (as the official CPU measurement in the reference vectors): full-size v2 GPT
(``s1longer-v2``: 24 layers, 512 wide, 16 heads) with random weights rounded to float16 (as
in every real weights file), the EOS row of the predictor zeroed so EOS never wins, 75
phoneme positions with BERT features, a 75-token prompt, top_k 15, top_p 1, temperature 1,
repetition penalty 1.35 and ``early_stop_num=149`` → exactly 150 generated tokens.

The baseline is the official decoding scheme re-expressed on the same weights: per layer
``F.linear`` on the ``[out, in]`` weights, a key/value cache grown with ``torch.cat`` every
step, one ``scaled_dot_product_attention`` call. Both use the same sampler and the same
random draws, so they must produce the same tokens (checked). The official implementation
itself measured 31.1 tokens/s (best of 9) / 29.2 (median) on a 2-core AMD EPYC with torch
2.13 (``refvectors/bench_cpu``); the ratio printed is against the baseline run here, because
this machine's speed varies with its load.

    python bench/gpt_tokens.py [--runs 3] [--threads 2[,1]] [--device cpu]

On a machine shared with other busy processes, two-thread timings degrade badly (every
parallel kernel waits for a descheduled second thread); ``--threads 1,2`` reports both, and
process CPU time is reported next to wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backend.models.gpt import S1LONGER_V2, SamplingParams, Text2SemanticDecoder  # noqa: E402
from backend.models.gpt.masks import prefix_lm_allowed  # noqa: E402
from backend.models.gpt.sampling import sample  # noqa: E402

OFFICIAL_TOKENS_PER_S = {"best": 31.1, "median": 29.2}
PHONES, PROMPT, GENERATE = 75, 75, 150


def build_model(device: str, seed: int = 0) -> Text2SemanticDecoder:
    torch.manual_seed(seed)
    model = Text2SemanticDecoder(S1LONGER_V2)
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() > 1:
                p.normal_(0, 0.02)
            else:
                p.add_(torch.randn_like(p) * 0.1)
            p.copy_(p.half().float())
        model.ar_predict_layer.weight[S1LONGER_V2.EOS] = 0
    return model.to(device).eval()


def make_inputs(device: str, seed: int = 1):
    g = torch.Generator().manual_seed(seed)
    phones = torch.randint(0, S1LONGER_V2.phoneme_vocab_size, (1, PHONES), generator=g)
    bert = torch.randn(1, 1024, PHONES, generator=g)
    prompt = torch.randint(0, 1024, (1, PROMPT), generator=g)
    return phones.to(device), prompt.to(device), bert.to(device)


def draws_from(seed: int, device: str):
    g = torch.Generator(device=device).manual_seed(seed)
    return lambda shape, dtype, dev: torch.empty(shape, dtype=dtype, device=dev).exponential_(1, generator=g)


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


@torch.inference_mode()
def official_style(model: Text2SemanticDecoder, phones, prompt, bert, params, early_stop_num, draws):
    """Official decoding scheme (cat-grown cache, F.linear on [out,in] weights) on our weights."""
    cfg = model.config
    heads, c = cfg.head, cfg.hidden_dim
    bert = bert.to(model.dtype)
    xy = torch.cat([model.embed_text(phones, bert), model.embed_audio(prompt)], 1)
    tx, tp = phones.shape[1], prompt.shape[1]
    allowed = prefix_lm_allowed(tx, tp, xy.device)
    y = prompt
    ks, vs = [], []
    t0 = time.perf_counter()
    prefill_s = 0.0
    idx = 0
    for idx in range(1500):
        if idx == 0:
            x = xy
            for layer in model.h.layers:
                x, k, v = layer(x, allowed)
                ks.append(k.transpose(1, 2).reshape(1, -1, c))
                vs.append(v.transpose(1, 2).reshape(1, -1, c))
        else:
            for i, layer in enumerate(model.h.layers):
                a = layer.self_attn
                q, k, v = F.linear(x, a.in_proj_weight, a.in_proj_bias).chunk(3, dim=-1)
                ks[i] = torch.cat([ks[i], k], 1)
                vs[i] = torch.cat([vs[i], v], 1)
                n = ks[i].shape[1]
                qh = q.view(1, 1, heads, -1).transpose(1, 2)
                kh = ks[i].view(1, n, heads, -1).transpose(1, 2)
                vh = vs[i].view(1, n, heads, -1).transpose(1, 2)
                o = F.scaled_dot_product_attention(qh, kh, vh).transpose(1, 2).reshape(1, 1, -1)
                x = F.layer_norm(x + F.linear(o, a.out_proj.weight, a.out_proj.bias), (c,),
                                 layer.norm1.weight, layer.norm1.bias, layer.norm1.eps)
                h = F.linear(F.relu(F.linear(x, layer.linear1.weight, layer.linear1.bias)),
                             layer.linear2.weight, layer.linear2.bias)
                x = F.layer_norm(x + h, (c,), layer.norm2.weight, layer.norm2.bias, layer.norm2.eps)
        logits = model.ar_predict_layer(x[:, -1])
        if idx == 0:
            prefill_s = time.perf_counter() - t0
        if idx < 11:
            logits = logits[:, :-1]
        token = sample(logits, y, params, draws)
        y = torch.cat([y, token], 1)
        stop = early_stop_num != -1 and y.shape[1] - tp > early_stop_num
        if int(logits.argmax(-1)[0]) == cfg.EOS or int(token[0, 0]) == cfg.EOS:
            y, stop = y[:, :-1], True
        if stop:
            break
        emb = model.ar_audio_embedding(token)
        x = emb + model.ar_audio_position.at(tp + idx, emb)
    return y, idx, prefill_s


def time_ours(model, phones, prompt, bert, params, device, seed):
    sync(device)
    t, c = time.perf_counter(), time.process_time()
    gen = model.infer(phones, prompt, bert, top_k=params.top_k, top_p=params.top_p,
                      temperature=params.temperature, repetition_penalty=params.repetition_penalty,
                      early_stop_num=GENERATE - 1, draws=draws_from(seed, device))
    sync(device)
    return time.perf_counter() - t, time.process_time() - c, gen.tokens, gen.idx


def time_baseline(model, phones, prompt, bert, params, device, seed):
    sync(device)
    t, c = time.perf_counter(), time.process_time()
    y, idx, _ = official_style(model, phones, prompt, bert, params, GENERATE - 1, draws_from(seed, device))
    sync(device)
    return time.perf_counter() - t, time.process_time() - c, y, idx


def main(argv: list[str] | None = None) -> list[dict]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--threads", default="2", help="comma-separated thread counts, e.g. 2,1")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--dtype", default="float32", choices=["float32", "float16", "bfloat16"],
                    help="model dtype (half precision is for GPUs)")
    ap.add_argument("--json", type=Path, help="also write the reports here")
    args = ap.parse_args(argv)
    model = build_model(args.device).to(getattr(torch, args.dtype))
    phones, prompt, bert = make_inputs(args.device)
    reports = []
    for threads in (int(t) for t in args.threads.split(",")):
        torch.set_num_threads(threads)
        reports.append(measure(model, phones, prompt, bert, args.device, args.runs, threads))
        print(json.dumps(reports[-1], indent=1), flush=True)
    if args.json:
        args.json.write_text(json.dumps(reports, indent=1))
    if not all(r["same_tokens_as_baseline"] for r in reports):
        print("ERROR: our tokens differ from the baseline's", file=sys.stderr)
        sys.exit(1)
    return reports


def measure(model, phones, prompt, bert, device: str, runs: int, threads: int) -> dict:
    params = SamplingParams(top_k=15, top_p=1.0, temperature=1.0, repetition_penalty=1.35)

    # warm-up (and the same-tokens check)
    *_, ours_y, ours_idx = time_ours(model, phones, prompt, bert, params, device, 7)
    *_, base_y, base_idx = time_baseline(model, phones, prompt, bert, params, device, 7)
    generated = ours_y.shape[1] - PROMPT
    same = torch.equal(ours_y.cpu(), base_y.cpu()) and ours_idx == base_idx
    ours, base, ours_cpu, base_cpu = [], [], [], []
    for r in range(runs):  # interleaved so both see the same machine load
        wall, cpu, *_ = time_ours(model, phones, prompt, bert, params, device, 100 + r)
        ours.append(wall)
        ours_cpu.append(cpu)
        wall, cpu, *_ = time_baseline(model, phones, prompt, bert, params, device, 100 + r)
        base.append(wall)
        base_cpu.append(cpu)
    report = {
        "device": device, "dtype": str(model.dtype), "threads": threads, "torch": torch.__version__,
        "load_average_1min": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "half_stored_weights": model.decode_weights().half_stored,
        "generated_tokens": generated, "same_tokens_as_baseline": same,
        "ours_s": ours, "baseline_s": base, "ours_cpu_s": ours_cpu, "baseline_cpu_s": base_cpu,
        "ours_tokens_per_s": {"best": generated / min(ours), "median": generated / statistics.median(ours)},
        "baseline_tokens_per_s": {"best": generated / min(base), "median": generated / statistics.median(base)},
        "speedup_vs_baseline": {"best": min(base) / min(ours), "median": statistics.median(base) / statistics.median(ours)},
        "cpu_time_ratio_vs_baseline": statistics.median(base_cpu) / statistics.median(ours_cpu),
        "official_recorded_tokens_per_s": OFFICIAL_TOKENS_PER_S,
    }
    report["ratio_vs_official_recorded"] = {
        k: report["ours_tokens_per_s"][k] / OFFICIAL_TOKENS_PER_S[k] for k in ("best", "median")}
    return report


if __name__ == "__main__":
    main()
