"""GPT weight files: official layout in, official layout out, named errors for everything else."""

from __future__ import annotations

import io
import json
import os
import pickletools
import zipfile
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
import torch
from gpt_helpers import CKPT, GPT_DIR, inputs, vector

from backend.models.errors import (
    EmptyWeightsFileError,
    NotAWeightsFileError,
    TruncatedWeightsFileError,
    UnsafeWeightsFileError,
    WeightsFileError,
    WrongModelKindError,
)
from backend.models.gpt import S1, S1LONGER_V1, S1LONGER_V2, GPTConfig, Text2SemanticDecoder
from backend.models.gpt.weights import export_gpt, load_gpt, read_gpt_file
from backend.models.safe_pickle import HParams, save_checkpoint


def _pickle_globals(data: bytes) -> set[str]:
    """Every ``module.name`` the pickle inside a torch zip file references."""
    zf = zipfile.ZipFile(io.BytesIO(data))
    pkl = zf.read(next(n for n in zf.namelist() if n.endswith("data.pkl")))
    found, strings = set(), []
    for op, arg, _ in pickletools.genops(pkl):
        if op.name in ("SHORT_BINUNICODE", "BINUNICODE", "UNICODE"):
            strings.append(arg)
        elif op.name == "GLOBAL":
            found.add(arg.replace(" ", "."))
        elif op.name == "STACK_GLOBAL":
            found.add(f"{strings[-2]}.{strings[-1]}")
    return found


@pytest.mark.parametrize("manifest, config", [
    ("gpt_v2_s1longer-v2", S1LONGER_V2), ("gpt_v1_s1longer", S1LONGER_V1), ("gpt_s1", S1)])
def test_state_dict_matches_official_manifest(manifest, config):
    spec = json.loads((GPT_DIR / "manifests" / f"{manifest}.json").read_text())
    with torch.device("meta"):
        model = Text2SemanticDecoder(GPTConfig.from_model_section(spec["info"]["model_config"]))
    assert model.config == config
    ours = [("model." + k, list(v.shape)) for k, v in model.state_dict().items()]
    theirs = [(k, v["shape"]) for k, v in spec["state_dict"].items()]
    assert ours == theirs  # same keys, same order, same shapes
    assert sum(v.numel() for v in model.state_dict().values()) == spec["info"]["n_parameters"]


def test_official_file_loads_as_is():
    f = read_gpt_file(CKPT)
    assert f.info == "GPT-e1" and f.config["data"]["max_sec"] == 54 and f.symbol_version == "v2"
    model = load_gpt(CKPT)
    assert not model.training and model.config.n_layer == 2 and model.config.head == 4
    assert model.file_symbol_version == "v2"
    official = torch.load(CKPT, weights_only=True)["weight"]
    for k, v in model.state_dict().items():
        assert torch.equal(v, official["model." + k].float()), k


def test_export_reloads_identically_in_official_format(tmp_path):
    model = load_gpt(CKPT)
    path = export_gpt(model, tmp_path, "myvoice", 7)
    assert path == tmp_path / "myvoice-e7.ckpt"
    data = path.read_bytes()
    assert data[:2] == b"PK"
    # layout and pickle globals exactly as the official exporter writes them
    raw = torch.load(io.BytesIO(data), weights_only=True)
    orig = torch.load(CKPT, weights_only=True)
    assert type(raw) is OrderedDict and list(raw) == ["weight", "config", "info"]
    assert type(raw["weight"]) is OrderedDict and list(raw["weight"]) == list(orig["weight"])
    assert all(v.dtype == torch.float16 for v in raw["weight"].values())
    assert all(torch.equal(raw["weight"][k], orig["weight"][k]) for k in orig["weight"])
    assert raw["config"] == orig["config"] and raw["info"] == "GPT-e7"
    assert _pickle_globals(data) == _pickle_globals(CKPT.read_bytes()) == {
        "collections.OrderedDict", "torch._utils._rebuild_tensor_v2", "torch.HalfStorage"}
    # and the reloaded model computes the same
    again = load_gpt(path)
    inp = inputs()
    a = model.infer(inp["x"], inp["prompt"], inp["bert"], top_k=1, early_stop_num=200, record_logits=True)
    b = again.infer(inp["x"], inp["prompt"], inp["bert"], top_k=1, early_stop_num=200, record_logits=True)
    assert torch.equal(a.tokens, b.tokens) and a.idx == b.idx
    assert torch.equal(a.step_logits, b.step_logits)
    np.testing.assert_array_equal(a.tokens.numpy(), vector("infer_panel_greedy")["y"])


