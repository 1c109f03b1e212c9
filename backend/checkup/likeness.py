"""Likeness: how close a take sounds to the voice, by speaker-verification embeddings.

The same ERes2NetV2 embedding v2Pro feeds its SoVITS (``backend.models.sv``), computed for the
take, the reference clip and a sample of the training clips; likeness is the cosine similarity
of the take to the reference and to the training clips' centroid. It is a relative number:
compare exports of one project against each other, not against another voice's figures.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..errors import GsvError

MAX_TRAINING_CLIPS = 12  # enough for a stable centroid (each costs an embedding); a long dataset is sampled evenly
MIN_SECONDS = 0.5  # shorter clips give no usable embedding


class LikenessError(GsvError):
    """The speaker-verification model cannot be found or fetched."""


def speaker_model_path(explicit: Path | None, on_progress: Any = None) -> Path:
    """The ERes2NetV2 checkpoint: ``explicit``, else the pretrained one (fetched when missing and
    the hub may be reached; every version can use it, not only v2Pro)."""
    from .. import pretrained

    if explicit is not None:
        if not Path(explicit).is_file():
            raise LikenessError(f"speaker-verification model {explicit} does not exist", "check the --sv path")
        return Path(explicit)
    [file] = pretrained.files_for("v2Pro", ["sv"])
    found = pretrained.locate(file)
    if found is not None:
        return found
    if pretrained.offline():
        raise LikenessError(f"the speaker-verification model {file.path} is not on this machine",
                            "run `gsv models fetch v2Pro` (unset HF_HUB_OFFLINE first), or pass --sv PATH")
    return pretrained.fetch("v2Pro", roles=["sv"], on_progress=on_progress)[file.path]


class Likeness:
    """Embeds waveforms and compares them; load once, use for every take."""

    def __init__(self, checkpoint: Path, device: str = "cpu") -> None:
        from ..models.sv import SpeakerEncoder

        self.encoder = SpeakerEncoder.from_checkpoint(checkpoint, device)

    def embed(self, wav: np.ndarray, sample_rate: int) -> np.ndarray | None:
        """Unit-length embedding of a mono waveform; None when it is too short to embed."""
        import torch

        if len(wav) < MIN_SECONDS * sample_rate:
            return None
        v = self.encoder(torch.from_numpy(np.ascontiguousarray(wav, dtype=np.float32)), sample_rate)[0].numpy()
        norm = float(np.linalg.norm(v))
        return v / norm if norm > 0 else None

    def embed_file(self, path: Path) -> np.ndarray | None:
        from ..infer.reference import read_clip

        return self.embed(read_clip(path, 16000), 16000)

    def centroid(self, clips: list[Path]) -> np.ndarray | None:
        """Unit-length mean embedding of up to :data:`MAX_TRAINING_CLIPS` clips, sampled evenly."""
        if len(clips) > MAX_TRAINING_CLIPS:
            step = len(clips) / MAX_TRAINING_CLIPS
            clips = [clips[int(i * step)] for i in range(MAX_TRAINING_CLIPS)]
        vs = [v for v in (self.embed_file(c) for c in clips) if v is not None]
        if not vs:
            return None
        mean = np.mean(vs, axis=0)
        norm = float(np.linalg.norm(mean))
        return mean / norm if norm > 0 else None


def cosine(a: np.ndarray | None, b: np.ndarray | None) -> float | None:
    """Cosine similarity of two unit vectors; None when either is missing."""
    if a is None or b is None:
        return None
    return float(np.dot(a, b))
