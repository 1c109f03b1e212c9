"""Load and write PyTorch checkpoints without ever running code from the file.

Official weight files are ``torch.save`` zips whose pickle references a handful of globals:
``collections.OrderedDict``, torch's tensor rebuild helpers and storages, and — in SoVITS
files — the official ``utils.HParams`` class for the ``config`` entry. Plain ``torch.load``
would import and call whatever a pickle names, so a malicious file could run code. We use
torch's own ``weights_only`` unpickler (which only builds tensors and plain containers) and
allow exactly one extra name, ``utils.HParams``, mapped onto our attribute dict
:class:`HParams`. Anything else is refused with :class:`UnsafeWeightsFileError`.

Writing goes the other way: :func:`save_checkpoint` emits ``utils.HParams`` for our
:class:`HParams` values so the official WebUI unpickles the config with its own class.
"""

from __future__ import annotations

import copyreg
import io
import os
import pickle
import types
import zipfile
from pathlib import Path
from typing import Any, BinaryIO, SupportsIndex

from .errors import (
    EmptyWeightsFileError,
    NotAWeightsFileError,
    TruncatedWeightsFileError,
    UnsafeWeightsFileError,
)

#: the two-byte prefixes the official SoVITS exporter writes over ``PK`` (see weights.py).
ZIP_MAGIC = b"PK"


class HParams(dict):
    """Attribute-access dict standing in for the official ``utils.HParams``.

    The official class keeps its entries in ``__dict__`` and the pickle restores that dict
    through BUILD; ``__setstate__`` turns it into dict items here. Nested sections
    (``train``, ``data``, ``model``) are HParams as well.
    """

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = value

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.update(state)

    @classmethod
    def from_plain(cls, value: Any) -> Any:
        """Recursively turn nested plain dicts into HParams (lists are walked too)."""
        if isinstance(value, dict):
            return cls({k: cls.from_plain(v) for k, v in value.items()})
        if isinstance(value, list):
            return [cls.from_plain(v) for v in value]
        return value

    def to_plain(self) -> dict[str, Any]:
        """Recursively turn this HParams tree into plain dicts (for JSON, comparisons)."""

        def plain(v: Any) -> Any:
            if isinstance(v, dict):
                return {k: plain(x) for k, x in v.items()}
            if isinstance(v, list):
                return [plain(x) for x in v]
            return v

        return plain(self)


def _read_bytes(source: str | os.PathLike[str] | bytes | BinaryIO) -> bytes:
    if isinstance(source, (bytes, bytearray)):
        return bytes(source)
    if isinstance(source, (str, os.PathLike)):
        return Path(source).read_bytes()
    return source.read()


