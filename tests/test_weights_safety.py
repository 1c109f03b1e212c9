"""Bad weight files get named errors and never run code."""

from __future__ import annotations

import io
import os
import pickle
import zipfile
from pathlib import Path

import pytest
import torch

from backend.errors import GsvError
from backend.models.errors import (
    EmptyWeightsFileError,
    NotAWeightsFileError,
    TruncatedWeightsFileError,
    UnsafeWeightsFileError,
)
from backend.models.safe_pickle import HParams, load_checkpoint, save_checkpoint


class _RunsCode:
    """Pickles as a call to os.system: what a malicious checkpoint does."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _torch_bytes(obj) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def test_roundtrip_keeps_tensors_and_hparams() -> None:
    cfg = HParams.from_plain({"model": {"gin_channels": 32, "sizes": [1, 2]}, "version": "v2"})
    obj = {"weight": {"a": torch.arange(6, dtype=torch.float16).reshape(2, 3)}, "config": cfg, "info": "x"}
    data = save_checkpoint(obj)
    assert data[:2] == b"PK" and b"utils\nHParams\n" in data
    back = load_checkpoint(data)
    assert isinstance(back["config"], HParams) and back["config"].model.gin_channels == 32
    assert back["config"].to_plain() == cfg.to_plain()
    assert torch.equal(back["weight"]["a"], obj["weight"]["a"])


def test_header_bytes_are_restored() -> None:
    data = save_checkpoint({"weight": {"w": torch.ones(2)}}, header=b"05")
    assert data[:2] == b"05"
    with pytest.raises(NotAWeightsFileError):
        load_checkpoint(data)
    assert torch.equal(load_checkpoint(data, restore_zip_magic=True)["weight"]["w"], torch.ones(2))


def test_empty_file(tmp_path: Path) -> None:
    p = tmp_path / "e.pth"
    p.write_bytes(b"")
    with pytest.raises(EmptyWeightsFileError) as ei:
        load_checkpoint(p)
    assert isinstance(ei.value, GsvError) and ei.value.fix


def test_random_bytes() -> None:
    with pytest.raises(NotAWeightsFileError):
        load_checkpoint(os.urandom(4096))


def test_truncated_zip() -> None:
    data = _torch_bytes({"w": torch.randn(1000)})
    with pytest.raises(TruncatedWeightsFileError):
        load_checkpoint(data[: len(data) // 2])


def test_zip_without_checkpoint() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("readme.txt", "hello")
    with pytest.raises(NotAWeightsFileError):
        load_checkpoint(buf.getvalue())


def test_malicious_pickle_is_refused_and_never_runs(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    data = _torch_bytes({"weight": {}, "config": _RunsCode(marker)})
    with pytest.raises(UnsafeWeightsFileError):
        load_checkpoint(data)
    assert not marker.exists()
    # the same attack behind a version header
    with pytest.raises(UnsafeWeightsFileError):
        load_checkpoint(b"05" + data[2:], restore_zip_magic=True)
    assert not marker.exists()


def test_legacy_raw_pickle_is_refused(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    with pytest.raises(NotAWeightsFileError):
        load_checkpoint(pickle.dumps(_RunsCode(marker), protocol=2))
    assert not marker.exists()
