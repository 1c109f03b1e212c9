"""Weight normalisation stored the way official checkpoints store it (``weight_g``/``weight_v``).

Official SoVITS files were written with the old ``torch.nn.utils.weight_norm`` (norm over every
dim except 0), so the state dict holds ``<layer>.weight_g`` and ``<layer>.weight_v``. We keep
exactly those parameter names for loading, training and export, and :func:`fuse_weight_norm`
folds them into a plain ``weight`` once for inference so no forward pass recomputes the norm.
"""

from __future__ import annotations

import torch
from torch import nn


def _compute(module: nn.Module) -> torch.Tensor:
    return torch._weight_norm(module.weight_v, module.weight_g, 0)


def _pre_hook(module: nn.Module, _inputs: object) -> None:
    module.weight = _compute(module)


def weight_norm(module: nn.Module) -> nn.Module:
    """Reparametrise ``module.weight`` as ``g · v / ‖v‖`` (dim 0); returns the module."""
    w = module.weight
    del module._parameters["weight"]
    module.register_parameter("weight_g", nn.Parameter(torch.norm_except_dim(w.detach(), 2, 0)))
    module.register_parameter("weight_v", nn.Parameter(w.detach().clone()))
    module.weight = _compute(module) if w.device.type != "meta" else torch.empty_like(w)
    module._gsv_wn_hook = module.register_forward_pre_hook(_pre_hook)  # type: ignore[attr-defined]
    return module


def is_weight_normed(module: nn.Module) -> bool:
    return hasattr(module, "_gsv_wn_hook")


def fuse_weight_norm(root: nn.Module) -> int:
    """Replace every weight-normed layer under ``root`` by its plain weight; returns the count.

    The fused weight is the very tensor the hook would compute, so outputs are bit-identical.
    After this the state dict has ``weight`` instead of ``weight_g``/``weight_v``.
    """
    n = 0
    for module in root.modules():
        if is_weight_normed(module):
            with torch.no_grad():
                w = _compute(module)
            module._gsv_wn_hook.remove()  # type: ignore[attr-defined]
            del module._gsv_wn_hook
            del module._parameters["weight_g"], module._parameters["weight_v"]
            if "weight" in module.__dict__:
                del module.__dict__["weight"]
            module.register_parameter("weight", nn.Parameter(w, requires_grad=False))
            n += 1
    return n
