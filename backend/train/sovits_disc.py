"""The SoVITS discriminator sized by its weights.

Official ``s2D*.pth`` files always have the official widths and get the official
:class:`~backend.models.sovits.MultiPeriodDiscriminator`. A file with narrower layers (tiny
models for tests and quick experiments: the full discriminator is 47 M parameters and dominates
a CPU step) gets the same module tree — same classes, keys, kernels, strides, groups ratio and
forward — with each layer's channel counts read from the weight shapes, the way
:meth:`SoVITSConfig.adapt_to_weights` does it for the generator.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn

from ..models.sovits.discriminator import PERIODS, DiscriminatorP, DiscriminatorS, MultiPeriodDiscriminator
from ..models.sovits.weight_norm import weight_norm

# DiscriminatorS layers: kernel, stride, padding (channels and groups come from the weights)
S_LAYERS = ((15, 1, 7), (41, 4, 20), (41, 4, 20), (41, 4, 20), (41, 4, 20), (5, 1, 2))
S_OFFICIAL = ((16, 1), (64, 4), (256, 16), (1024, 64), (1024, 256), (1024, 1))  # (out, groups)
P_OFFICIAL = (32, 128, 512, 1024, 1024)


def _disc_s(widths: Sequence[tuple[int, int]]) -> DiscriminatorS:
    d = DiscriminatorS.__new__(DiscriminatorS)
    nn.Module.__init__(d)
    convs, c_in = [], 1
    for (k, s, p), (c_out, groups) in zip(S_LAYERS, widths):
        convs.append(weight_norm(nn.Conv1d(c_in, c_out, k, s, groups=groups, padding=p)))
        c_in = c_out
    d.convs = nn.ModuleList(convs)
    d.conv_post = weight_norm(nn.Conv1d(c_in, 1, 3, 1, padding=1))
    return d


def _disc_p(period: int, widths: Sequence[int]) -> DiscriminatorP:
    d = DiscriminatorP.__new__(DiscriminatorP)
    nn.Module.__init__(d)
    d.period = period
    convs, c_in = [], 1
    for i, c_out in enumerate(widths):
        stride = (3, 1) if i < len(widths) - 1 else 1
        convs.append(weight_norm(nn.Conv2d(c_in, c_out, (5, 1), stride, padding=(2, 0))))
        c_in = c_out
    d.convs = nn.ModuleList(convs)
    d.conv_post = weight_norm(nn.Conv2d(c_in, 1, (3, 1), 1, padding=(1, 0)))
    return d


def build_mpd(version: str, s_widths: Sequence[tuple[int, int]] = S_OFFICIAL,
              p_widths: Sequence[int] = P_OFFICIAL) -> MultiPeriodDiscriminator:
    """A multi-period discriminator with these layer widths (the defaults are the official ones)."""
    if tuple(s_widths) == S_OFFICIAL and tuple(p_widths) == P_OFFICIAL:
        return MultiPeriodDiscriminator(version)
    mpd = MultiPeriodDiscriminator.__new__(MultiPeriodDiscriminator)
    nn.Module.__init__(mpd)
    mpd.discriminators = nn.ModuleList([_disc_s(s_widths), *(_disc_p(p, p_widths) for p in PERIODS[version])])
    return mpd


def widths_from_weights(sd: Mapping[str, Any]) -> tuple[tuple[tuple[int, int], ...], tuple[int, ...]]:
    """(DiscriminatorS (out, groups) per layer, DiscriminatorP widths) read from a state dict."""
    s_w, c_in = [], 1
    for i in range(len(S_LAYERS)):
        shape = tuple(sd[f"discriminators.0.convs.{i}.weight_v"].shape)
        s_w.append((shape[0], c_in // shape[1]))
        c_in = shape[0]
    p_w = tuple(int(sd[f"discriminators.1.convs.{i}.weight_v"].shape[0]) for i in range(len(P_OFFICIAL)))
    return tuple(s_w), p_w


def discriminator_for(sd: Mapping[str, torch.Tensor], version: str) -> MultiPeriodDiscriminator:
    """The discriminator these weights fit (not loaded yet)."""
    try:
        s_w, p_w = widths_from_weights(sd)
    except (KeyError, ZeroDivisionError, IndexError):
        return MultiPeriodDiscriminator(version)  # let load_state_dict name what is wrong
    return build_mpd(version, s_w, p_w)
