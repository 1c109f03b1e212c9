"""HuBERT content features and semantic codes as the official dataset preparation makes them
(fixtures/ssl: tiny random HubertModel + the official script's inputs and outputs)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from backend.models import load_sovits
from backend.models.safe_pickle import load_checkpoint
from backend.models.ssl import INFERENCE_TAIL_ZEROS, ContentEncoder, inference_input, training_input

FIX = Path(__file__).parent / "fixtures" / "ssl"
ITEMS = ("en_fox_44k_stereo", "zh_gongyuan_16k_mono")


@pytest.fixture(scope="module")
def encoder() -> ContentEncoder:
    return ContentEncoder.from_pretrained(FIX / "hubert_tiny")


@pytest.fixture(scope="module")
def recorded() -> dict[str, np.ndarray]:
    with np.load(FIX / "intermediates.npz") as z:
        return {k: z[k] for k in z.files}


@pytest.mark.parametrize("item", ITEMS)
def test_training_input_scaling_and_resampling(recorded, item: str) -> None:
    got = training_input(recorded[f"{item}__load_audio_32k"])
    np.testing.assert_allclose(got, recorded[f"{item}__hubert_input_16k"][0], rtol=0, atol=1e-3)  # ≈1e3 amplitude


@pytest.mark.parametrize("item", ITEMS)
def test_cnhubert_features(encoder, recorded, item: str) -> None:
    feats = encoder(training_input(recorded[f"{item}__load_audio_32k"]))
    expected = load_checkpoint(FIX / f"{item}.wav.pt")
    assert feats.shape == expected.shape and feats.dtype == torch.float32
    torch.testing.assert_close(feats, expected.float(), rtol=1e-4, atol=1e-4)


@pytest.mark.slow
def test_semantic_codes_from_features() -> None:
    sovits = load_sovits(FIX.parent / "sovits_v2_tiny" / "sovits_v2_tiny.pth")
    lines = (FIX / "6-name2semantic.tsv").read_text().splitlines()
    assert lines[0] == "item_name\tsemantic_audio"
    for line in lines[1:]:
        name, codes = line.split("\t")
        feats = load_checkpoint(FIX / f"{name}.pt").float()
        got = sovits.extract_latent(feats)[0, 0].tolist()
        assert got == [int(c) for c in codes.split()]


def test_inference_input_appends_official_tail() -> None:
    x = np.linspace(-0.5, 0.5, 16000, dtype=np.float32)
    y = inference_input(x)
    assert y.shape == (16000 + INFERENCE_TAIL_ZEROS,) and not y[16000:].any() and np.array_equal(y[:16000], x)


def test_batch_and_1d_inputs_agree(encoder) -> None:
    g = torch.Generator().manual_seed(3)
    wav = torch.randn(2, 8000, generator=g)
    both = encoder(wav)
    assert both.shape == (2, 768, 24)
    torch.testing.assert_close(encoder(wav[1]), both[1:], rtol=1e-5, atol=1e-5)
