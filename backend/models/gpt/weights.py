"""GPT weight files (``.ckpt``): read official ones safely, write ours in the official format.

Official layout (``s1_train.py`` export, also the pretrained ``s1*.ckpt``)::

    {"weight": OrderedDict("model.<key>" → float16 tensor), "config": <the YAML config dict>,
     "info": "GPT-e<epoch>"}

a plain ``torch.save`` zip named ``<exp_name>-e<epoch>.ckpt``. Lightning training checkpoints
(``{"state_dict": {"model.<key>": …}, …}``) are accepted for reading as well. The model is
built from ``config["model"]``; there is no version marker — v1 and v2 differ only in the
phoneme vocabulary (512 vs 732 rows of ``ar_text_embedding``).

Reading goes through :mod:`backend.models.safe_pickle`, which never runs code from a file.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from ...fsutil import atomic_write_bytes
from ..errors import WeightsFileError, WrongModelKindError
from ..safe_pickle import load_checkpoint, save_checkpoint

PREFIX = "model."

#: ``config`` written with our exports when the caller has none (``configs/s1longer-v2.yaml``).
DEFAULT_CONFIG: dict[str, Any] = {
    "train": {"seed": 1234, "epochs": 15, "batch_size": 8, "save_every_n_epoch": 5, "precision": "16-mixed",
              "gradient_clip": 1.0, "if_save_every_weights": True, "if_save_latest": True, "if_dpo": False,
              "half_weights_save_dir": "GPT_weights_v2", "exp_name": "gsv"},
    "optimizer": {"lr": 0.01, "lr_init": 1e-05, "lr_end": 0.0001, "warmup_steps": 2000, "decay_steps": 40000},
    "data": {"max_eval_sample": 8, "max_sec": 54, "num_workers": 4, "pad_val": 1024},
    "model": {"vocab_size": 1025, "phoneme_vocab_size": 732, "embedding_dim": 512, "hidden_dim": 512,
              "head": 16, "linear_units": 2048, "n_layer": 24, "dropout": 0, "EOS": 1024, "random_bert": 0},
    "inference": {"top_k": 15},
}

_SOVITS_MARKERS = ("enc_p.", "dec.", "flow.", "ref_enc.", "quantizer.", "ssl_proj.", "enc_q.")


@dataclass
class GPTFile:
    """What a GPT file holds besides the tensors."""

    path: str
    config: dict[str, Any]
    info: str | None
    #: ``"v1"`` (512 phoneme symbols) or ``"v2"`` (732): which text front end the GPT expects
    symbol_version: str
    state_dict: "OrderedDict[str, Any]" = field(repr=False, default_factory=OrderedDict)


def _plain(value: Any) -> Any:
    """Config values as plain dicts/lists (files may hold OrderedDicts or attribute dicts)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _looks_like_sovits(keys: list[str]) -> bool:
    return any(k.startswith(_SOVITS_MARKERS) for k in keys)


def read_gpt_file(path: str | os.PathLike[str]) -> GPTFile:
    """Read a GPT ``.ckpt`` (or Lightning checkpoint) into a state dict without the ``model.`` prefix.

    Raises the named errors of :mod:`backend.models.errors` for empty, truncated, unsafe,
    foreign and wrong-kind files.
    """
    import torch

    name = str(path)
    if not Path(path).is_file():
        raise WeightsFileError(f"{name} does not exist", fix="check the path of the GPT weights (.ckpt)")
    obj = load_checkpoint(path, what="GPT weights")
    if not isinstance(obj, Mapping):
        raise WrongModelKindError(f"{name} holds a {type(obj).__name__}, not GPT weights",
                                  fix="pick a GPT .ckpt written by the trainer or the WebUI")
    if "weight" in obj and isinstance(obj["weight"], Mapping):
        weights, config, info = obj["weight"], obj.get("config"), obj.get("info")
    elif "state_dict" in obj and isinstance(obj["state_dict"], Mapping):
        weights, config = obj["state_dict"], obj.get("hyper_parameters", {}).get("config") \
            if isinstance(obj.get("hyper_parameters"), Mapping) else None
        info = None
    else:
        weights, config, info = obj, None, None
    keys = [str(k) for k in weights.keys()]
    if _looks_like_sovits(keys) or (config is not None and not isinstance(config, Mapping)):
        raise WrongModelKindError(f"{name} is a SoVITS weights file, not a GPT one",
                                  fix="give it as the SoVITS model; the GPT file ends in .ckpt")
    if keys and all(k.startswith(PREFIX) for k in keys):
        strip = len(PREFIX)
    elif "ar_predict_layer.weight" in keys:  # a bare decoder state dict
        strip = 0
    else:
        raise WrongModelKindError(f"{name} is a checkpoint but not of a GPT model (keys like {keys[:2]})",
                                  fix="pick a GPT .ckpt written by the trainer or the WebUI")
    sd: OrderedDict[str, Any] = OrderedDict()
    for k, v in weights.items():
        if not isinstance(v, torch.Tensor):
            raise WeightsFileError(f"{name}: entry {k} is not a tensor", fix="the file is damaged; fetch it again")
        sd[str(k)[strip:]] = v
    required = ("ar_text_embedding.word_embeddings.weight", "ar_predict_layer.weight", "bert_proj.weight")
    missing = [k for k in required if k not in sd]
    if missing:
        raise WeightsFileError(f"{name} lacks GPT tensors {missing}", fix="the file is incomplete; fetch it again")
    rows = sd["ar_text_embedding.word_embeddings.weight"].shape[0]
    return GPTFile(path=name, config=_plain(config) if config is not None else {}, info=info,
                   symbol_version="v1" if rows == 512 else "v2", state_dict=sd)


