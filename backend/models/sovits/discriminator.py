"""Multi-period + multi-scale discriminator used by SoVITS training (never in weight exports)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .weight_norm import weight_norm

LRELU_SLOPE = 0.1
PERIODS = {"v1": (2, 3, 5, 7, 11), "v2": (2, 3, 5, 7, 11), "v2Pro": (2, 3, 5, 7, 11, 17, 23),
           "v2ProPlus": (2, 3, 5, 7, 11, 17, 23)}


class DiscriminatorP(nn.Module):
    """Folds the waveform into ``[T/p, p]`` and scores it with (5,1) 2-D convolutions."""

    def __init__(self, period: int, kernel_size: int = 5, stride: int = 3) -> None:
        super().__init__()
        self.period = period
        pad = ((kernel_size - 1) // 2, 0)
        chans = [1, 32, 128, 512, 1024]
        convs = [weight_norm(nn.Conv2d(chans[i], chans[i + 1], (kernel_size, 1), (stride, 1), padding=pad))
                 for i in range(4)]
        convs.append(weight_norm(nn.Conv2d(1024, 1024, (kernel_size, 1), 1, padding=pad)))
        self.convs = nn.ModuleList(convs)
        self.conv_post = weight_norm(nn.Conv2d(1024, 1, (3, 1), 1, padding=(1, 0)))

    def forward(self, x: torch.Tensor):
        b, c, t = x.shape
        if t % self.period:
            n_pad = self.period - t % self.period
            x = F.pad(x, (0, n_pad), "reflect")
            t += n_pad
        return _score(self.convs, self.conv_post, x.view(b, c, t // self.period, self.period))


class DiscriminatorS(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        spec = [(1, 16, 15, 1, 1, 7), (16, 64, 41, 4, 4, 20), (64, 256, 41, 4, 16, 20),
                (256, 1024, 41, 4, 64, 20), (1024, 1024, 41, 4, 256, 20), (1024, 1024, 5, 1, 1, 2)]
        self.convs = nn.ModuleList(weight_norm(nn.Conv1d(i, o, k, s, groups=g, padding=p))
                                   for i, o, k, s, g, p in spec)
        self.conv_post = weight_norm(nn.Conv1d(1024, 1, 3, 1, padding=1))

    def forward(self, x: torch.Tensor):
        return _score(self.convs, self.conv_post, x)


def _score(convs: nn.ModuleList, post: nn.Module, x: torch.Tensor):
    """Both discriminator kinds: LeakyReLU conv stack, then the post conv; every output is a feature map."""
    fmap = []
    for conv in convs:
        x = F.leaky_relu(conv(x), LRELU_SLOPE)
        fmap.append(x)
    x = post(x)
    fmap.append(x)
    return torch.flatten(x, 1, -1), fmap


class MultiPeriodDiscriminator(nn.Module):
    def __init__(self, version: str = "v2") -> None:
        super().__init__()
        if version not in PERIODS:
            raise ValueError(f"no discriminator layout for version {version!r}")
        self.discriminators = nn.ModuleList([DiscriminatorS(), *(DiscriminatorP(p) for p in PERIODS[version])])

    def forward(self, y: torch.Tensor, y_hat: torch.Tensor):
        """Scores and feature maps for real ``y`` and generated ``y_hat`` (``[B, 1, T]`` each)."""
        real_scores, fake_scores, real_maps, fake_maps = [], [], [], []
        for d in self.discriminators:
            r, fr = d(y)
            g, fg = d(y_hat)
            real_scores.append(r)
            fake_scores.append(g)
            real_maps.append(fr)
            fake_maps.append(fg)
        return real_scores, fake_scores, real_maps, fake_maps
