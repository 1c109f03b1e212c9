"""HiFi-GAN-style waveform decoder ``dec``: latent frames → 32 kHz audio (×640 upsampling)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .layers import same_padding
from .weight_norm import is_weight_normed, weight_norm

LRELU_SLOPE = 0.1


class ResBlock1(nn.Module):
    """Three residual pairs (dilated conv, plain conv), LeakyReLU 0.1 before each conv."""

    def __init__(self, channels: int, kernel_size: int, dilations: Sequence[int] = (1, 3, 5)) -> None:
        super().__init__()
        self.convs1 = nn.ModuleList(
            weight_norm(nn.Conv1d(channels, channels, kernel_size, dilation=d, padding=same_padding(kernel_size, d)))
            for d in dilations)
        self.convs2 = nn.ModuleList(
            weight_norm(nn.Conv1d(channels, channels, kernel_size, padding=same_padding(kernel_size)))
            for _ in dilations)

    def forward(self, x: torch.Tensor, first_act: torch.Tensor | None = None) -> torch.Tensor:
        """``first_act`` = ``leaky_relu(x, 0.1)`` when the caller already has it (shared input)."""
        if torch.is_grad_enabled():
            for c1, c2 in zip(self.convs1, self.convs2):
                xt = c2(F.leaky_relu(c1(F.leaky_relu(x, LRELU_SLOPE)), LRELU_SLOPE))
                x = x + xt
            return x
        # no autograd: the same arithmetic with fewer full-size temporaries
        for i, (c1, c2) in enumerate(zip(self.convs1, self.convs2)):
            a = first_act if i == 0 and first_act is not None else F.leaky_relu(x, LRELU_SLOPE)
            h = F.leaky_relu_(c1(a), LRELU_SLOPE)
            x = c2(h).add_(x)  # xt + x == x + xt exactly
        return x


class Generator(nn.Module):
    def __init__(self, in_channels: int, resblock_kernel_sizes: Sequence[int],
                 resblock_dilation_sizes: Sequence[Sequence[int]], upsample_rates: Sequence[int],
                 upsample_initial_channel: int, upsample_kernel_sizes: Sequence[int], gin_channels: int = 0) -> None:
        super().__init__()
        self.num_kernels = len(resblock_kernel_sizes)
        self.conv_pre = nn.Conv1d(in_channels, upsample_initial_channel, 7, padding=3)
        self.ups = nn.ModuleList()
        for i, (u, k) in enumerate(zip(upsample_rates, upsample_kernel_sizes)):
            c_in = upsample_initial_channel // 2 ** i
            self.ups.append(weight_norm(nn.ConvTranspose1d(c_in, c_in // 2, k, u, padding=(k - u) // 2)))
        self.resblocks = nn.ModuleList()
        ch = upsample_initial_channel
        for i in range(len(self.ups)):
            ch = upsample_initial_channel // 2 ** (i + 1)
            for k, d in zip(resblock_kernel_sizes, resblock_dilation_sizes):
                self.resblocks.append(ResBlock1(ch, k, d))
        self.conv_post = nn.Conv1d(ch, 1, 7, padding=3, bias=False)
        if gin_channels:
            self.cond = nn.Conv1d(gin_channels, upsample_initial_channel, 1)
        if self.conv_pre.weight.device.type != "meta":
            for m in [*self.ups, *self.resblocks.modules()]:
                if hasattr(m, "weight_v"):
                    nn.init.normal_(m.weight_v, 0.0, 0.01)

    def pack_for_inference(self) -> None:
        """Keep channels-last 2-D copies of the (already fused) upsampling/resblock/post weights.

        On CPU, oneDNN runs these convolutions on ``[B, C, 1, T]`` channels-last tensors without
        re-ordering every input and output into its blocked layout, which saves about a quarter
        of the decoder's CPU time at identical arithmetic (results differ only by summation order,
        ~1e-7 relative). Used only without autograd, on CPU; ``.to()`` after packing is detected.
        """
        convs = [*self.ups, *(c for rb in self.resblocks for c in (*rb.convs1, *rb.convs2)), self.conv_post]
        if any(is_weight_normed(c) for c in convs):
            raise RuntimeError("fold weight norm before packing (prepare_for_inference does both)")
        self._packed = {c: c.weight.detach()[:, :, None, :].contiguous(memory_format=torch.channels_last)
                        for c in convs}
        self._fused = _fused_ops_work()

    def _packed_ready(self, x: torch.Tensor) -> bool:
        packed = getattr(self, "_packed", None)
        if not packed or x.device.type != "cpu":
            return False
        w = self.conv_post.weight
        ref = packed[self.conv_post]
        if ref.device != w.device or ref.dtype != w.dtype:  # moved or cast since packing
            self.pack_for_inference()
        return True

    def _conv2d(self, conv: nn.Module, x: torch.Tensor, lrelu: bool = False,
                add: torch.Tensor | None = None) -> torch.Tensor:
        """Packed convolution, optionally followed by LeakyReLU(0.1) or ``+ add`` (fused when possible)."""
        w = self._packed[conv]
        if isinstance(conv, nn.ConvTranspose1d):
            return F.conv_transpose2d(x, w, conv.bias, stride=(1, conv.stride[0]), padding=(0, conv.padding[0]))
        pad, dil = [0, conv.padding[0]], [1, conv.dilation[0]]
        if self._fused and x.dtype == torch.float32:
            if lrelu:
                return _CONV_POINTWISE(x, w, conv.bias, pad, [1, 1], dil, 1, "leaky_relu", [LRELU_SLOPE], "")
            if add is not None:
                return _CONV_POINTWISE.binary(x, add, w, conv.bias, pad, [1, 1], dil, 1, "add", None, None, [], None)
        y = F.conv2d(x, w, conv.bias, padding=pad, dilation=dil)
        if lrelu:
            return F.leaky_relu_(y, LRELU_SLOPE)
        return y.add_(add) if add is not None else y

    def _forward_packed(self, x: torch.Tensor) -> torch.Tensor:
        n = self.num_kernels
        x = x.unsqueeze(2).contiguous(memory_format=torch.channels_last)
        for i, up in enumerate(self.ups):
            x = self._conv2d(up, F.leaky_relu_(x, LRELU_SLOPE) if i else F.leaky_relu(x, LRELU_SLOPE))
            act = F.leaky_relu(x, LRELU_SLOPE)
            xs = None
            for rb in self.resblocks[i * n: (i + 1) * n]:
                y = x
                for k, (c1, c2) in enumerate(zip(rb.convs1, rb.convs2)):
                    a = act if k == 0 else F.leaky_relu(y, LRELU_SLOPE)
                    y = self._conv2d(c2, self._conv2d(c1, a, lrelu=True), add=y)  # c2(h) + y
                xs = y if xs is None else xs.add_(y)
            x = xs.div_(n)
        return torch.tanh_(self._conv2d(self.conv_post, F.leaky_relu_(x)))[:, :, 0, :]

    def forward(self, x: torch.Tensor, g: torch.Tensor | None = None) -> torch.Tensor:
        x = self.conv_pre(x)
        if g is not None:
            x = x + self.cond(g)
        n = self.num_kernels
        if torch.is_grad_enabled():
            for i, up in enumerate(self.ups):
                x = up(F.leaky_relu(x, LRELU_SLOPE))
                xs = self.resblocks[i * n](x)
                for j in range(1, n):
                    xs = xs + self.resblocks[i * n + j](x)
                x = xs / n
            x = self.conv_post(F.leaky_relu(x))  # PyTorch's default slope 0.01 here, as the reference
            return torch.tanh(x)
        if self._packed_ready(x):
            return self._forward_packed(x)
        # inference: in-place activations, and the resblocks' shared first activation computed once
        for i, up in enumerate(self.ups):
            x = up(F.leaky_relu_(x, LRELU_SLOPE) if i else F.leaky_relu(x, LRELU_SLOPE))
            act = F.leaky_relu(x, LRELU_SLOPE)
            xs = self.resblocks[i * n](x, act)
            for j in range(1, n):
                xs.add_(self.resblocks[i * n + j](x, act))
            x = xs.div_(n)
        return torch.tanh_(self.conv_post(F.leaky_relu_(x)))


_CONV_POINTWISE = getattr(getattr(torch.ops, "mkldnn", None), "_convolution_pointwise", None)


def _fused_ops_work() -> bool:
    """Whether oneDNN's fused conv+LeakyReLU / conv+add ops exist here and give the unfused result."""
    if _CONV_POINTWISE is None or not torch.backends.mkldnn.is_available():
        return False
    try:
        g = torch.Generator().manual_seed(0)
        x = torch.randn(1, 8, 1, 40, generator=g).contiguous(memory_format=torch.channels_last)
        w = torch.randn(8, 8, 1, 3, generator=g).contiguous(memory_format=torch.channels_last)
        b = torch.randn(8, generator=g)
        other = torch.randn(1, 8, 1, 40, generator=g).contiguous(memory_format=torch.channels_last)
        with torch.no_grad():
            ref = F.conv2d(x, w, b, padding=(0, 3), dilation=(1, 3))
            a = _CONV_POINTWISE(x, w, b, [0, 3], [1, 1], [1, 3], 1, "leaky_relu", [LRELU_SLOPE], "")
            s = _CONV_POINTWISE.binary(x, other, w, b, [0, 3], [1, 1], [1, 3], 1, "add", None, None, [], None)
        return bool(torch.allclose(a, F.leaky_relu(ref, LRELU_SLOPE), atol=1e-5)
                    and torch.allclose(s, ref + other, atol=1e-5))
    except (RuntimeError, TypeError, AttributeError):
        return False
