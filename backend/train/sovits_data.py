"""SoVITS training data: items of an experiment folder, the length-bucket sampler, the collate.

Same rules and tensors as the official trainer (``TextAudioSpeakerLoader``, ``DistributedBucketSampler``,
``TextAudioSpeakerCollate``), so a batch built here equals the official one for the same items:

- an item is ``(ssl [1, 768, T], spec [1025, T], wav [1, N], phone ids [L], sv [20480] | None)``:
  the linear spectrogram of the 32 kHz wav (``N // 640`` frames); the stored HuBERT features are
  replicate-padded by one frame when their length differs from the spectrogram's;
- a dataset of fewer than 100 items is repeated ``max(2, 100 // n)`` times (``repeat_to``);
- the sampler groups items by ``wav bytes // 1280`` (the spectrogram length read from the file
  size) into buckets bounded by 32, 300, 400, …, 1900 frames (items outside are dropped), pads
  each bucket by repetition to a multiple of ``batch_size · world_size``, deals it to the ranks,
  and shuffles items and batches with a generator seeded by the epoch;
- the collate sorts by spectrogram length (longest first) and pads ssl/spec to the even length
  ``2·(max//2 + 1)``, wav to the longest, phone ids to the longest with 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

import torch
import torch.nn.functional as F

from ..format import layout
from ..models.mel import spectrogram
from .data import ExpFolder, ExpFolderError

BOUNDARIES = (32, *range(300, 2000, 100))
HOP = 640
REPEAT_TO = 100


@dataclass(frozen=True)
class SpecSettings:
    filter_length: int = 2048
    hop_length: int = HOP
    win_length: int = 2048
    sampling_rate: int = 32000


class SoVITSDataset(torch.utils.data.Dataset):
    """The trainable items of an experiment folder (official selection; see :mod:`backend.train.data`)."""

    def __init__(self, exp: ExpFolder, repeat_to: int = REPEAT_TO, spec: SpecSettings = SpecSettings()) -> None:
        self.exp = exp
        self.spec = spec
        self.with_sv = layout.needs_sv(exp.version)
        keys = exp.sovits_items()
        if len(keys) < 2:
            raise ExpFolderError(
                f"{exp.root} has {len(keys)} usable clip(s) for SoVITS training; at least 2 are needed "
                "(clips must be 0.6–54 s and have phones, HuBERT features and a 32 kHz wav"
                + (", and a speaker embedding" if self.with_sv else "") + ")",
                "add clips to the transcript and re-run `gsv format`")
        self.unique_keys = keys
        if repeat_to and len(keys) < repeat_to:
            keys = keys * max(2, repeat_to // len(keys))
        self.keys = keys
        self.lengths = [layout.wav32k_path(exp.root, k).stat().st_size // (2 * spec.hop_length) for k in keys]

    def __len__(self) -> int:
        return len(self.keys)

    def __getitem__(self, i: int) -> tuple[Any, ...]:
        key = self.keys[i]
        wav = self.exp.wav32k(key).unsqueeze(0)
        s = self.spec
        spec = spectrogram(wav, s.filter_length, s.sampling_rate, s.hop_length, s.win_length, center=False)[0]
        ssl = self.exp.ssl(key).detach()  # stored features may carry requires_grad
        if ssl.shape[-1] != spec.shape[-1]:
            ssl = F.pad(ssl, (0, 1), mode="replicate")
        text = torch.tensor(self.exp.phone_ids(key), dtype=torch.long)
        sv = self.exp.sv(key).detach().reshape(-1) if self.with_sv else None
        return ssl, spec, wav, text, sv


class BucketSampler(torch.utils.data.Sampler):
    """Length-bucketed batches for one rank (see the module docstring)."""

    def __init__(self, lengths: list[int], batch_size: int, world_size: int = 1, rank: int = 0,
                 boundaries: tuple[int, ...] = BOUNDARIES, shuffle: bool = True) -> None:
        self.lengths = lengths
        self.batch_size = batch_size
        self.world_size = world_size
        self.rank = rank
        self.shuffle = shuffle
        self.epoch = 0
        buckets: list[list[int]] = [[] for _ in boundaries[:-1]]
        for i, n in enumerate(lengths):
            b = _bucket_of(n, boundaries)
            if b >= 0:
                buckets[b].append(i)
        self.buckets = [b for b in buckets if b]
        if not self.buckets:
            raise ExpFolderError(f"no clip is between {boundaries[0] * HOP / 32000:.1f} and "
                                 f"{boundaries[-1] * HOP / 32000:.0f} s long", "add longer clips and re-run `gsv format`")
        total = batch_size * world_size
        self.samples_per_bucket = [len(b) + (total - len(b) % total) % total for b in self.buckets]

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def _batches(self) -> list[list[int]]:
        g = torch.Generator()
        g.manual_seed(self.epoch)
        batches: list[list[int]] = []
        for bucket, n_samples in zip(self.buckets, self.samples_per_bucket):
            order = torch.randperm(len(bucket), generator=g).tolist() if self.shuffle else list(range(len(bucket)))
            rem = n_samples - len(bucket)
            order = order + order * (rem // len(bucket)) + order[: rem % len(bucket)]
            mine = order[self.rank:: self.world_size]
            for j in range(len(mine) // self.batch_size):
                batches.append([bucket[k] for k in mine[j * self.batch_size: (j + 1) * self.batch_size]])
        if self.shuffle:
            batches = [batches[i] for i in torch.randperm(len(batches), generator=g).tolist()]
        return batches

    def __iter__(self) -> Iterator[list[int]]:
        return iter(self._batches())

    def __len__(self) -> int:
        return sum(n // self.world_size // self.batch_size for n in self.samples_per_bucket)


def _bucket_of(n: int, boundaries: tuple[int, ...]) -> int:
    """Index b with ``boundaries[b] < n <= boundaries[b+1]``, or -1."""
    for b in range(len(boundaries) - 1):
        if boundaries[b] < n <= boundaries[b + 1]:
            return b
    return -1


def collate(batch: list[tuple[Any, ...]]) -> dict[str, torch.Tensor]:
    """Official padding and order (see the module docstring); ``sv`` only for v2Pro/v2ProPlus."""
    order = torch.argsort(torch.tensor([x[1].size(1) for x in batch]), descending=True, stable=True).tolist()
    rows = [batch[i] for i in order]
    ssl_len = 2 * (max(r[0].size(2) for r in rows) // 2 + 1)
    spec_len = 2 * (max(r[1].size(1) for r in rows) // 2 + 1)
    wav_len = max(r[2].size(1) for r in rows)
    text_len = max(r[3].size(0) for r in rows)
    n = len(rows)
    out = {"ssl": torch.zeros(n, rows[0][0].size(1), ssl_len), "ssl_lengths": torch.zeros(n, dtype=torch.long),
           "spec": torch.zeros(n, rows[0][1].size(0), spec_len), "spec_lengths": torch.zeros(n, dtype=torch.long),
           "wav": torch.zeros(n, 1, wav_len), "wav_lengths": torch.zeros(n, dtype=torch.long),
           "text": torch.zeros(n, text_len, dtype=torch.long), "text_lengths": torch.zeros(n, dtype=torch.long)}
    for i, (ssl, spec, wav, text, _sv) in enumerate(rows):
        out["ssl"][i, :, : ssl.size(2)] = ssl[0]
        out["ssl_lengths"][i] = ssl.size(2)
        out["spec"][i, :, : spec.size(1)] = spec
        out["spec_lengths"][i] = spec.size(1)
        out["wav"][i, :, : wav.size(1)] = wav
        out["wav_lengths"][i] = wav.size(1)
        out["text"][i, : text.size(0)] = text
        out["text_lengths"][i] = text.size(0)
    if rows[0][4] is not None:
        out["sv"] = torch.stack([r[4] for r in rows])
    return out
