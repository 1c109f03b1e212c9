"""Official SoVITS weight files: read, recognise the version, write exports the WebUI loads.

File facts (official exporter): a ``torch.save`` zip (pickle protocol 2) holding
``{"weight": {key: fp16 tensor} (no enc_q.*), "config": utils.HParams, "info": "<e>epoch_<s>iteration"}``;
v2Pro/v2ProPlus files have their first two bytes overwritten with ``b"05"``/``b"06"``
(``b"03"``/``b"04"`` are v3/v4 LoRA files). Pretrained base files (``s2G*.pth``) have the same
layout but keep ``enc_q.*``; trainer checkpoints ``G_<step>.pth`` hold ``{"model", "iteration",
"optimizer", "learning_rate"}``. We identify the version by the header, the MD5 of the first
8 KiB for the six official pretrained files, and the weight shapes — shapes win, because
they decide whether the file can be built at all.
"""

from __future__ import annotations

import hashlib
import os
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..errors import (
    UnsupportedModelVersionError,
    WeightsFileError,
    WrongModelKindError,
)
from ..safe_pickle import ZIP_MAGIC, HParams, load_checkpoint, save_checkpoint

#: 2-byte headers → the version they announce.
HEADER_VERSIONS: dict[bytes, str] = {b"00": "v1", b"01": "v2", b"02": "v3", b"03": "v3", b"04": "v4",
                                     b"05": "v2Pro", b"06": "v2ProPlus"}
LORA_HEADERS = (b"03", b"04")
#: the header each version's export carries.
EXPORT_HEADERS: dict[str, bytes] = {"v1": ZIP_MAGIC, "v2": ZIP_MAGIC, "v2Pro": b"05", "v2ProPlus": b"06"}
#: MD5 of the first 8192 bytes of the official pretrained generator files → (file, version).
KNOWN_PRETRAINED_MD5: dict[str, tuple[str, str]] = {
    "dc3c97e17592963677a4a1681f30c653": ("s2G488k.pth", "v1"),
    "6642b37f3dbb1f76882b69937c95a5f3": ("gsv-v2final-pretrained/s2G2333k.pth", "v2"),
    "c7e9fce2223f3db685cdfa1e6368728a": ("v2Pro/s2Gv2Pro.pth", "v2Pro"),
    "66b313e39455b57ab1b0bc0b239c9d0a": ("v2Pro/s2Gv2ProPlus.pth", "v2ProPlus"),
    "43797be674a37c1c83ee81081941ed0f": ("s2Gv3.pth", "v3"),
    "4f26b9476d0c5033e04162c486074374": ("gsv-v4-pretrained/s2Gv4.pth", "v4"),
}
SUPPORTED = ("v1", "v2", "v2Pro", "v2ProPlus")


@dataclass
class SoVITSFile:
    """What a SoVITS weights file holds, with the version we recognised."""

    version: str
    weight: dict[str, Any]
    config: HParams | None
    info: str | None
    header: bytes
    layout: str  # "export" | "pretrained" | "trainer"
    path: Path | None = None
    pretrained_name: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def has_posterior(self) -> bool:
        return any(k.startswith("enc_q.") for k in self.weight)

    def shapes(self) -> dict[str, tuple[int, ...]]:
        return {k: tuple(v.shape) for k, v in self.weight.items()}


def head_md5(data: bytes) -> str:
    return hashlib.md5(data[:8192]).hexdigest()


def _unsupported(version: str, name: str) -> UnsupportedModelVersionError:
    return UnsupportedModelVersionError(
        f"{name} is a SoVITS {version} model; this program runs v1, v2, v2Pro and v2ProPlus",
        fix="pick a v1/v2/v2Pro/v2ProPlus SoVITS weights file")


def _gpt_error(name: str) -> WrongModelKindError:
    return WrongModelKindError(f"{name} is a GPT (stage 1) weights file, not SoVITS",
                               fix="give it as the GPT model; SoVITS files are the .pth ones in SoVITS_weights*")


def version_from_weights(weight: Mapping[str, Any], header: bytes = ZIP_MAGIC,
                         config: Mapping[str, Any] | None = None, name: str = "file") -> str:
    """The SoVITS version a state dict belongs to (raises named errors for other kinds)."""
    keys = weight.keys()
    if any(k.startswith("model.") for k in keys):
        raise _gpt_error(name)
    if any(k.startswith("discriminators.") for k in keys):
        raise WrongModelKindError(f"{name} holds a SoVITS discriminator, not the synthesizer",
                                  fix="pick the generator file (s2G*.pth or an exported SoVITS .pth)")
    if any(k.startswith(("cfm.", "bridge.", "wns1.")) for k in keys):
        raise _unsupported("v3/v4", name)
    if "enc_p.text_embedding.weight" not in keys or "dec.conv_pre.weight" not in keys:
        raise WrongModelKindError(f"{name} is a PyTorch checkpoint but not a SoVITS model",
                                  fix="pick an exported SoVITS .pth or an official s2G*.pth")
    if "sv_emb.weight" in keys:
        if header in (b"05", b"06"):
            return HEADER_VERSIONS[header]
        model_cfg = (config or {}).get("model") if config else None
        if model_cfg and model_cfg.get("version") in ("v2Pro", "v2ProPlus"):
            return str(model_cfg["version"])
        ups0 = weight.get("dec.ups.0.weight_v")
        return "v2ProPlus" if ups0 is not None and ups0.shape[-1] == 20 else "v2Pro"
    return "v1" if weight["enc_p.text_embedding.weight"].shape[0] == 322 else "v2"