def load_checkpoint(
    source: str | os.PathLike[str] | bytes | BinaryIO,
    *,
    restore_zip_magic: bool = False,
    what: str = "weights file",
) -> Any:
    """Unpickle a ``torch.save`` file allowing only tensors, plain data and ``utils.HParams``.

    ``restore_zip_magic`` puts ``PK`` back over a 2-byte version header (official v2Pro and
    LoRA SoVITS files) before reading. Tensors land on the CPU. Raises the named
    :mod:`backend.models.errors` for empty, truncated, non-checkpoint and unsafe files.
    """
    import torch

    name = str(source) if isinstance(source, (str, os.PathLike)) else what
    data = _read_bytes(source)
    if not data:
        raise EmptyWeightsFileError(f"{name} is empty (0 bytes)",
                                    fix="copy or download the file again")
    if restore_zip_magic and len(data) >= 2 and data[:2] != ZIP_MAGIC:
        data = ZIP_MAGIC + data[2:]
    if data[:2] != ZIP_MAGIC:
        if data[:1] == b"\x80":  # a bare (legacy, non-zip) pickle: refuse rather than guess
            raise NotAWeightsFileError(f"{name} is a legacy PyTorch pickle, not a zip checkpoint",
                                       fix="re-save it with a current PyTorch or use the official export")
        raise NotAWeightsFileError(f"{name} is not a PyTorch checkpoint (no zip header)",
                                   fix="pick the .pth/.ckpt file the trainer or WebUI wrote")
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        names = zf.namelist()
    except zipfile.BadZipFile as e:
        raise TruncatedWeightsFileError(f"{name} is cut short or damaged ({e})",
                                        fix="the download or copy was interrupted; fetch it again") from e
    if not any(n.endswith("data.pkl") for n in names):
        raise NotAWeightsFileError(f"{name} is a zip archive but not a PyTorch checkpoint",
                                   fix="pick the .pth/.ckpt file the trainer or WebUI wrote")
    bad = zf.testzip() if len(data) < (64 << 20) else None  # CRC check is cheap for small files
    if bad is not None:
        raise TruncatedWeightsFileError(f"{name} is damaged (bad CRC in {bad})",
                                        fix="fetch or copy the file again")
    try:
        with torch.serialization.safe_globals([(HParams, "utils.HParams")]):
            return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        msg = str(e)
        lines = [ln for ln in msg.splitlines() if ln.strip() and not ln.startswith(("Weights only", "Check the"))]
        reason = lines[0] if lines else msg
        if any(w in msg for w in ("GLOBAL", "global", "unrecognized function", "allowlisted", "blocked")):
            raise UnsafeWeightsFileError(
                f"{name} asks to load Python code, which we never run ({reason[:200]})",
                fix="only use weight files from the official trainer, the WebUI or this program") from e
        raise TruncatedWeightsFileError(f"{name} could not be read ({msg[:200]})",
                                        fix="fetch or copy the file again") from e
    except (RuntimeError, EOFError, ValueError, KeyError, zipfile.BadZipFile) as e:
        raise TruncatedWeightsFileError(f"{name} could not be read ({str(e)[:200]})",
                                        fix="fetch or copy the file again") from e


class _OfficialHParams:
    """Write-only twin of the official ``utils.HParams``: state = its ``__dict__``."""

    def __init__(self, items: dict[str, Any]) -> None:
        self.__dict__.update(items)

    def __reduce_ex__(self, protocol: SupportsIndex):  # NEWOBJ + BUILD, exactly as the official file
        return (copyreg.__newobj__, (type(self),), dict(self.__dict__))  # type: ignore[attr-defined]


def _official_tree(value: Any) -> Any:
    if isinstance(value, HParams):
        return _OfficialHParams({k: _official_tree(v) for k, v in value.items()})
    if isinstance(value, dict):
        out = type(value)() if type(value) is not dict else {}
        for k, v in value.items():
            out[k] = _official_tree(v)
        return out
    if isinstance(value, list):
        return [_official_tree(v) for v in value]
    return value


class _OfficialPickler(pickle._Pickler):  # type: ignore[name-defined]
    """Pure-Python pickler that names our HParams twin ``utils.HParams`` in the stream."""

    def save_global(self, obj: Any, name: str | None = None) -> None:
        if obj is _OfficialHParams:
            self.write(pickle.GLOBAL + b"utils\nHParams\n")  # type: ignore[attr-defined]
            self.memoize(obj)  # type: ignore[attr-defined]
            return
        super().save_global(obj, name)

    dispatch = dict(pickle._Pickler.dispatch)  # type: ignore[attr-defined]
    dispatch[type] = save_global


_pickle_module = types.SimpleNamespace(Pickler=_OfficialPickler, Unpickler=pickle.Unpickler,
                                       __name__="gsv_official_pickle")


def save_checkpoint(obj: Any, header: bytes = ZIP_MAGIC) -> bytes:
    """Serialise ``obj`` the way the official exporter does and return the file bytes.

    Protocol 2, ``torch.save`` zip layout; :class:`HParams` values become ``utils.HParams``.
    ``header`` (2 bytes) replaces ``PK`` for the versions that carry one. The caller writes
    the bytes atomically.
    """
    import torch

    if len(header) != 2:
        raise ValueError("header must be exactly 2 bytes")
    buf = io.BytesIO()
    torch.save(_official_tree(obj), buf, pickle_module=_pickle_module, pickle_protocol=2)
    data = buf.getvalue()
    return header + data[2:]
