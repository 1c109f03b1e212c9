"""Does masking the *real* text padding (our default) hurt compared with the official left-pad mask?

CPU experiment on the tiny GPT (``tests/fixtures/gpt_v2_tiny``) and the two formatted fixture clips
(26 and 17 phones, so the official mask hides the first 9 phones of the shorter clip and shows
its 9 pad tokens). Both variants train the same number of batches of the two clips together
(official collate, official accumulate-then-step ScaledAdam schedule, dropout on, same seeds);
then each clip is scored **alone** (batch of one, where both masks agree: what inference sees)
as cross-entropy per target token. Run: ``python bench/gpt_text_padding.py [batches] [seeds]``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from backend.models.gpt.training import forward_train  # noqa: E402
from backend.train.data import ExpFolder  # noqa: E402
from backend.train.gpt import GPTTrainer, load_base  # noqa: E402
from backend.train.gpt_data import GPTDataset, collate  # noqa: E402

BASE = ROOT / "tests" / "fixtures" / "gpt_v2_tiny" / "gpt_v2_tiny.ckpt"
EXP = ROOT / "tests" / "fixtures" / "format" / "exp"


def per_token_ce(model, items) -> list[float]:
    model.eval()
    out = []
    with torch.no_grad():
        for it in items:
            b = collate([it])
            r = forward_train(model, b["phoneme_ids"], b["phoneme_ids_len"], b["semantic_ids"],
                              b["semantic_ids_len"], b["bert_feature"], text_padding="right")
            out.append(float(r.loss) / r.targets.numel())
    return out


def run(mode: str, batches: int, seed: int, items) -> list[float]:
    torch.manual_seed(seed)
    model = load_base(BASE)
    tr = GPTTrainer(model, text_padding=mode)
    batch = collate(items)
    model.train()
    for i in range(batches):
        tr.train_batch(batch, i)
    return per_token_ce(model, items)


def main() -> None:
    torch.set_num_threads(1)
    batches = int(sys.argv[1]) if len(sys.argv) > 1 else 81
    seeds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    items = GPTDataset(ExpFolder(EXP, "v2")).items
    print("clips:", ", ".join(f"{it.key} ({len(it.phone_ids)} phones)" for it in items))
    print("before training:", " ".join(f"{v:.4f}" for v in per_token_ce(load_base(BASE), items)))
    for mode in ("official", "right"):
        rows = [run(mode, batches, s, items) for s in range(seeds)]
        means = [sum(r[i] for r in rows) / len(rows) for i in range(len(items))]
        print(f"{mode:9s} after {batches} batches ({(batches - 1) // 4} steps), {seeds} seeds: per-clip CE/token "
              + " ".join(f"{m:.4f}" for m in means) + f"  (seeds: {[[round(v, 4) for v in r] for r in rows]})")


if __name__ == "__main__":
    main()