def read_sovits(source: str | os.PathLike[str] | bytes, name: str | None = None) -> SoVITSFile:
    """Read an official SoVITS file (export, pretrained base, or trainer ``G_*.pth``)."""
    path = None if isinstance(source, (bytes, bytearray)) else Path(source)
    label = name or (str(path) if path else "SoVITS weights")
    data = bytes(source) if path is None else path.read_bytes() if path.is_file() else None
    if data is None:
        raise WeightsFileError(f"{label} does not exist or is not a file", fix="check the path")
    header = data[:2]
    if header in LORA_HEADERS or header == b"02":
        raise _unsupported(HEADER_VERSIONS[header] + (" LoRA" if header in LORA_HEADERS else ""), label)
    md5 = head_md5(data)
    known = KNOWN_PRETRAINED_MD5.get(md5)
    if known and known[1] not in SUPPORTED:
        raise _unsupported(known[1], label)
    ckpt = load_checkpoint(data, restore_zip_magic=header in HEADER_VERSIONS, what=label)
    if not isinstance(ckpt, Mapping):
        raise WrongModelKindError(f"{label} does not hold a model (top level is {type(ckpt).__name__})",
                                  fix="pick an exported SoVITS .pth or an official s2G*.pth")
    if "weight" in ckpt and isinstance(ckpt["weight"], Mapping):
        weight, layout = dict(ckpt["weight"]), "export"
    elif "model" in ckpt and isinstance(ckpt["model"], Mapping):
        weight, layout = dict(ckpt["model"]), "trainer"
    elif "state_dict" in ckpt:
        raise _gpt_error(label)
    else:
        raise WrongModelKindError(f"{label} is a PyTorch checkpoint without model weights",
                                  fix="pick an exported SoVITS .pth or an official s2G*.pth")
    config = ckpt.get("config")
    if config is not None and not isinstance(config, Mapping):
        config = None
    if isinstance(config, Mapping) and not isinstance(config, HParams):
        config = HParams.from_plain(dict(config))
    version = version_from_weights(weight, header, config, label)
    if layout == "export" and any(k.startswith("enc_q.") for k in weight):
        layout = "pretrained"
    extra = {k: v for k, v in ckpt.items() if k not in ("weight", "model", "config", "info")}
    return SoVITSFile(version=version, weight=weight, config=config, info=ckpt.get("info"), header=header,
                      layout=layout, path=path, pretrained_name=known[0] if known else None, extra=extra)


def model_config(f: SoVITSFile):
    """The :class:`SoVITSConfig` that fits a file: its stored config, refined by the weight shapes."""
    from .config import SoVITSConfig

    section = f.config.get("model") if f.config else None
    cfg = SoVITSConfig.from_model_section(section, f.version) if section else SoVITSConfig.for_version(f.version)
    if f.config and "data" in f.config:
        data = f.config["data"]
        if "filter_length" in data:
            cfg = replace(cfg, spec_channels=int(data["filter_length"]) // 2 + 1)
    return cfg.adapt_to_weights(f.shapes())


def export_state_dict(state_dict: Mapping[str, Any]) -> dict[str, Any]:
    """The ``weight`` entry of an export: every key but ``enc_q.*``, each tensor as fp16."""
    out: dict[str, Any] = {}
    for k, v in state_dict.items():
        if "enc_q" in k:
            continue
        out[k] = v.detach().to("cpu").half().clone()
    return out


def sovits_file_bytes(state_dict: Mapping[str, Any], config: Mapping[str, Any], version: str,
                      epoch: int, step: int) -> bytes:
    """Serialise an export exactly like the official ``savee`` (+ the version header)."""
    if version not in EXPORT_HEADERS:
        raise _unsupported(version, "export")
    weight = export_state_dict(state_dict)
    found = version_from_weights(weight, EXPORT_HEADERS[version], config, "export")
    if found != version:
        raise WeightsFileError(f"these weights are a {found} model, not {version}",
                               fix="export with the version the model was trained as")
    cfg = HParams.from_plain(dict(config.to_plain() if isinstance(config, HParams) else config))
    obj = OrderedDict()
    obj["weight"] = weight
    obj["config"] = cfg
    obj["info"] = f"{epoch}epoch_{step}iteration"
    data = save_checkpoint(obj, header=EXPORT_HEADERS[version])
    if version == "v2":  # headerless: the official tells v1 from v2 by the size
        from ..size_class import keep_v2_size_class

        data = keep_v2_size_class(data)
    return data


def write_sovits(path: str | os.PathLike[str], state_dict: Mapping[str, Any], config: Mapping[str, Any],
                 version: str, epoch: int, step: int) -> Path:
    """Write an official-format SoVITS export atomically (never a half-written file)."""
    from ...fsutil import atomic_write_bytes

    data = sovits_file_bytes(state_dict, config, version, epoch, step)
    p = Path(path)
    atomic_write_bytes(p, data)
    return p


def read_discriminator(source: str | os.PathLike[str] | bytes) -> dict[str, Any]:
    """State dict of a discriminator file (pretrained ``s2D*.pth`` or trainer ``D_*.pth``)."""
    label = "discriminator weights" if isinstance(source, (bytes, bytearray)) else str(source)
    ckpt = load_checkpoint(source, what=label)
    sd = ckpt.get("weight", ckpt.get("model")) if isinstance(ckpt, Mapping) else None
    if not isinstance(sd, Mapping) or not any(str(k).startswith("discriminators.") for k in sd):
        raise WrongModelKindError(f"{label} is not a SoVITS discriminator file",
                                  fix="pick s2D*.pth (pretrained) or D_<step>.pth (training)")
    return dict(sd)
