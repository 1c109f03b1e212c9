"""Speaker-verification embedding for v2Pro/v2ProPlus: Kaldi fbank + ERes2NetV2 fused map.

The official code computes an 80-bin Kaldi-compatible log-mel fbank (16 kHz, 25 ms Povey window,
10 ms shift, pre-emphasis 0.97, DC removal, power spectrum, no dither, ``snip_edges``) per
utterance, runs ERes2NetV2 (``baseWidth 24, scale 4, expansion 4``) up to the fusion of its
last two stages (``[B, 2048, 10, T']``) and averages that map over time after flattening
channels × frequency: a ``[B, 20480]`` vector that SoVITS' ``sv_emb`` projects to the
speaker space. Weights: ``sv/pretrained_eres2netv2w24s4ep4.ckpt`` (a plain state dict; the
unused ``seg_1`` head is part of it, so we build it too and load strictly).

Reference audio arrives at 32 kHz and is resampled to 16 kHz with a windowed-sinc filter of
the parameters the official resampler uses (Hann window, 6 zero crossings, roll-off 0.99).
"""

from __future__ import annotations

import math
import os
from functools import lru_cache
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

SAMPLE_RATE = 16000
EMBED_DIM = 20480


# ----------------------------------------------------------------------------- features
def _kaldi_mel(freq: torch.Tensor) -> torch.Tensor:
    return 1127.0 * torch.log(1.0 + freq / 700.0)


@lru_cache(maxsize=8)
@torch.inference_mode(False)  # cached: must stay usable with autograd
def kaldi_mel_banks(num_bins: int, padded_window: int, sample_rate: float, low_freq: float,
                    high_freq: float) -> torch.Tensor:
    """Triangular filters on Kaldi's mel scale, ``[num_bins, padded_window // 2 + 1]`` float32."""
    n_fft_bins = padded_window // 2
    nyquist = 0.5 * sample_rate
    if high_freq <= 0:
        high_freq += nyquist
    bin_width = sample_rate / padded_window
    mel_low = _kaldi_mel(torch.tensor(low_freq, dtype=torch.float32))
    mel_high = _kaldi_mel(torch.tensor(high_freq, dtype=torch.float32))
    delta = (mel_high - mel_low) / (num_bins + 1)
    i = torch.arange(num_bins, dtype=torch.float32)[:, None]
    left = mel_low + i * delta
    center = mel_low + (i + 1.0) * delta
    right = mel_low + (i + 2.0) * delta
    mel = _kaldi_mel(bin_width * torch.arange(n_fft_bins, dtype=torch.float32))[None, :]
    up = (mel - left) / (center - left)
    down = (right - mel) / (right - center)
    banks = torch.clamp(torch.minimum(up, down), min=0.0)
    return F.pad(banks, (0, 1))  # the Nyquist bin gets no weight


@lru_cache(maxsize=4)
@torch.inference_mode(False)
def _povey_window(size: int, dtype: torch.dtype) -> torch.Tensor:
    return torch.hann_window(size, periodic=False, dtype=torch.float64).pow(0.85).to(dtype)


def kaldi_fbank(wav: torch.Tensor, num_mel_bins: int = 80, sample_rate: int = SAMPLE_RATE,
                frame_length_ms: float = 25.0, frame_shift_ms: float = 10.0, preemphasis: float = 0.97,
                low_freq: float = 20.0, high_freq: float = 0.0) -> torch.Tensor:
    """Kaldi-compatible log-mel filterbank of one waveform ``[N]`` → ``[frames, num_mel_bins]`` (no dither)."""
    wav = wav.reshape(-1)
    win = int(sample_rate * frame_length_ms * 0.001)
    shift = int(sample_rate * frame_shift_ms * 0.001)
    if wav.numel() < win:
        raise ValueError(f"audio too short for one {frame_length_ms} ms frame")
    padded = 1 << (win - 1).bit_length()
    frames = wav.unfold(0, win, shift)  # snip_edges: only whole frames
    frames = frames - frames.mean(dim=1, keepdim=True)
    prev = torch.cat([frames[:, :1], frames[:, :-1]], dim=1)  # first sample repeats itself
    frames = frames - preemphasis * prev
    frames = frames * _povey_window(win, frames.dtype)
    frames = F.pad(frames, (0, padded - win))
    power = torch.fft.rfft(frames).abs().pow(2)
    banks = kaldi_mel_banks(num_mel_bins, padded, float(sample_rate), low_freq, high_freq).to(power.dtype)
    mel = power @ banks.t()
    eps = torch.tensor(torch.finfo(torch.float32).eps, dtype=mel.dtype)
    return torch.maximum(mel, eps).log()


