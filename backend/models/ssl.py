"""HuBERT content features (the official ``cnhubert``): 16 kHz waveform → ``[B, 768, T50]``.

The official code loads ``chinese-hubert-base`` as a transformers ``HubertModel`` and calls it
on the raw waveform (its feature extractor is never applied), taking ``last_hidden_state``.
The *input* differs between the two uses and both are reproduced here:

* dataset preparation (``4-cnhubert``): the 32 kHz clip is rescaled to ≈1e3 amplitude
  (``x/peak·(0.95·0.5·1145.14) + 0.5·1145.14·x``) and resampled to 16 kHz with soxr "HQ"
  (librosa's default resampler, so we call soxr directly);
* inference (the reference prompt): the 16 kHz reference in [−1, 1] with 0.3 s × 32 kHz =
  9600 zero samples appended.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

SAMPLE_RATE = 16000
FRAME_RATE = 50
INFERENCE_TAIL_ZEROS = 9600  # int(32000 * 0.3), appended at 16 kHz as the official UIs do
_TRAIN_MAX = 0.95
_TRAIN_ALPHA = 0.5
_TRAIN_GAIN = 1145.14


def training_input(wav32k: np.ndarray) -> np.ndarray:
    """A 32 kHz clip (float32 in [−1, 1]) → the 16 kHz, ≈1e3-amplitude array dataset prep feeds."""
    x = np.asarray(wav32k, dtype=np.float32)
    peak = np.abs(x).max()
    if peak == 0:
        raise ValueError("silent clip: HuBERT features of all-zero audio are meaningless")
    scaled = x / peak * np.float32(_TRAIN_MAX * _TRAIN_ALPHA * _TRAIN_GAIN) + np.float32(
        (1 - _TRAIN_ALPHA) * _TRAIN_GAIN) * x
    return resample_like_librosa(scaled.astype(np.float32), 32000, SAMPLE_RATE)


def resample_like_librosa(x: np.ndarray, sr_in: int, sr_out: int) -> np.ndarray:
    """librosa 0.10 ``resample`` with its default ``soxr_hq``: soxr HQ, then fixed to ceil(n·ratio)."""
    import soxr

    if sr_in == sr_out:
        return x
    y = soxr.resample(x, sr_in, sr_out, quality="HQ")
    n = int(np.ceil(x.shape[-1] * sr_out / sr_in))
    if y.shape[-1] < n:
        y = np.pad(y, (0, n - y.shape[-1]))
    return y[:n].astype(x.dtype, copy=False)


def inference_input(wav16k: np.ndarray) -> np.ndarray:
    """The reference at 16 kHz in [−1, 1] plus the official 9600 trailing zeros."""
    x = np.asarray(wav16k, dtype=np.float32)
    return np.concatenate([x, np.zeros(INFERENCE_TAIL_ZEROS, dtype=np.float32)])


class ContentEncoder:
    """``chinese-hubert-base`` (or any HubertModel folder) as the official code runs it."""

    def __init__(self, model: Any, device: Any = "cpu", dtype: Any = None) -> None:
        import torch

        self.device = torch.device(device)
        self.dtype = dtype or torch.float32
        self.model = model.to(self.device, dtype=self.dtype).eval()

    @classmethod
    def from_pretrained(cls, folder: str | os.PathLike[str], device: Any = "cpu", dtype: Any = None) -> ContentEncoder:
        import pickle

        from transformers import HubertModel

        from ..errors import GsvError
        from .errors import UnsafeWeightsFileError

        fetch = "run `gsv models fetch v2 --only hubert` or point at a chinese-hubert-base folder"
        try:
            model = HubertModel.from_pretrained(str(folder), local_files_only=True)
        except pickle.UnpicklingError as e:
            # transformers loads .bin files with torch's weights-only unpickler, which refuses a
            # pickle that names code; say so in one line instead of a traceback.
            names_code = "GLOBAL" in str(e) or "global" in str(e)
            if names_code:
                raise UnsafeWeightsFileError(f"the HuBERT weights in {folder} ask to run Python code; refused",
                                             fix="delete that folder and " + fetch) from None
            raise GsvError(f"the HuBERT weights in {folder} are damaged", fix=fetch) from None
        except (OSError, ValueError, RuntimeError, EOFError) as e:
            raise GsvError(f"cannot load HuBERT from {folder}: {str(e).splitlines()[0][:300] if str(e) else type(e).__name__}",
                           fix=fetch) from None
        return cls(model, device, dtype)

    def __call__(self, wav16k: Any) -> Any:
        """``[N]`` or ``[B, N]`` waveform (array or tensor) → features ``[B, 768, T50]`` (float32)."""
        import torch

        x = torch.as_tensor(np.asarray(wav16k) if not isinstance(wav16k, torch.Tensor) else wav16k)
        if x.dim() == 1:
            x = x[None]
        with torch.inference_mode():
            out = self.model(x.to(self.device, self.dtype)).last_hidden_state
            if self.dtype != torch.float32 and torch.isnan(out).any():  # fp16 overflow: redo in fp32
                out = self.model.float()(x.to(self.device, torch.float32)).last_hidden_state
                self.model.to(self.dtype)
        return out.transpose(1, 2).float()
