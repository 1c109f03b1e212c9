"""Named errors for model weight files.

A weights file reaches us from a download, the official WebUI or a hand copy; each way it can
go wrong (nothing there, cut short, not a model at all, a pickle that wants to run code, the
other model kind, a version we cannot run) gets its own class so callers and tests can tell
them apart, and every one carries the fix a person can act on.
"""

from __future__ import annotations

from ..errors import GsvError


class WeightsFileError(GsvError):
    """A model weights file cannot be used."""


class EmptyWeightsFileError(WeightsFileError):
    """The file has no bytes (an interrupted copy or download)."""


class TruncatedWeightsFileError(WeightsFileError):
    """The file ends early: a zip archive without its directory, or a cut-short pickle."""


class NotAWeightsFileError(WeightsFileError):
    """The bytes are not a PyTorch checkpoint at all (random data, text, audio …)."""


class UnsafeWeightsFileError(WeightsFileError):
    """The pickle inside names a Python object outside the plain-data allow list.

    Loading it the official way would run code from the file; we refuse instead.
    """


class WrongModelKindError(WeightsFileError):
    """A valid checkpoint of the other kind (a GPT .ckpt given as SoVITS, a discriminator …)."""


class UnsupportedModelVersionError(WeightsFileError):
    """A recognised model version that this program cannot run yet (v3, v4, LoRA files)."""
