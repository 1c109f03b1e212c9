"""WaveNet-style blocks: the normalising flow and the posterior encoder (training only)."""

from __future__ import annotations

import torch
from torch import nn

from .layers import frames_mask, same_padding
from .weight_norm import weight_norm


class WN(nn.Module):
    """Gated dilated convolutions with speaker conditioning and skip sum (all weight-normed)."""

    def __init__(self, hidden: int, kernel_size: int, dilation_rate: int, n_layers: int, gin_channels: int = 0,
                 p_dropout: float = 0.0) -> None:
        super().__init__()
        self.hidden = hidden
        self.n_layers = n_layers
        self.in_layers = nn.ModuleList()
        self.res_skip_layers = nn.ModuleList()
        self.drop = nn.Dropout(p_dropout)
        if gin_channels:
            self.cond_layer = weight_norm(nn.Conv1d(gin_channels, 2 * hidden * n_layers, 1))
        for i in range(n_layers):
            d = dilation_rate ** i
            self.in_layers.append(weight_norm(nn.Conv1d(hidden, 2 * hidden, kernel_size, dilation=d,
                                                        padding=same_padding(kernel_size, d))))
            out = 2 * hidden if i < n_layers - 1 else hidden
            self.res_skip_layers.append(weight_norm(nn.Conv1d(hidden, out, 1)))

    def forward(self, x: torch.Tensor, mask: torch.Tensor, g: torch.Tensor | None = None) -> torch.Tensor:
        h = self.hidden
        cond = self.cond_layer(g) if g is not None else None
        skip = None
        for i, (inl, rs) in enumerate(zip(self.in_layers, self.res_skip_layers)):
            u = inl(x)
            if cond is not None:
                u = u + cond[:, 2 * h * i: 2 * h * (i + 1)]
            acts = self.drop(torch.tanh(u[:, :h]) * torch.sigmoid(u[:, h:]))
            r = rs(acts)
            if i < self.n_layers - 1:
                x = (x + r[:, :h]) * mask
                r = r[:, h:]
            skip = r if skip is None else skip + r
        return skip * mask


class ResidualCouplingLayer(nn.Module):
    """Mean-only affine coupling: shift one half of the channels by a function of the other."""

    def __init__(self, channels: int, hidden: int, kernel_size: int, dilation_rate: int, n_layers: int,
                 gin_channels: int = 0) -> None:
        super().__init__()
        self.half = channels // 2
        self.pre = nn.Conv1d(self.half, hidden, 1)
        self.enc = WN(hidden, kernel_size, dilation_rate, n_layers, gin_channels)
        self.post = nn.Conv1d(hidden, self.half, 1)
        if self.post.weight.device.type != "meta":
            nn.init.zeros_(self.post.weight)
            nn.init.zeros_(self.post.bias)

    def forward(self, x: torch.Tensor, mask: torch.Tensor, g: torch.Tensor | None = None,
                reverse: bool = False) -> torch.Tensor:
        # ``half`` (the official name) hides nn.Module.half() on instances; mypy sees the method
        x0, x1 = torch.split(x, [self.half, self.half], dim=1)  # type: ignore[list-item]
        m = self.post(self.enc(self.pre(x0) * mask, mask, g)) * mask
        x1 = (x1 - m) * mask if reverse else m + x1 * mask
        return torch.cat([x0, x1], dim=1)


class Flip(nn.Module):
    def forward(self, x: torch.Tensor, *args, reverse: bool = False, **kwargs) -> torch.Tensor:
        return torch.flip(x, [1])


class ResidualCouplingBlock(nn.Module):
    def __init__(self, channels: int, hidden: int, kernel_size: int, dilation_rate: int, n_layers: int,
                 n_flows: int = 4, gin_channels: int = 0) -> None:
        super().__init__()
        self.flows = nn.ModuleList()
        for _ in range(n_flows):
            self.flows.append(ResidualCouplingLayer(channels, hidden, kernel_size, dilation_rate, n_layers,
                                                    gin_channels))
            self.flows.append(Flip())

    def forward(self, x: torch.Tensor, mask: torch.Tensor, g: torch.Tensor | None = None,
                reverse: bool = False) -> torch.Tensor:
        flows = reversed(self.flows) if reverse else self.flows
        for flow in flows:
            x = flow(x, mask, g=g, reverse=reverse)
        return x


class PosteriorEncoder(nn.Module):
    """Linear spectrogram → latent ``z`` (training only; dropped from exported weights)."""

    def __init__(self, in_channels: int, out_channels: int, hidden: int, kernel_size: int, dilation_rate: int,
                 n_layers: int, gin_channels: int = 0) -> None:
        super().__init__()
        self.out_channels = out_channels
        self.pre = nn.Conv1d(in_channels, hidden, 1)
        self.enc = WN(hidden, kernel_size, dilation_rate, n_layers, gin_channels)
        self.proj = nn.Conv1d(hidden, out_channels * 2, 1)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor, g: torch.Tensor | None = None):
        mask = frames_mask(lengths, x.size(2), x.dtype)
        h = self.enc(self.pre(x) * mask, mask, g)
        stats = self.proj(h) * mask
        m, logs = torch.split(stats, self.out_channels, dim=1)
        z = (m + torch.randn_like(m) * torch.exp(logs)) * mask
        return z, m, logs, mask
