"""The frozen single-level residual vector quantiser that turns SSL frames into semantic codes.

State = four buffers named as in official files (``inited``, ``cluster_size``, ``embed``,
``embed_avg``). The codebook is frozen in every official recipe, so only the lookup paths
exist here: encode = nearest entry by squared Euclidean distance (first index on ties),
decode = embedding lookup.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class EuclideanCodebook(nn.Module):
    def __init__(self, dim: int, codebook_size: int) -> None:
        super().__init__()
        self.register_buffer("inited", torch.zeros(1))
        self.register_buffer("cluster_size", torch.zeros(codebook_size))
        self.register_buffer("embed", torch.zeros(codebook_size, dim))
        self.register_buffer("embed_avg", torch.zeros(codebook_size, dim))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` ``[..., D]`` → indices ``[...]``."""
        flat = x.reshape(-1, x.shape[-1])
        embed = self.embed
        # argmax of −(|x|² − 2x·e + |e|²); |x|² is constant per row and cannot change the argmax
        # but is kept so near-ties resolve exactly as the reference does.
        dist = -(flat.pow(2).sum(1, keepdim=True) - 2 * flat @ embed.t() + embed.pow(2).sum(1)[None, :])
        return dist.argmax(dim=-1).view(x.shape[:-1])

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        return F.embedding(codes, self.embed)


class VectorQuantization(nn.Module):
    def __init__(self, dim: int, codebook_size: int) -> None:
        super().__init__()
        self._codebook = EuclideanCodebook(dim, codebook_size)


class _Layers(nn.Module):
    def __init__(self, n_q: int, dim: int, bins: int) -> None:
        super().__init__()
        self.layers = nn.ModuleList(VectorQuantization(dim, bins) for _ in range(n_q))


class ResidualVectorQuantizer(nn.Module):
    def __init__(self, dimension: int = 768, n_q: int = 1, bins: int = 1024) -> None:
        super().__init__()
        self.vq = _Layers(n_q, dimension, bins)

    def _check_ready(self) -> None:
        if float(self.vq.layers[0]._codebook.inited[0]) == 0:
            raise RuntimeError("the quantizer codebook is not loaded (inited = 0); load pretrained weights first")

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` ``[B, D, T]`` → codes ``[n_q, B, T]`` (residual over the layers)."""
        self._check_ready()
        residual = x.transpose(1, 2)
        codes = []
        for layer in self.vq.layers:
            idx = layer._codebook.encode(residual)
            codes.append(idx)
            if len(self.vq.layers) > 1:
                residual = residual - layer._codebook.decode(idx)
        return torch.stack(codes)

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        """codes ``[n_q, B, T]`` → quantised ``[B, D, T]`` (sum over the layers)."""
        out = None
        for i, idx in enumerate(codes):
            q = self.vq.layers[i]._codebook.decode(idx)
            out = q if out is None else out + q
        return out.transpose(1, 2)

    def forward(self, x: torch.Tensor):
        """Frozen-codebook forward: ``(quantized [B,D,T], codes [n_q,B,T], commit_loss 0)``."""
        codes = self.encode(x)
        return self.decode(codes), codes, torch.zeros((), device=x.device, dtype=x.dtype)
