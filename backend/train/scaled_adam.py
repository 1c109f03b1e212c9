"""ScaledAdam (the icefall/k2 optimiser the official GPT trainer uses) and its LR schedule.

Why not AdamW: the official GPT was trained and is fine-tuned with ScaledAdam; the first update
of a fine-tune already differs a lot between the two (ScaledAdam scales every update by the
parameter's RMS), so matching the official fine-tune means matching this optimiser exactly.

What it does, per group of **same-shape parameters stacked into one tensor** (the official
implementation batches them, and the batching is visible in the numbers: e.g. the two
positional ``alpha`` s of shape ``(1,)`` become one ``(2, 1)`` tensor):

- momentum lives in ``delta`` (the parameter change), Adam's second moment in ``exp_avg_sq``;
- a tensor with more than one element per stacked row moves by ``lr·(1−β1)·rms(p)·g/√v``
  (``rms`` refreshed every ``size_update_period`` steps and kept ≥ ``param_min_rms``), and its
  overall scale is learned separately from ``Σ p·g`` (``_size_update``), frozen outside
  ``[param_min_rms, param_max_rms]``;
- one-element rows ("scalars") use plain Adam at ``lr·scalar_lr_scale`` and are clamped to
  ``±scalar_max`` *before* the update;
- once ``clipping_update_period`` steps exist, gradients are scaled down to
  ``clipping_scale ×`` the median of the recent (RMS-weighted) gradient norms.

State layout (kept in ``self.state[first parameter of the stack]``, so ``state_dict()`` /
``load_state_dict()`` of :class:`torch.optim.Optimizer` save and restore it unchanged):
``step``, ``delta``, ``exp_avg_sq`` and, where the *whole* stack has more than one element,
``param_rms``, ``scale_exp_avg_sq``, ``scale_grads``; the first stack also carries
``model_norms`` / ``model_norm_threshold`` / ``num_clipped`` for clipping.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import torch
from torch import Tensor

#: The official trainer's settings (``t2s_lightning_module.configure_optimizers``).
OFFICIAL_LR = 0.01
OFFICIAL_BETAS = (0.9, 0.95)
OFFICIAL_CLIPPING_SCALE = 2.0
OFFICIAL_CLIPPING_PERIOD = 1000
#: What the official scheduler sets after every optimiser step (its computed value is discarded).
OFFICIAL_LOCKED_LR = 0.002


class ScaledAdam(torch.optim.Optimizer):
    def __init__(self, params: Iterable[Tensor] | Iterable[dict[str, Any]], lr: float = 3e-2,
                 clipping_scale: float | None = None, betas: tuple[float, float] = (0.9, 0.98),
                 scalar_lr_scale: float = 0.1, eps: float = 1.0e-8, param_min_rms: float = 1.0e-5,
                 param_max_rms: float = 3.0, scalar_max: float = 10.0, size_update_period: int = 4,
                 clipping_update_period: int = 100) -> None:
        defaults = dict(lr=lr, clipping_scale=clipping_scale, betas=betas, scalar_lr_scale=scalar_lr_scale,
                        eps=eps, param_min_rms=param_min_rms, param_max_rms=param_max_rms, scalar_max=scalar_max,
                        size_update_period=size_update_period, clipping_update_period=clipping_update_period)
        super().__init__(params, defaults)

    # ----------------------------------------------------------------------- batching
    @staticmethod
    def _stacks(params: Sequence[Tensor]) -> list[list[Tensor]]:
        """Parameters grouped by (dtype, shape), groups ordered by that key (as official)."""
        groups: dict[tuple, list[Tensor]] = {}
        for p in params:
            groups.setdefault((str(p.dtype), *p.shape), []).append(p)
        return [groups[k] for k in sorted(groups)]

    @torch.no_grad()
    def step(self, closure: Any = None) -> Any:  # type: ignore[override]
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            stacks = self._stacks(group["params"])
            batches = []
            for members in stacks:
                p = torch.stack([m.detach() for m in members])
                g = torch.stack([torch.zeros_like(m) if m.grad is None else m.grad for m in members])
                batches.append((p, g, self.state[members[0]]))
            fresh = len(batches[0][2]) == 0
            clip = 1.0 if fresh else self._clipping_scale(group, batches)
            for p, g, state in batches:
                if len(state) == 0:
                    self._init_state(group, p, state)
                self._step_one(group, p, g, state, clip)
            for (p, _g, _s), members in zip(batches, stacks):
                for i, m in enumerate(members):
                    m.copy_(p[i])
        return loss

    # --------------------------------------------------------------------------- state
    @staticmethod
    def _init_state(group: dict[str, Any], p: Tensor, state: dict[str, Any]) -> None:
        state["step"] = 0
        state["delta"] = torch.zeros_like(p)
        if p.numel() > 1:  # the whole stack (official): stacked one-element tensors get these too
            dims = list(range(1, p.ndim))
            rms = (p**2).mean(dim=dims, keepdim=True).sqrt()
            state["param_rms"] = rms
            state["scale_exp_avg_sq"] = torch.zeros_like(rms)
            state["scale_grads"] = torch.zeros(group["size_update_period"], *rms.shape, dtype=p.dtype,
                                               device=p.device)
        state["exp_avg_sq"] = torch.zeros_like(p)

    def _clipping_scale(self, group: dict[str, Any], batches: list[tuple[Tensor, Tensor, dict]]) -> float:
        scale = group["clipping_scale"]
        first = batches[0][2]
        step = first["step"]
        if scale is None or step == 0:
            return 1.0
        period = group["clipping_update_period"]
        sumsq = torch.zeros((), device=batches[0][0].device)
        for p, g, state in batches:
            if p.numel() == p.shape[0]:
                sumsq += (g**2).sum()
            else:
                sumsq += ((g * state["param_rms"]) ** 2).sum()
        norm = sumsq.sqrt()
        if "model_norms" not in first:
            first["model_norms"] = torch.zeros(period, device=norm.device)
        first["model_norms"][step % period] = norm
        if step % period == 0:
            ordered = first["model_norms"].sort()[0].cpu()
            median = ordered[min(period - 1, (period // 4) * 2)].item()
            first["model_norm_threshold"] = scale * median
            first["num_clipped"] = 0
        if step < period or "model_norm_threshold" not in first:
            return 1.0
        ans = min(1.0, first["model_norm_threshold"] / (norm.item() + 1.0e-20))
        if ans < 1.0:
            first["num_clipped"] = first.get("num_clipped", 0) + 1
        return ans

    # ---------------------------------------------------------------------------- steps
    def _step_one(self, group: dict[str, Any], p: Tensor, grad: Tensor, state: dict[str, Any], clip: float) -> None:
        if clip != 1.0:
            grad = grad * clip
        step = state["step"]
        delta = state["delta"]
        delta.mul_(group["betas"][0])
        per_row = p.numel() // p.shape[0]
        if per_row > 1:
            period = group["size_update_period"]
            dims = list(range(1, p.ndim))
            state["scale_grads"][step % period] = (p * grad).sum(dim=dims, keepdim=True)
            if step % period == period - 1:
                state["param_rms"].copy_((p**2).mean(dim=dims, keepdim=True).sqrt())
                if step > 0:
                    self._size_update(group, p, state)
            self._step_tensor(group, p, grad, state)
        else:
            self._step_scalar(group, p, grad, state)
        state["step"] = step + 1

    @staticmethod
    def _size_update(group: dict[str, Any], p: Tensor, state: dict[str, Any]) -> None:
        beta1, beta2 = group["betas"]
        size_lr = group["lr"] * group["scalar_lr_scale"]
        scale_grads = state["scale_grads"]
        period = scale_grads.shape[0]
        beta2_corr = beta2**period
        avg = state["scale_exp_avg_sq"]
        avg.mul_(beta2_corr).add_((scale_grads**2).mean(dim=0), alpha=1 - beta2_corr)
        size_step = (state["step"] + 1) // period
        bias2 = 1 - beta2_corr**size_step
        denom = avg.sqrt() + group["eps"]
        scale_step = -size_lr * (bias2**0.5) * scale_grads.sum(dim=0) / denom
        rms = state["param_rms"]
        scale_step.masked_fill_(rms < group["param_min_rms"], 0.0)
        scale_step.masked_fill_(rms > group["param_max_rms"], -size_lr * period)
        state["delta"].add_(p * scale_step, alpha=1 - beta1)

    @staticmethod
    def _step_tensor(group: dict[str, Any], p: Tensor, grad: Tensor, state: dict[str, Any]) -> None:
        beta1, beta2 = group["betas"]
        avg = state["exp_avg_sq"]
        avg.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        bias2 = 1 - beta2 ** (state["step"] - state.get("zero_step", 0) + 1)
        if bias2 < 0.99:
            avg = avg * (1.0 / bias2)
        denom = avg.sqrt()
        denom += group["eps"]
        alpha = -group["lr"] * (1 - beta1) * state["param_rms"].clamp(min=group["param_min_rms"])
        delta = state["delta"]
        delta.add_((grad / denom) * alpha)
        p.add_(delta)

    @staticmethod
    def _step_scalar(group: dict[str, Any], p: Tensor, grad: Tensor, state: dict[str, Any]) -> None:
        beta1, beta2 = group["betas"]
        lr = group["lr"] * group["scalar_lr_scale"]
        avg = state["exp_avg_sq"]
        avg.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        bias2 = 1 - beta2 ** (state["step"] + 1)
        denom = (avg / bias2).sqrt() + group["eps"]
        delta = state["delta"]
        delta.add_(grad / denom, alpha=-lr * (1 - beta1))
        p.clamp_(min=-group["scalar_max"], max=group["scalar_max"])
        p.add_(delta)


def official_optimizer(params: Iterable[Tensor]) -> ScaledAdam:
    """The optimiser of the official GPT trainer."""
    return ScaledAdam(params, lr=OFFICIAL_LR, betas=OFFICIAL_BETAS, clipping_scale=OFFICIAL_CLIPPING_SCALE,
                      clipping_update_period=OFFICIAL_CLIPPING_PERIOD)


def warmup_cosine_lr(step: int, init_lr: float = 1e-5, peak_lr: float = 0.01, end_lr: float = 1e-4,
                     warmup_steps: int = 2000, total_steps: int = 40000) -> float:
    """The official ``WarmupCosineLRSchedule`` formula: linear warm-up, then cosine decay to ``end_lr``.

    The official scheduler computes this and then discards it (see :class:`LockedLR`); it is
    kept here for ``lr_schedule="warmup_cosine"`` and for the documentation of that choice.
    """
    if step < warmup_steps:
        return init_lr + (peak_lr - init_lr) * step / warmup_steps
    if step > total_steps:
        return end_lr
    ratio = (step - warmup_steps) / (total_steps - warmup_steps)
    return end_lr + 0.5 * (peak_lr - end_lr) * (1 + math.cos(math.pi * ratio))


class LockedLR:
    """The official schedule as it really behaves: the first optimiser step runs at the optimiser's
    constructor LR (0.01), every later one at the constant 0.002 the scheduler's ``step()`` writes.

    ``mode="warmup_cosine"`` applies :func:`warmup_cosine_lr` instead (not the official behaviour).
    """

    def __init__(self, optimizer: torch.optim.Optimizer, mode: str = "official") -> None:
        self.optimizer = optimizer
        self.mode = mode
        self.steps = 0

    def step(self) -> None:
        self.steps += 1
        lr = OFFICIAL_LOCKED_LR if self.mode == "official" else warmup_cosine_lr(self.steps)
        for g in self.optimizer.param_groups:
            g["lr"] = lr

    def apply(self) -> None:
        """Set the LR for the *next* step from ``self.steps`` (after a resume)."""
        if self.steps > 0:
            self.steps -= 1
            self.step()

    def state_dict(self) -> dict[str, Any]:
        return {"steps": self.steps, "mode": self.mode}

    def load_state_dict(self, d: dict[str, Any]) -> None:
        self.steps = int(d.get("steps", 0))
        self.mode = str(d.get("mode", self.mode))
