"""What a checkup adds to training: its cost per export on the CPU, split into synthesis, ASR and
likeness (speaker-verification embeddings).

Setup: the default evaluation set of the language (34 English sentences); full-size models with
random weights — v2 SoVITS, v2 GPT (24 layers, 512 wide) and HuBERT-base as in
``bench/infer_rtf.py`` (the GPT's end token is never drawn with random weights, so every take
runs to ``--tokens``, default 75 = 3 s, about the length of the set's average sentence), a
random ERes2NetV2 of the official size, and a random Whisper of the ``--whisper`` size converted
for faster-whisper (its vocabulary is the tests' small byte-level one, and its transcripts are
noise of whatever length it decodes: the ASR share is the encoder's cost plus that decoding).
One export is scored through the checkup's own code (:class:`backend.checkup.evaluate.Checkup`,
models handed in instead of read from files); a checkup costs this per SoVITS export plus per
GPT export but one. The shares are the useful figure: absolute seconds depend on this
machine's load.

    python bench/checkup_time.py [--lang en|zh|ja] [--limit N] [--tokens 75] [--whisper small|medium]
                                 [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import soundfile as sf
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

from backend.checkup.evaluate import Checkup, Evaluation, Pair  # noqa: E402
from backend.checkup.sentences import BUILT_IN  # noqa: E402

REF_TEXT = {"en": "This is the voice we want to hear again.", "zh": "这是我们想要再次听到的声音。",
            "ja": "これは、もう一度聞きたい声です。"}


class PrebuiltCheckup(Checkup):
    """The checkup with its models handed in (random full-size weights are not files)."""

    def __init__(self, ev: Evaluation, models: object) -> None:
        super().__init__(ev, info=lambda _text: None)
        self.models = models

    def _load(self, pair: Pair) -> object:
        return self.models


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lang", choices=sorted(BUILT_IN), default="en")
    ap.add_argument("--limit", type=int, default=None, help="first N sentences (default: the whole set)")
    ap.add_argument("--tokens", type=int, default=75, help="semantic tokens per take (25 per second)")
    ap.add_argument("--whisper", choices=("small", "medium"), default="small")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from asr_models import WHISPER_SIZES, build_tiny_whisper
    from audio_synth import speechlike
    from infer_rtf import build_models

    from backend.models.safe_pickle import save_checkpoint
    from backend.models.sv import ERes2NetV2
    from backend.text.langsplit import _lite_model, use_langid_model

    use_langid_model(_lite_model())
    with tempfile.TemporaryDirectory(prefix="bench-checkup-") as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        models = build_models("cpu", "auto", "en" if args.lang != "zh" else "zh")
        print(f"models built in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        whisper = build_tiny_whisper(root / "whisper", WHISPER_SIZES[args.whisper])
        print(f"Whisper built at {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        torch.manual_seed(0)
        sv = root / "sv.ckpt"
        sv.write_bytes(save_checkpoint(ERes2NetV2().state_dict()))
        build_s = time.perf_counter() - t0
        ref = root / "ref.wav"
        sf.write(ref, speechlike(5.0, 32000, seed=3), 32000, subtype="PCM_16")
        clips = []
        for i in range(12):
            clips.append(root / f"clip{i}.wav")
            sf.write(clips[-1], speechlike(4.0, 32000, seed=10 + i), 32000, subtype="PCM_16")
        sentences = list(BUILT_IN[args.lang])[: args.limit]
        ev = Evaluation(project_root=root, language=args.lang, sentences=sentences,
                        reference={"audio_path": str(ref), "text": REF_TEXT[args.lang], "language": args.lang},
                        out=root / "checkups" / "bench.json", asr_model=str(whisper), asr_device="cpu",
                        sv=sv, device="cpu", max_tokens=args.tokens + 1)  # + 1: the official idx quirk drops one
        checkup = PrebuiltCheckup(ev, models)
        t0 = time.perf_counter()
        checkup.prepare_likeness(clips)
        setup_likeness_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        checkup.asr()
        setup_asr_s = time.perf_counter() - t0
        checkup.progress = lambda done, total, label: print(f"{done}/{total} {label}", file=sys.stderr)
        # warm-up on the last sentence: first-call costs (text frontend data, HuBERT, oneDNN kernels)
        # belong to the checkup once, not to each export
        warm = Evaluation(**{**ev.__dict__, "sentences": sentences[-1:]})
        checkup.ev, checkup.total = warm, 1
        checkup.evaluate(Pair(Path("gpt.ckpt"), Path("sovits.pth"), "sovits"), 0)
        checkup.ev, checkup.total, checkup.done = ev, len(sentences), 0
        cpu0 = time.process_time()
        pair = checkup.evaluate(Pair(Path("gpt.ckpt"), Path("sovits.pth"), "sovits"), 1)
        cpu_s = time.process_time() - cpu0
    t = pair.timings
    total = sum(t.values())
    audio_s = len(sentences) * args.tokens / 25.0
    print(json.dumps({
        "lang": args.lang, "sentences": len(sentences), "tokens_per_take": args.tokens, "whisper": args.whisper,
        "threads": args.threads, "build_s": round(build_s, 1),
        "per_export_s": round(total, 1), "per_take_s": round(total / len(sentences), 2),
        "per_export_cpu_s": round(cpu_s, 1),
        "synthesis_s": t["synthesis_s"], "asr_s": t["asr_s"], "likeness_s": t["likeness_s"],
        "shares": {k.removesuffix("_s"): round(v / total, 3) for k, v in t.items()},
        "speech_s": round(audio_s, 1),
        "once_per_checkup_s": {"asr_load": round(setup_asr_s, 1), "likeness_reference_and_centroid":
                               round(setup_likeness_s, 1)},
        "mean_transcript_chars": round(sum(len(x.transcript) for x in pair.takes) / len(pair.takes), 1),
    }, indent=1))


if __name__ == "__main__":
    main()
