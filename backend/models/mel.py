"""Linear spectrogram and log-mel functions with the reference numerics (torch.stft, no torchaudio).

``spectrogram`` is what SoVITS consumes (reference encoder, posterior encoder): reflect-pad
``(n_fft − hop) / 2`` on both sides, periodic Hann window, ``center=False``, magnitude
``sqrt(re² + im² + 1e-8)``. ``mel_filterbank`` reproduces ``librosa.filters.mel`` (Slaney mel
scale and area normalisation, float32 result) without importing librosa. Windows and
filterbanks are cached per (parameters, dtype, device).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F

# Slaney mel scale: linear below 1 kHz (200/3 Hz per mel), logarithmic above.
_F_SP = 200.0 / 3
_MIN_LOG_HZ = 1000.0
_MIN_LOG_MEL = _MIN_LOG_HZ / _F_SP
_LOGSTEP = math.log(6.4) / 27.0


def hz_to_mel(f: np.ndarray) -> np.ndarray:
    f = np.asanyarray(f, dtype=np.float64)
    mel = f / _F_SP
    log_part = f >= _MIN_LOG_HZ
    return np.where(log_part, _MIN_LOG_MEL + np.log(np.maximum(f, 1e-300) / _MIN_LOG_HZ) / _LOGSTEP, mel)


def mel_to_hz(m: np.ndarray) -> np.ndarray:
    m = np.asanyarray(m, dtype=np.float64)
    hz = _F_SP * m
    return np.where(m >= _MIN_LOG_MEL, _MIN_LOG_HZ * np.exp(_LOGSTEP * (m - _MIN_LOG_MEL)), hz)


@lru_cache(maxsize=16)
def _mel_filterbank_np(sr: int, n_fft: int, n_mels: int, fmin: float, fmax: float | None) -> np.ndarray:
    if fmax is None:
        fmax = sr / 2.0
    fft_freqs = np.linspace(0, sr / 2.0, 1 + n_fft // 2)
    mel_f = mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2))
    fdiff = np.diff(mel_f)
    ramps = mel_f[:, None] - fft_freqs[None, :]
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    # librosa fills a float32 array, then scales it in place by the float64 area norm
    weights = np.maximum(0.0, np.minimum(lower, upper)).astype(np.float32)
    enorm = 2.0 / (mel_f[2: n_mels + 2] - mel_f[:n_mels])
    weights = (weights.astype(np.float64) * enorm[:, None]).astype(np.float32)
    weights.setflags(write=False)
    return weights


def mel_filterbank(sr: int = 32000, n_fft: int = 2048, n_mels: int = 128, fmin: float = 0.0,
                   fmax: float | None = None) -> np.ndarray:
    """``[n_mels, 1 + n_fft // 2]`` float32 Slaney filterbank, identical to librosa's default."""
    return _mel_filterbank_np(int(sr), int(n_fft), int(n_mels), float(fmin), None if fmax is None else float(fmax))


@lru_cache(maxsize=16)
def _hann(win: int, dtype: torch.dtype, device: str) -> torch.Tensor:
    with torch.inference_mode(False):  # cached tensors must also serve autograd (training mel loss)
        return torch.hann_window(win, dtype=dtype, device=device)


@lru_cache(maxsize=16)
def _mel_basis(sr: int, n_fft: int, n_mels: int, fmin: float, fmax: float | None, dtype: torch.dtype,
               device: str) -> torch.Tensor:
    with torch.inference_mode(False):
        return torch.from_numpy(np.array(mel_filterbank(sr, n_fft, n_mels, fmin, fmax))).to(dtype=dtype, device=device)


def spectrogram(y: torch.Tensor, n_fft: int = 2048, sampling_rate: int = 32000, hop_size: int = 640,
                win_size: int = 2048, center: bool = False) -> torch.Tensor:
    """Waveform ``[B, N]`` in [−1, 1] → linear magnitude ``[B, 1 + n_fft//2, frames]``."""
    pad = (n_fft - hop_size) // 2
    y = F.pad(y.unsqueeze(1), (pad, pad), mode="reflect").squeeze(1)
    spec = torch.stft(y, n_fft, hop_length=hop_size, win_length=win_size,
                      window=_hann(win_size, y.dtype, str(y.device)), center=center, pad_mode="reflect",
                      normalized=False, onesided=True, return_complex=True)
    spec = torch.view_as_real(spec)
    return torch.sqrt(spec.pow(2).sum(-1) + 1e-8)


def spec_to_mel(spec: torch.Tensor, n_fft: int = 2048, num_mels: int = 128, sampling_rate: int = 32000,
                fmin: float = 0.0, fmax: float | None = None) -> torch.Tensor:
    """Linear magnitude → natural-log mel, floored at 1e-5."""
    basis = _mel_basis(int(sampling_rate), int(n_fft), int(num_mels), float(fmin),
                       None if fmax is None else float(fmax), spec.dtype, str(spec.device))
    return torch.log(torch.clamp(torch.matmul(basis, spec), min=1e-5))


def mel_spectrogram(y: torch.Tensor, n_fft: int = 2048, num_mels: int = 128, sampling_rate: int = 32000,
                    hop_size: int = 640, win_size: int = 2048, fmin: float = 0.0, fmax: float | None = None,
                    center: bool = False) -> torch.Tensor:
    """Waveform → log mel (the spectrogram and the mel projection fused, same numerics)."""
    return spec_to_mel(spectrogram(y, n_fft, sampling_rate, hop_size, win_size, center), n_fft, num_mels,
                       sampling_rate, fmin, fmax)
