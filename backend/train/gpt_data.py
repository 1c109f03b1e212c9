"""GPT training data: items of an experiment folder, the length-bucket sampler, the collate.

The rules of the official ``Text2SemanticDataset`` / ``DistributedBucketSampler`` /
``collate`` (``AR/data/``):

- items = :meth:`ExpFolder.gpt_items` (phones present, at most ``max_sec·25`` tokens and
  ``max_sec·10`` phones, 3–25 phones per second); an item is ``(phone ids [Tx],
  semantic ids [Ty], bert [1024, Tx])`` (BERT zeros when ``3-bert/<item>.pt`` is missing);
- fewer than 100 items are repeated ``max(2, int(100 / n))`` times;
- batch size = ``max(min(batch, len(dataset) // 4), 1)``, halved first for DPO;
- the sampler sorts items by duration (tokens / 25), cuts them into buckets 2 s wide, shuffles
  inside each bucket, cuts the result into batches of ``batch · world`` and shuffles the batches
  (a generator seeded by ``seed + epoch``, so a resumed epoch draws the same batches), pads the
  list to a multiple of the world size and deals every ``world``-th item to each rank;
- the collate right-pads phones with 0, semantic ids with ``pad_val`` (1024) and BERT with zeros.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from typing import Any, Iterator

import torch
import torch.nn.functional as F

from .data import GPT_MAX_SEC, TOKENS_PER_SECOND, ExpFolder, ExpFolderError

REPEAT_TO = 100
PAD_SEMANTIC = 1024
BUCKET_WIDTH_S = 2.0


@dataclass
class GPTItem:
    key: str
    phone_ids: torch.Tensor  # [Tx] int64
    semantic_ids: torch.Tensor  # [Ty] int64
    bert: torch.Tensor  # [1024, Tx] float32


class GPTDataset(torch.utils.data.Dataset):
    """The experiment folder's usable items, loaded once, repeated for small datasets."""

    def __init__(self, exp: ExpFolder, max_sec: int = GPT_MAX_SEC, repeat_to: int = REPEAT_TO) -> None:
        keys = exp.gpt_items(max_sec)
        if not keys:
            raise ExpFolderError(f"{exp.root}: no clip is usable for GPT training (phones, tokens and their "
                                 "rate must be plausible)", "run `gsv format` on a reviewed transcript first")
        self.unique_keys = keys
        self.items = [GPTItem(k, torch.tensor(exp.phone_ids(k), dtype=torch.long),
                              torch.tensor(exp.tokens(k), dtype=torch.long), exp.bert(k).float()) for k in keys]
        n = len(self.items)
        self.repeat = max(2, int(repeat_to / n)) if n < repeat_to else 1
        self.order = [i for _ in range(self.repeat) for i in range(n)]

    def __len__(self) -> int:
        return len(self.order)

    def __getitem__(self, idx: int) -> GPTItem:
        return self.items[self.order[idx]]

    @property
    def durations(self) -> list[float]:
        return [len(self.items[i].semantic_ids) / TOKENS_PER_SECOND for i in self.order]


def effective_batch_size(batch_size: int, n_items: int, dpo: bool = False) -> int:
    """The official rule: DPO halves the batch, and a batch never exceeds a quarter of the data."""
    b = max(1, batch_size // 2) if dpo else batch_size
    return max(min(b, n_items // 4), 1)


class BucketSampler(torch.utils.data.Sampler):
    """Batches of similar durations for one rank (see the module docstring)."""

    def __init__(self, durations: list[float], batch_size: int, world_size: int = 1, rank: int = 0,
                 seed: int = 1234, shuffle: bool = True) -> None:
        self.batch_size, self.world_size, self.rank, self.seed, self.shuffle = batch_size, world_size, rank, seed, shuffle
        self.epoch = 0
        ordered = sorted(range(len(durations)), key=lambda i: durations[i])
        buckets: list[list[int]] = []
        edge = BUCKET_WIDTH_S
        cur: list[int] = []
        for i in ordered:
            while durations[i] >= edge:
                if cur:
                    buckets.append(cur)
                cur, edge = [], edge + BUCKET_WIDTH_S
            cur.append(i)
        if cur:
            buckets.append(cur)
        self.buckets = buckets
        self.n_items = len(durations)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def _mine(self) -> list[int]:
        rng = random.Random(self.seed + self.epoch)
        buckets = [list(b) for b in self.buckets]
        if self.shuffle:
            for b in buckets:
                rng.shuffle(b)
        flat = list(itertools.chain(*buckets))
        group = self.batch_size * self.world_size
        batches = [flat[i:i + group] for i in range(0, len(flat), group)]
        if self.shuffle:
            rng.shuffle(batches)
        flat = list(itertools.chain(*batches))
        flat += flat[: (-len(flat)) % self.world_size]
        return flat[self.rank::self.world_size]

    def __iter__(self) -> Iterator[list[int]]:
        mine = self._mine()
        for i in range(0, len(mine), self.batch_size):
            yield mine[i:i + self.batch_size]

    def __len__(self) -> int:
        per_rank = -(-self.n_items // self.world_size)
        return -(-per_rank // self.batch_size)


def collate(items: list[GPTItem], pad_val: int = PAD_SEMANTIC) -> dict[str, Any]:
    """Official batch: ``phoneme_ids`` [B,Tx] (0-padded), ``semantic_ids`` [B,Ty] (``pad_val``-padded),
    their lengths, ``bert_feature`` [B,1024,Tx] (zero-padded)."""
    tx = max(len(it.phone_ids) for it in items)
    ty = max(len(it.semantic_ids) for it in items)
    return {
        "ids": [it.key for it in items],
        "phoneme_ids": torch.stack([F.pad(it.phone_ids, (0, tx - len(it.phone_ids)), value=0) for it in items]),
        "phoneme_ids_len": torch.tensor([len(it.phone_ids) for it in items], dtype=torch.long),
        "semantic_ids": torch.stack([F.pad(it.semantic_ids, (0, ty - len(it.semantic_ids)), value=pad_val)
                                     for it in items]),
        "semantic_ids_len": torch.tensor([len(it.semantic_ids) for it in items], dtype=torch.long),
        "bert_feature": torch.stack([F.pad(it.bert, (0, tx - it.bert.shape[1])) for it in items]),
    }
