"""Key/value-cached decoding: the prefix is computed once, then one token per step.

Speed notes (CPU, batch 1): a decode step is a chain of matrix–vector products over ~77 M
weights, so it is bound by memory bandwidth. We therefore (1) keep a transposed, contiguous
copy of every projection (``x @ Wᵀ`` with ``Wᵀ`` stored ``[in, out]`` streams memory at
roughly twice the rate of the ``[out, in]`` layout in ``F.linear`` on CPU), (2) preallocate
the cache and write each step's key/value in place instead of concatenating, and (3) never
recompute the prefix. The arithmetic is the same as the full-sequence path (same weights,
fp32 accumulation), so logits agree with it to float rounding.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .layers import TransformerStack


@dataclass
class LayerWeights:
    qkv_w: torch.Tensor  # [C, 3C] (CPU: contiguous transposed copy) or a transposed view
    qkv_b: torch.Tensor
    out_w: torch.Tensor  # [C, C]
    out_b: torch.Tensor
    w1: torch.Tensor  # [C, 4C]
    b1: torch.Tensor
    w2: torch.Tensor  # [4C, C]
    b2: torch.Tensor
    ln1_w: torch.Tensor
    ln1_b: torch.Tensor
    ln2_w: torch.Tensor
    ln2_b: torch.Tensor
    eps1: float
    eps2: float


class DecodeWeights:
    """Per-layer weights laid out for ``addmm(bias, x, W)``.

    Built lazily and rebuilt when any source parameter changes (tracked through the tensors'
    in-place version counters), so an optimiser step between two generations is picked up.
    """

    def __init__(self) -> None:
        self._key: tuple | None = None
        self.layers: list[LayerWeights] = []
        self.predict_w: torch.Tensor | None = None

    @staticmethod
    def _signature(stack: TransformerStack, predict: torch.Tensor) -> tuple:
        params = [predict] + [p for p in stack.parameters()]
        return tuple((id(p), p.data_ptr(), p._version, p.dtype) for p in params)

    def get(self, stack: TransformerStack, predict: torch.Tensor) -> "DecodeWeights":
        key = self._signature(stack, predict)
        if key != self._key:
            self._build(stack, predict)
            self._key = key
        return self

    def _build(self, stack: TransformerStack, predict: torch.Tensor) -> None:
        def t(w: torch.Tensor) -> torch.Tensor:
            w = w.detach().t()
            return w.contiguous() if w.device.type == "cpu" else w

        self.layers = []
        for layer in stack.layers:
            a = layer.self_attn
            self.layers.append(LayerWeights(
                qkv_w=t(a.in_proj_weight), qkv_b=a.in_proj_bias.detach(),
                out_w=t(a.out_proj.weight), out_b=a.out_proj.bias.detach(),
                w1=t(layer.linear1.weight), b1=layer.linear1.bias.detach(),
                w2=t(layer.linear2.weight), b2=layer.linear2.bias.detach(),
                ln1_w=layer.norm1.weight.detach(), ln1_b=layer.norm1.bias.detach(),
                ln2_w=layer.norm2.weight.detach(), ln2_b=layer.norm2.bias.detach(),
                eps1=layer.norm1.eps, eps2=layer.norm2.eps,
            ))
        self.predict_w = t(predict)

    def release(self) -> None:
        self._key = None
        self.layers = []
        self.predict_w = None


class KVCache:
    """Keys and values of every layer, ``[L, B, H, capacity, d]``, filled up to ``length``."""

    def __init__(self, n_layers: int, batch: int, heads: int, head_dim: int, capacity: int,
                 device: torch.device, dtype: torch.dtype) -> None:
        self.k = torch.empty(n_layers, batch, heads, capacity, head_dim, device=device, dtype=dtype)
        self.v = torch.empty_like(self.k)
        self.length = 0

    @property
    def capacity(self) -> int:
        return self.k.shape[3]

    def reserve(self, needed: int) -> None:
        """Make room for ``needed`` positions (doubling, so growth costs O(total))."""
        if needed <= self.capacity:
            return
        cap = max(needed, 2 * self.capacity)
        k = self.k.new_empty(*self.k.shape[:3], cap, self.k.shape[4])
        v = torch.empty_like(k)
        k[:, :, :, : self.length] = self.k[:, :, :, : self.length]
        v[:, :, :, : self.length] = self.v[:, :, :, : self.length]
        self.k, self.v = k, v

    def keep_rows(self, rows: torch.Tensor) -> None:
        """Drop finished batch rows (``rows`` = indices of the rows that continue)."""
        self.k = self.k.index_select(1, rows)
        self.v = self.v.index_select(1, rows)


def prefill(stack: TransformerStack, x: torch.Tensor, allowed: torch.Tensor, cache: KVCache) -> torch.Tensor:
    """Run the whole prefix ``x`` ``[B,S,C]`` under ``allowed``; store its keys/values; return hidden states."""
    s = x.shape[1]
    cache.reserve(s)
    for i, layer in enumerate(stack.layers):
        x, k, v = layer(x, allowed)
        cache.k[i, :, :, :s] = k
        cache.v[i, :, :, :s] = v
    cache.length = s
    return x


def decode_step(w: DecodeWeights, heads: int, x: torch.Tensor, cache: KVCache,
                key_allowed: torch.Tensor | None = None) -> torch.Tensor:
    """One new position per row: ``x`` ``[B, C]`` → hidden ``[B, C]``; appends to the cache.

    ``key_allowed`` ``[B, 1, 1, length+1]`` masks keys (left padding of a batch); ``None`` = all.
    """
    b, c = x.shape
    d = c // heads
    t = cache.length
    cache.reserve(t + 1)
    n = t + 1
    for i, lw in enumerate(w.layers):
        qkv = torch.addmm(lw.qkv_b, x, lw.qkv_w)
        q = qkv[:, :c].reshape(b, heads, 1, d)
        cache.k[i, :, :, t] = qkv[:, c : 2 * c].reshape(b, heads, d)
        cache.v[i, :, :, t] = qkv[:, 2 * c :].reshape(b, heads, d)
        a = F.scaled_dot_product_attention(q, cache.k[i, :, :, :n], cache.v[i, :, :, :n], attn_mask=key_allowed)
        a = torch.addmm(lw.out_b, a.reshape(b, c), lw.out_w)
        x = F.layer_norm(x + a, (c,), lw.ln1_w, lw.ln1_b, lw.eps1)
        h = torch.addmm(lw.b1, x, lw.w1).relu_()
        x = F.layer_norm(x + torch.addmm(lw.b2, h, lw.w2), (c,), lw.ln2_w, lw.ln2_b, lw.eps2)
    cache.length = n
    return x
