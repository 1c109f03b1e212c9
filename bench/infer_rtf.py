"""End-to-end synthesis speed: real-time factor of the whole pipeline, GPT tokens/s and SoVITS RTF.

Setup: full-size models with random weights rounded to float16 (as in every weights file) —
v2 SoVITS (``s2.json``), v2 GPT (``s1longer-v2``: 24 layers, 512 wide), HuBERT-base (12
layers, 768); the GPT's EOS row zeroed so every piece runs to the same length (random
weights never say "stop"; ``--tokens`` per piece, default 100 = 4 s of speech); a 5 s
speech-like reference with its text; an English 3-sentence paragraph (no BERT needed;
``--lang zh`` uses a Chinese paragraph and a random full-size BERT-large). Each run goes
through :class:`backend.infer.pipeline.Synthesizer` exactly as ``gsv infer`` does: reference
loading, HuBERT prompt, spectrogram, text frontend, GPT, SoVITS, concatenation.

Baseline in the same run: the same request with ``batch_size 1`` (pieces generated one at a
time, the classic UI's way); ours: the three pieces generated as one batch (the fast UI's
way). The ratio is printed because this machine's speed varies with its load.

    python bench/infer_rtf.py [--runs 3] [--threads 2] [--tokens 100] [--device cpu|cuda]
                              [--precision auto|fp32|fp16|bf16] [--lang en|zh]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import soundfile as sf
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from backend.infer.device import choose  # noqa: E402
from backend.infer.models import ModelSet  # noqa: E402
from backend.infer.params import SynthesisParams  # noqa: E402
from backend.infer.pipeline import Synthesizer  # noqa: E402

PARAGRAPHS = {
    "en": ("The weather was calm when the boat left the harbour this morning. Nobody on board expected "
           "the storm that came in from the west. By noon, every sail had been taken down and tied."),
    "zh": "今天早上出发的时候天气很好。没有人想到下午会有一场大雨。我们只好在山脚下的小店里等了两个小时。",
}
REF_TEXT = {"en": "This is the voice we want to hear again.", "zh": "这是我们想要再次听到的声音。"}


def _fp16_round(model: torch.nn.Module, seed: int) -> None:
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() == 1 and torch.all(p == p.flatten()[0]):
                p.add_(torch.randn(p.shape, generator=g) * 0.1)
            p.copy_(p.half().float())


def build_models(device: str, precision: str, lang: str, seed: int = 0) -> ModelSet:
    from transformers import HubertConfig, HubertModel

    from backend.models.gpt import S1LONGER_V2, Text2SemanticDecoder
    from backend.models.sovits import SoVITS, SoVITSConfig
    from backend.models.ssl import ContentEncoder

    placement = choose(device, precision)
    torch.manual_seed(seed)
    sovits = SoVITS(SoVITSConfig.for_version("v2"), with_posterior=False)
    cb = sovits.quantizer.vq.layers[0]._codebook
    cb.embed.normal_(0, 0.6)
    cb.inited.fill_(1)
    _fp16_round(sovits, seed + 1)
    with torch.no_grad():
        for p in sovits.flow.parameters():  # zero-initialised coupling outputs would make the flow a no-op
            if p.dim() == 3 and not p.any():
                p.normal_(0, 0.01)
    sovits = sovits.to(placement.device, placement.dtype).prepare_for_inference()
    if placement.vocoder_dtype is not None:  # as load_models does
        sovits.set_vocoder_dtype(placement.vocoder_dtype)
    gpt = Text2SemanticDecoder(S1LONGER_V2)
    with torch.no_grad():
        for p in gpt.parameters():
            if p.dim() > 1:
                p.normal_(0, 0.02)
        _fp16_round(gpt, seed + 2)
        gpt.ar_predict_layer.weight[S1LONGER_V2.EOS] = 0
    gpt = gpt.to(placement.device, placement.dtype).eval()
    models = ModelSet(gpt=gpt, sovits=sovits, placement=placement, gpt_path="(random)", sovits_path="(random)")
    models._hubert = ContentEncoder(HubertModel(HubertConfig()), placement.device, placement.dtype)
    if lang == "zh":
        from transformers import BertConfig, BertForMaskedLM, BertTokenizerFast

        from backend.text.bert import ChineseBert

        folder = Path(tempfile.mkdtemp(prefix="bench-bert-"))
        vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *sorted(set(PARAGRAPHS["zh"] + REF_TEXT["zh"]))]
        (folder / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
        tok = BertTokenizerFast(vocab_file=str(folder / "vocab.txt"))
        bert = BertForMaskedLM(BertConfig(vocab_size=len(vocab), hidden_size=1024, num_hidden_layers=24,
                                          num_attention_heads=16, intermediate_size=4096)).eval()
        models._bert = ChineseBert(bert.to(placement.device, placement.dtype), tok, placement.device,
                                   placement.dtype)
    return models


def reference(folder: Path) -> Path:
    from audio_synth import speechlike

    path = folder / "ref.wav"
    sf.write(path, speechlike(5.0, 32000, seed=3), 32000, subtype="PCM_16")
    return path


def timed(synth: Synthesizer, p: SynthesisParams, device: str) -> dict:
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    cpu0, t0 = time.process_time(), time.perf_counter()
    r = synth.synthesize(p)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    t = r.timings
    return {"wall_s": wall, "cpu_s": cpu, "audio_s": r.duration, "rtf": wall / r.duration,
            "gpt_tokens": t.gpt_tokens, "gpt_tokens_per_s": t.gpt_tokens_per_s,
            "sovits_s": t.sovits_s, "gpt_s": t.gpt_s, "reference_s": t.reference_s, "text_s": t.text_s, "sovits_rtf": t.sovits_s / max(1e-9, r.duration - p.pause * len(r.pieces)),
            "pieces": len(r.pieces)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--tokens", type=int, default=100, help="semantic tokens per piece (25 per second)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--precision", default="auto")
    ap.add_argument("--lang", choices=sorted(PARAGRAPHS), default="en")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from backend.text.langsplit import _lite_model, use_langid_model

    use_langid_model(_lite_model())
    t0 = time.perf_counter()
    models = build_models(args.device, args.precision, args.lang)
    build_s = time.perf_counter() - t0
    synth = Synthesizer(models, max_tokens=args.tokens + 1)  # + 1: the official idx quirk drops one
    lang = "en" if args.lang == "en" else "all_zh"
    with tempfile.TemporaryDirectory() as tmp:
        ref = reference(Path(tmp))
        common = dict(text=PARAGRAPHS[args.lang], lang=lang, ref=str(ref), ref_text=REF_TEXT[args.lang],
                      ref_lang=lang, cut="cut4" if args.lang == "en" else "cut3", seed=1)
        batched = SynthesisParams(**common, batch_size=3)
        single = SynthesisParams(**common, batch_size=1)
        timed(synth, batched, args.device)  # warm-up (first-call allocations, oneDNN primitives)
        runs = {"one_at_a_time": [], "batched": []}
        for _ in range(args.runs):
            runs["one_at_a_time"].append(timed(synth, single, args.device))
            runs["batched"].append(timed(synth, batched, args.device))

    def med(name: str, key: str) -> float:
        return statistics.median(r[key] for r in runs[name])

    report = {
        "device": models.placement.label, "threads": args.threads, "lang": args.lang,
        "pieces": runs["batched"][0]["pieces"], "tokens_per_piece": args.tokens,
        "audio_s": round(runs["batched"][0]["audio_s"], 2), "build_s": round(build_s, 1),
        **{f"{name}_{key}": round(med(name, key), 3) for name in runs
           for key in ("wall_s", "cpu_s", "rtf", "reference_s", "text_s", "gpt_s", "gpt_tokens_per_s", "sovits_s",
                       "sovits_rtf")},
    }
    report["batched_speedup_wall"] = round(med("one_at_a_time", "wall_s") / med("batched", "wall_s"), 2)
    report["batched_speedup_cpu"] = round(med("one_at_a_time", "cpu_s") / med("batched", "cpu_s"), 2)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