def _config_from_shapes(sd: Mapping[str, Any]) -> dict[str, Any]:
    """A ``model`` section derived from the tensors, for files without a config (heads: 32 dims each)."""
    hidden = sd["bert_proj.weight"].shape[0]
    layers = 1 + max(int(k.split(".")[2]) for k in sd if k.startswith("h.layers."))
    return {"vocab_size": sd["ar_predict_layer.weight"].shape[0],
            "phoneme_vocab_size": sd["ar_text_embedding.word_embeddings.weight"].shape[0],
            "embedding_dim": hidden, "hidden_dim": hidden, "head": max(1, hidden // 32),
            "n_layer": layers, "linear_units": 4 * hidden, "dropout": 0,
            "EOS": sd["ar_predict_layer.weight"].shape[0] - 1}


def build_gpt(gfile: GPTFile, device: Any = "cpu", dtype: Any = None):
    """A :class:`Text2SemanticDecoder` for ``gfile``, weights loaded strictly, in eval mode."""
    import torch

    from . import GPTConfig, Text2SemanticDecoder

    section = gfile.config.get("model") if gfile.config else None
    try:
        cfg = GPTConfig.from_model_section(section if section else _config_from_shapes(gfile.state_dict))
    except (ValueError, TypeError, KeyError) as e:
        raise WeightsFileError(f"{gfile.path}: unusable GPT config ({e})",
                               fix="the file's config['model'] section is damaged") from e
    dtype = dtype or torch.float32
    with torch.device("meta"):
        model = Text2SemanticDecoder(cfg)
    model = model.to_empty(device=device)
    try:
        model.load_state_dict(gfile.state_dict, strict=True)
    except RuntimeError as e:
        raise WeightsFileError(f"{gfile.path}: tensors do not match its config ({str(e).splitlines()[0][:300]})",
                               fix="the file is damaged or was edited; fetch or export it again") from e
    model = model.to(dtype=dtype).eval()
    model.file = gfile
    gfile.state_dict = OrderedDict()  # the model holds the tensors now
    model.file_symbol_version = gfile.symbol_version
    return model


def load_gpt(path: str | os.PathLike[str], device: Any = "cpu", dtype: Any = None):
    """Read an official-format GPT file and return the ready model (eval mode).

    ``model.file`` keeps the file's ``config`` and ``info``; ``model.file_symbol_version`` says
    which phoneme set (v1/v2) it expects.
    """
    return build_gpt(read_gpt_file(path), device=device, dtype=dtype)


def gpt_checkpoint(model, config: Mapping[str, Any] | None = None, info: str | None = None) -> dict[str, Any]:
    """The official export object for ``model``: fp16 ``model.*`` weights, config, info."""
    cfg = _plain(config) if config is not None else _plain(getattr(getattr(model, "file", None), "config", None) or DEFAULT_CONFIG)
    cfg = dict(cfg)
    cfg["model"] = {**cfg.get("model", {}), **model.config.model_section()}
    weight: OrderedDict[str, Any] = OrderedDict(
        (PREFIX + k, v.detach().to("cpu").half()) for k, v in model.state_dict().items())
    out: dict[str, Any] = OrderedDict()
    out["weight"] = weight
    out["config"] = cfg
    out["info"] = info if info is not None else "GPT-e0"
    return out


def save_gpt(model, path: str | os.PathLike[str], config: Mapping[str, Any] | None = None,
             info: str | None = None) -> Path:
    """Write ``model`` to ``path`` in the official format (atomically)."""
    data = save_checkpoint(gpt_checkpoint(model, config, info))
    atomic_write_bytes(path, data)
    return Path(path)


def export_gpt(model, out_dir: str | os.PathLike[str], exp_name: str, epoch: int,
               config: Mapping[str, Any] | None = None) -> Path:
    """Write ``<out_dir>/<exp_name>-e<epoch>.ckpt`` with ``info`` ``"GPT-e<epoch>"``, as the official trainer."""
    return save_gpt(model, Path(out_dir) / f"{exp_name}-e{epoch}.ckpt", config, f"GPT-e{epoch}")
