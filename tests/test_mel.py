"""Spectrogram and mel functions reproduce fixtures/mel (official mel_processing + librosa)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from backend.models.mel import mel_filterbank, mel_spectrogram, spec_to_mel, spectrogram

FIX = Path(__file__).parent / "fixtures" / "mel"


def _load():
    with np.load(FIX / "inputs.npz") as i, np.load(FIX / "outputs.npz") as o:
        return torch.from_numpy(i["wav"]), {k: o[k] for k in o.files}


def test_filterbank_equals_librosa_slaney() -> None:
    _, out = _load()
    fb = mel_filterbank(sr=32000, n_fft=2048, n_mels=128, fmin=0.0, fmax=None)
    assert fb.dtype == np.float32 and fb.shape == (128, 1025)
    np.testing.assert_allclose(fb, out["mel_basis"], rtol=1e-6, atol=1e-9)


def test_spectrogram() -> None:
    wav, out = _load()
    spec = spectrogram(wav, 2048, 32000, 640, 2048, center=False)
    assert spec.shape == (1, 1025, 64)  # 1 + (41000 + 1408 - 2048) // 640
    np.testing.assert_allclose(spec.numpy(), out["spec"], rtol=1e-5, atol=1e-4)


def test_log_mel_both_ways() -> None:
    wav, out = _load()
    mel = mel_spectrogram(wav, 2048, 128, 32000, 640, 2048, 0.0, None, center=False)
    np.testing.assert_allclose(mel.numpy(), out["mel"], rtol=0, atol=1e-4)
    from_spec = spec_to_mel(torch.from_numpy(out["spec"]), 2048, 128, 32000, 0.0, None)
    np.testing.assert_allclose(from_spec.numpy(), out["mel_from_spec"], rtol=0, atol=1e-4)


def test_batched_and_float64() -> None:
    wav, out = _load()
    batch = torch.cat([wav, wav.flip(-1)])
    spec = spectrogram(batch)
    assert spec.shape == (2, 1025, 64)
    np.testing.assert_allclose(spec[0].numpy(), out["spec"][0], rtol=1e-5, atol=1e-4)
    spec64 = spectrogram(wav.double())
    assert spec64.dtype == torch.float64
    np.testing.assert_allclose(spec64.numpy(), out["spec"], rtol=1e-5, atol=1e-4)


def test_cached_tables_serve_autograd_after_inference_use() -> None:
    """A mel first computed under inference mode must not poison a later training (grad) pass."""
    wav, _ = _load()
    with torch.inference_mode():
        mel_spectrogram(wav)
    x = wav.clone().requires_grad_(True)
    mel_spectrogram(x).mean().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()
