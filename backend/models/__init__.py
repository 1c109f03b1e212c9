"""Our models: SoVITS (stage 2) and GPT (stage 1), loading official weight files.

``load_sovits(path, device=...)`` returns a ready :class:`~backend.models.sovits.SoVITS`
(methods ``extract_latent``, ``decode``, ``reference_embedding``). Heavy imports happen
inside the functions so importing this package stays cheap.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .sovits import SoVITS

__all__ = ["load_gpt", "load_sovits"]


def load_sovits(path: str | os.PathLike[str] | bytes, device: Any = "cpu", dtype: Any = None,
                for_training: bool = False) -> SoVITS:
    """Build the SoVITS model a weights file describes and load it.

    Accepts exported ``.pth`` files (with or without a version header), official pretrained
    ``s2G*.pth`` files and trainer ``G_*.pth`` checkpoints. Every key must fit (a wrong or
    damaged file is a named error, never silently half-loaded). For inference (the default)
    the model is in eval mode with weight norm folded; ``for_training`` keeps the
    ``weight_g``/``weight_v`` parametrisation and the posterior encoder.
    """
    import torch

    from .errors import WeightsFileError
    from .sovits import SoVITS
    from .sovits.weights import model_config, read_sovits

    f = read_sovits(path)
    cfg = model_config(f)
    if for_training:  # real initialisation: a file without enc_q (an export) starts it fresh
        model = SoVITS(cfg, with_posterior=True)
    else:  # every tensor comes from the file: skip initialisation; the posterior encoder is not needed
        f.weight = {k: v for k, v in f.weight.items() if not k.startswith("enc_q.")}
        with torch.device("meta"):
            model = SoVITS(cfg, with_posterior=False)
        model.to_empty(device="cpu")
    expected = model.state_dict()
    missing = [k for k in expected if k not in f.weight and not k.startswith("enc_q.")]
    unexpected = [k for k in f.weight if k not in expected]
    wrong = [k for k, v in f.weight.items() if k in expected and tuple(v.shape) != tuple(expected[k].shape)]
    if missing or unexpected or wrong:
        parts = []
        for label, keys in (("missing", missing), ("unexpected", unexpected), ("wrong shape", wrong)):
            if keys:
                parts.append(f"{len(keys)} {label} (e.g. {', '.join(keys[:3])})")
        raise WeightsFileError(f"{f.path or 'weights'} does not fit a SoVITS {f.version} model: " + "; ".join(parts),
                               fix="the file is damaged or from an incompatible program; re-export it")
    model.load_state_dict(f.weight, strict=False)
    model.source = f  # type: ignore[attr-defined]
    f.weight = {}  # the tensors now live in the model
    if dtype is not None:
        model.to(dtype=dtype)
    model.to(device)
    if not for_training:
        model.prepare_for_inference()
    return model


def load_gpt(path: str | os.PathLike[str], device: Any = "cpu", dtype: Any = None) -> Any:
    """Read an official-format GPT file and return the ready model: see
    :func:`backend.models.gpt.weights.load_gpt` (imported here on first use, so that importing
    this package never imports torch)."""
    from .gpt.weights import load_gpt as load

    return load(path, device=device, dtype=dtype)