@lru_cache(maxsize=8)
@torch.inference_mode(False)
def _sinc_kernel(orig: int, new: int, width_zc: int = 6, rolloff: float = 0.99) -> tuple[torch.Tensor, int]:
    base = min(orig, new) * rolloff
    width = math.ceil(width_zc * orig / base)
    idx = torch.arange(-width, width + orig, dtype=torch.float64)[None, None] / orig
    t = torch.arange(0, -new, -1, dtype=torch.float64)[:, None, None] / new + idx
    t = (t * base).clamp(-width_zc, width_zc)
    window = torch.cos(t * math.pi / width_zc / 2) ** 2
    t = t * math.pi
    kernel = torch.where(t == 0, torch.ones_like(t), torch.sin(t) / t) * window * (base / orig)
    return kernel.to(torch.float32), width


def resample(wav: torch.Tensor, orig_sr: int, new_sr: int) -> torch.Tensor:
    """Band-limited windowed-sinc resampling of ``[..., N]`` (Hann, 6 zero crossings, roll-off 0.99)."""
    if orig_sr == new_sr:
        return wav
    g = math.gcd(orig_sr, new_sr)
    orig, new = orig_sr // g, new_sr // g
    kernel, width = _sinc_kernel(orig, new)
    shape = wav.shape
    x = wav.reshape(-1, shape[-1])
    y = F.conv1d(F.pad(x, (width, width + orig))[:, None], kernel.to(x.dtype), stride=orig)
    y = y.transpose(1, 2).reshape(x.shape[0], -1)[:, : math.ceil(new * shape[-1] / orig)]
    return y.reshape(*shape[:-1], y.shape[-1])


# ----------------------------------------------------------------------------- network
class _Clip20(nn.Hardtanh):
    """The network's ReLU: clipped to [0, 20]."""

    def __init__(self) -> None:
        super().__init__(0.0, 20.0, inplace=True)


class AFF(nn.Module):
    """Attentional feature fusion: a learned per-position blend of two maps (weights in (0, 2))."""

    def __init__(self, channels: int, r: int = 4) -> None:
        super().__init__()
        inter = channels // r
        self.local_att = nn.Sequential(nn.Conv2d(channels * 2, inter, 1), nn.BatchNorm2d(inter), nn.SiLU(inplace=True),
                                       nn.Conv2d(inter, channels, 1), nn.BatchNorm2d(channels))

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        a = 1.0 + torch.tanh(self.local_att(torch.cat((x, y), dim=1)))
        return x * a + y * (2.0 - a)


class Res2Block(nn.Module):
    """Bottleneck with ``scale`` hierarchical 3×3 branches; later branches see the previous one
    (added, or AFF-fused in the deeper stages)."""

    def __init__(self, in_planes: int, planes: int, stride: int, base_width: int, scale: int, expansion: int,
                 fuse: bool) -> None:
        super().__init__()
        width = int(math.floor(planes * (base_width / 64.0)))
        self.width = width
        self.conv1 = nn.Conv2d(in_planes, width * scale, 1, stride=stride, bias=False)
        self.bn1 = nn.BatchNorm2d(width * scale)
        self.convs = nn.ModuleList(nn.Conv2d(width, width, 3, padding=1, bias=False) for _ in range(scale))
        self.bns = nn.ModuleList(nn.BatchNorm2d(width) for _ in range(scale))
        if fuse:
            self.fuse_models = nn.ModuleList(AFF(width) for _ in range(scale - 1))
        self.relu = _Clip20()
        self.conv3 = nn.Conv2d(width * scale, planes * expansion, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * expansion)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != planes * expansion:
            self.shortcut = nn.Sequential(nn.Conv2d(in_planes, planes * expansion, 1, stride=stride, bias=False),
                                          nn.BatchNorm2d(planes * expansion))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        parts = torch.split(self.relu(self.bn1(self.conv1(x))), self.width, 1)
        outs = []
        sp = None
        for i, (conv, bn) in enumerate(zip(self.convs, self.bns)):
            if sp is None:
                sp = parts[0]
            elif hasattr(self, "fuse_models"):
                sp = self.fuse_models[i - 1](sp, parts[i])
            else:
                sp = sp + parts[i]
            sp = self.relu(bn(conv(sp)))
            outs.append(sp)
        out = self.bn3(self.conv3(torch.cat(outs, 1)))
        return self.relu(out + self.shortcut(x))


