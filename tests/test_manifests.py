"""Full-size modules have exactly the official state_dict keys and shapes (fixtures/manifests).

Built on the meta device: no memory, no initialisation cost.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from backend.models.sovits import MultiPeriodDiscriminator, SoVITS, SoVITSConfig
from backend.models.sovits.weights import export_state_dict

FIX = Path(__file__).parent / "fixtures" / "manifests"


def _manifest(name: str) -> dict:
    return json.loads((FIX / f"{name}.json").read_text())


def _listing(module: torch.nn.Module) -> dict[str, list[int]]:
    return {k: list(v.shape) for k, v in module.state_dict().items()}


@pytest.mark.parametrize("version", ["v1", "v2", "v2Pro", "v2ProPlus"])
@pytest.mark.slow
def test_sovits_keys_and_shapes(version: str) -> None:
    man = _manifest(f"sovits_{version}")
    with torch.device("meta"):
        model = SoVITS(SoVITSConfig.for_version(version))
    ours = _listing(model)
    expected = {k: v["shape"] for k, v in man["state_dict"].items()}
    assert list(ours) == list(expected)  # same keys in the same order
    assert ours == expected
    n_params = sum(p.numel() for p in model.parameters())
    assert n_params == man["info"]["n_parameters"]
    exported = export_state_dict({k: torch.empty(0) for k in ours})
    assert sorted(exported) == sorted(k for k, v in man["state_dict"].items() if v["exported"])
    assert len(exported) == man["info"]["n_exported_keys"]


@pytest.mark.parametrize("version,name", [("v2", "mpd_v2"), ("v2Pro", "mpd_v2Pro")])
def test_discriminator_keys_and_shapes(version: str, name: str) -> None:
    man = _manifest(name)
    with torch.device("meta"):
        mpd = MultiPeriodDiscriminator(version)
    ours = _listing(mpd)
    assert list(ours) == list(man["state_dict"])
    assert ours == {k: v["shape"] for k, v in man["state_dict"].items()}
    assert sum(p.numel() for p in mpd.parameters()) == man["info"]["n_parameters"]


@pytest.mark.slow
def test_inference_model_drops_only_the_posterior_encoder() -> None:
    with torch.device("meta"):
        full = SoVITS(SoVITSConfig.for_version("v2"))
        infer = SoVITS(SoVITSConfig.for_version("v2"), with_posterior=False)
    assert set(full.state_dict()) - set(infer.state_dict()) == {k for k in full.state_dict() if k.startswith("enc_q.")}
