"""Named errors of the inference pipeline: each says what is wrong and how to fix it."""

from __future__ import annotations

from backend.errors import GsvError


class InferenceError(GsvError):
    """Synthesis cannot run as asked."""


class MissingWeightsError(InferenceError):
    """A GPT or SoVITS weights file is not where it was said to be (or none could be found)."""


def require_weight_files(gpt: object, sovits: object, version: str) -> None:
    """Refuse a synthesis (a take, a server) whose GPT or SoVITS file is not given or not there."""
    from pathlib import Path

    from backend.pretrained import fetch_command

    for kind, path in (("GPT", gpt), ("SoVITS", sovits)):
        if path is None:
            raise MissingWeightsError(
                f"no {kind} weights given, none exported in the project and no pretrained {version} base model",
                fix=f"pass --{kind.lower()} PATH, or run `{fetch_command(version)}`")
        if not Path(str(path)).is_file():
            raise MissingWeightsError(f"{kind} weights {path} do not exist", fix="check the path")


class IncompatibleModelsError(InferenceError):
    """The GPT and SoVITS weights cannot work together (different phoneme symbol sets)."""


class UnsupportedModelError(InferenceError):
    """A model version or option this pipeline cannot run yet."""


class ReferenceAudioError(InferenceError):
    """The reference clip cannot be read as audio."""


class ReferenceLengthError(InferenceError):
    """The reference clip is outside the 3–10 s the models were built for.

    ``duration`` is the clip's length; ``windows`` are ready-made alternatives (seconds,
    ``(start, end)``): the first 10 s and the clip's best 3–10 s window when it is too long.
    """

    def __init__(self, message: str, fix: str | None, duration: float,
                 windows: dict[str, tuple[float, float]] | None = None) -> None:
        super().__init__(message, fix)
        self.duration = duration
        self.windows = dict(windows or {})