class ERes2NetV2(nn.Module):
    def __init__(self, num_blocks: tuple[int, ...] = (3, 4, 6, 3), m_channels: int = 64, feat_dim: int = 80,
                 embedding_size: int = 192, base_width: int = 24, scale: int = 4, expansion: int = 4) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, m_channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(m_channels)
        in_planes = m_channels
        for i, (n, stride) in enumerate(zip(num_blocks, (1, 2, 2, 2))):
            planes = m_channels * 2 ** i
            blocks = []
            for s in [stride] + [1] * (n - 1):
                blocks.append(Res2Block(in_planes, planes, s, base_width, scale, expansion, fuse=i >= 2))
                in_planes = planes * expansion
            setattr(self, f"layer{i + 1}", nn.Sequential(*blocks))
        self.layer3_ds = nn.Conv2d(m_channels * 4 * expansion, m_channels * 8 * expansion, 3, padding=1, stride=2,
                                   bias=False)
        self.fuse34 = AFF(m_channels * 8 * expansion)
        stats_dim = int(feat_dim / 8) * m_channels * 8 * expansion
        self.seg_1 = nn.Linear(stats_dim * 2, embedding_size)  # pooled head: unused by SoVITS, kept for the keys

    def fused_map(self, feats: torch.Tensor) -> torch.Tensor:
        """fbank ``[B, T, F]`` → fused stage-3/4 map ``[B, C, F', T']``."""
        x = feats.transpose(1, 2).unsqueeze(1)
        out = F.relu(self.bn1(self.conv1(x)))
        out3 = self.layer3(self.layer2(self.layer1(out)))
        out4 = self.layer4(out3)
        return self.fuse34(out4, self.layer3_ds(out3))

    def embed(self, feats: torch.Tensor) -> torch.Tensor:
        """The SoVITS speaker vector: fused map flattened over channels × frequency, mean over time."""
        return self.fused_map(feats).flatten(1, 2).mean(-1)


class SpeakerEncoder:
    """Waveform(s) → ``[B, 20480]`` speaker-verification embeddings, as v2Pro inference/prep uses them."""

    def __init__(self, model: ERes2NetV2, device: Any = "cpu", dtype: Any = None) -> None:
        self.device = torch.device(device)
        self.dtype = dtype or torch.float32
        self.model = model.to(self.device, self.dtype).eval()

    @classmethod
    def from_checkpoint(cls, path: str | os.PathLike[str], device: Any = "cpu", dtype: Any = None) -> SpeakerEncoder:
        from .errors import WrongModelKindError
        from .safe_pickle import load_checkpoint

        sd = load_checkpoint(path, what=str(path))
        if not isinstance(sd, dict) or "fuse34.local_att.0.weight" not in sd:
            raise WrongModelKindError(f"{path} is not the ERes2NetV2 speaker-verification checkpoint",
                                      fix="run `gsv models fetch v2Pro --only sv`")
        model = ERes2NetV2(m_channels=int(sd["conv1.weight"].shape[0]))  # 64 in the official checkpoint
        model.load_state_dict(sd)
        return cls(model, device, dtype)

    @torch.inference_mode()
    def __call__(self, wav: torch.Tensor, sample_rate: int = SAMPLE_RATE) -> torch.Tensor:
        """``[N]`` or ``[B, N]`` float waveform in [−1, 1] → ``[B, 20480]`` (float32)."""
        wav = wav.float()
        if wav.dim() == 1:
            wav = wav[None]
        if sample_rate != SAMPLE_RATE:
            wav = resample(wav, sample_rate, SAMPLE_RATE)
        feats = torch.stack([kaldi_fbank(w) for w in wav])
        return self.model.embed(feats.to(self.device, self.dtype)).float()
