"""Key/value-cached decoding: the prefix is computed once, then one token per step.

Speed notes (CPU, batch 1): a decode step is a chain of matrix–vector products over ~77 M
weights, so it is bound by memory bandwidth. We therefore (1) keep the projections in a
decoding layout: float16 storage with float32 arithmetic (fbgemm) when the weights are
exactly float16 values — always the case for weights read from a file — which halves the
bytes read per token, otherwise a transposed contiguous float32 copy (``x @ Wᵀ`` with ``Wᵀ``
stored ``[in, out]`` streams faster than ``F.linear``'s ``[out, in]`` on CPU); (2) preallocate
the cache and write each step's key/value in place instead of concatenating; (3) never
recompute the prefix. The arithmetic stays float32 with the same weights, so logits agree
with the full-sequence path to float rounding.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .layers import TransformerStack


class Projection:
    """``x @ Wᵀ + b`` for ``x`` ``[B, in]`` with the fastest exact kernel available."""

    def __call__(self, x: torch.Tensor) -> torch.Tensor:  # pragma: no cover - interface
        raise NotImplementedError


class DenseProjection(Projection):
    """fp32 (or the model dtype): ``addmm`` on a transposed copy (CPU) or view (GPU) of ``W``."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None) -> None:
        wt = weight.detach().t()
        self.wt = wt.contiguous() if wt.device.type == "cpu" else wt
        self.bias = None if bias is None else bias.detach()

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return torch.mm(x, self.wt) if self.bias is None else torch.addmm(self.bias, x, self.wt)


class HalfStoredProjection(Projection):
    """Weights stored as float16, arithmetic in float32 (fbgemm's fp16 GEMM, CPU only).

    Used only when every weight is exactly representable in float16 — true for every model
    loaded from a weights file, since files store float16 — so the result is the float32
    product up to summation order, while half as many bytes cross the memory bus per step.
    """

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None) -> None:
        b = None if bias is None else bias.detach().contiguous()
        self.packed = torch.ops.quantized.linear_prepack_fp16(weight.detach().contiguous(), b)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return torch.ops.quantized.linear_dynamic_fp16(x, self.packed)


def half_stored_projections_usable(weights: list[torch.Tensor]) -> bool:
    """fbgemm fp16 kernels exist here and the float32 weights lose nothing in float16."""
    if not weights or any(w.device.type != "cpu" or w.dtype != torch.float32 for w in weights):
        return False
    if "fbgemm" not in torch.backends.quantized.supported_engines:
        return False
    try:
        probe = torch.ops.quantized.linear_prepack_fp16(torch.ones(2, 2), None)
        torch.ops.quantized.linear_dynamic_fp16(torch.ones(1, 2), probe)
    except (RuntimeError, AttributeError):
        return False
    return all(torch.equal(w, w.half().float()) for w in weights)


@dataclass
class LayerWeights:
    qkv: Projection
    out: Projection
    ffn1: Projection
    ffn2: Projection
    ln1_w: torch.Tensor
    ln1_b: torch.Tensor
    ln2_w: torch.Tensor
    ln2_b: torch.Tensor
    eps1: float
    eps2: float


class DecodeWeights:
    """Per-layer projections prepared for one-row-at-a-time decoding.

    Built lazily and rebuilt when any source parameter changes (tracked through the tensors'
    in-place version counters), so an optimiser step between two generations is picked up.
    """

    def __init__(self) -> None:
        self._key: tuple | None = None
        self.layers: list[LayerWeights] = []
        self.predict: Projection | None = None
        self.half_stored = False
        #: set False to force the float32 layout (tests compare both)
        self.allow_half_storage = True

    @staticmethod
    def _signature(stack: TransformerStack, predict: torch.Tensor) -> tuple:
        params = [predict] + [p for p in stack.parameters()]
        return tuple((id(p), p.data_ptr(), p._version, p.dtype) for p in params)

    def get(self, stack: TransformerStack, predict: torch.Tensor) -> "DecodeWeights":
        key = (self.allow_half_storage, self._signature(stack, predict))
        if key != self._key:
            self._build(stack, predict)
            self._key = key
        return self

    def _build(self, stack: TransformerStack, predict: torch.Tensor) -> None:
        matrices = [predict.detach()] + [
            m.detach() for layer in stack.layers for m in (
                layer.self_attn.in_proj_weight, layer.self_attn.out_proj.weight,
                layer.linear1.weight, layer.linear2.weight)]
        self.half_stored = self.allow_half_storage and half_stored_projections_usable(matrices)
        make = HalfStoredProjection if self.half_stored else DenseProjection
        self.layers = []
        for layer in stack.layers:
            a = layer.self_attn
            self.layers.append(LayerWeights(
                qkv=make(a.in_proj_weight, a.in_proj_bias), out=make(a.out_proj.weight, a.out_proj.bias),
                ffn1=make(layer.linear1.weight, layer.linear1.bias), ffn2=make(layer.linear2.weight, layer.linear2.bias),
                ln1_w=layer.norm1.weight.detach(), ln1_b=layer.norm1.bias.detach(),
                ln2_w=layer.norm2.weight.detach(), ln2_b=layer.norm2.bias.detach(),
                eps1=layer.norm1.eps, eps2=layer.norm2.eps,
            ))
        self.predict = make(predict, None)

    def release(self) -> None:
        self._key = None
        self.layers = []
        self.predict = None


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
        qkv = lw.qkv(x)
        q = qkv[:, :c].reshape(b, heads, 1, d)
        cache.k[i, :, :, t] = qkv[:, c : 2 * c].reshape(b, heads, d)
        cache.v[i, :, :, t] = qkv[:, 2 * c :].reshape(b, heads, d)
        a = F.scaled_dot_product_attention(q, cache.k[i, :, :, :n], cache.v[i, :, :, :n], attn_mask=key_allowed)
        a = lw.out(a.reshape(b, c))
        x = F.layer_norm(x + a, (c,), lw.ln1_w, lw.ln1_b, lw.eps1)
        x = F.layer_norm(x + lw.ffn2(lw.ffn1(x).relu_()), (c,), lw.ln2_w, lw.ln2_b, lw.eps2)
    cache.length = n
    return x