def test_export_of_a_new_model_gets_a_config(tmp_path):
    torch.manual_seed(0)
    model = Text2SemanticDecoder(GPTConfig(hidden_dim=32, embedding_dim=32, head=2, n_layer=1,
                                           phoneme_vocab_size=512, linear_units=64))
    path = export_gpt(model, tmp_path, "fresh", 1)
    back = load_gpt(path)
    assert back.config == model.config and back.file.config["data"]["max_sec"] == 54
    assert back.file_symbol_version == "v1"
    for k, v in model.state_dict().items():
        assert torch.equal(back.state_dict()[k], v.half().float())


def test_lightning_checkpoint_is_read(tmp_path):
    orig = torch.load(CKPT, weights_only=True)
    p = tmp_path / "epoch=1-step=8.ckpt"
    p.write_bytes(save_checkpoint({"epoch": 1, "state_dict": OrderedDict((k, v.float()) for k, v in orig["weight"].items()),
                                   "hyper_parameters": {"config": orig["config"]}}))
    model = load_gpt(p)
    assert model.config.hidden_dim == 64


# -- bad files ---------------------------------------------------------------------------------

class _RunsCode:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_empty_truncated_random_and_missing(tmp_path):
    empty = tmp_path / "empty.ckpt"
    empty.write_bytes(b"")
    with pytest.raises(EmptyWeightsFileError):
        load_gpt(empty)
    cut = tmp_path / "cut.ckpt"
    cut.write_bytes(CKPT.read_bytes()[: CKPT.stat().st_size // 2])
    with pytest.raises(TruncatedWeightsFileError):
        load_gpt(cut)
    noise = tmp_path / "noise.ckpt"
    noise.write_bytes(np.random.default_rng(1).bytes(4096))
    with pytest.raises(NotAWeightsFileError):
        load_gpt(noise)
    with pytest.raises(WeightsFileError, match="does not exist"):
        load_gpt(tmp_path / "nothing.ckpt")


def test_code_running_pickle_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    bad = tmp_path / "evil.ckpt"
    buf = io.BytesIO()
    torch.save({"weight": {"model.x": torch.ones(1)}, "config": _RunsCode(marker)}, buf)
    bad.write_bytes(buf.getvalue())
    with pytest.raises(UnsafeWeightsFileError) as e:
        load_gpt(bad)
    assert e.value.fix and not marker.exists()


def test_sovits_file_given_as_gpt(tmp_path):
    p = tmp_path / "voice_e8_s96.pth"
    p.write_bytes(save_checkpoint({"weight": {"enc_p.text_embedding.weight": torch.zeros(732, 4).half()},
                                   "config": HParams.from_plain({"model": {"version": "v2"}}),
                                   "info": "8epoch_96iteration"}))
    with pytest.raises(WrongModelKindError, match="SoVITS"):
        load_gpt(p)


def test_other_checkpoints_are_not_gpt(tmp_path):
    d = tmp_path / "D_233333.pth"
    d.write_bytes(save_checkpoint({"weight": {"discriminators.0.convs.0.bias": torch.zeros(16)}}))
    with pytest.raises(WrongModelKindError):
        load_gpt(d)
    plain = tmp_path / "list.ckpt"
    plain.write_bytes(save_checkpoint([1, 2, 3]))
    with pytest.raises(WrongModelKindError):
        load_gpt(plain)


def test_tensors_that_do_not_fit_the_config(tmp_path):
    orig = torch.load(CKPT, weights_only=True)
    cfg = json.loads(json.dumps(orig["config"]))
    cfg["model"]["n_layer"] = 3
    p = tmp_path / "edited.ckpt"
    p.write_bytes(save_checkpoint({"weight": orig["weight"], "config": cfg, "info": "GPT-e1"}))
    with pytest.raises(WeightsFileError, match="do not match"):
        load_gpt(p)
    w = OrderedDict(orig["weight"])
    del w["model.ar_predict_layer.weight"]
    p.write_bytes(save_checkpoint({"weight": w, "config": orig["config"], "info": "GPT-e1"}))
    with pytest.raises(WeightsFileError, match="lacks"):
        load_gpt(p)


def test_bare_state_dict_without_prefix_is_read(tmp_path):
    """No config in the file: sizes come from the tensors (heads assumed 32 wide, as in s1 configs)."""
    orig = torch.load(CKPT, weights_only=True)
    p = tmp_path / "bare.ckpt"
    p.write_bytes(save_checkpoint(OrderedDict((k[len("model."):], v) for k, v in orig["weight"].items())))
    f = read_gpt_file(p)
    assert f.symbol_version == "v2" and f.config == {} and "ar_predict_layer.weight" in f.state_dict
    model = load_gpt(p)
    assert (model.config.n_layer, model.config.hidden_dim, model.config.head) == (2, 64, 2)
