"""``gsv gpu-sleep``: the ``sleep`` self-test declared as a GPU stage.

It computes nothing on the GPU; it exists to check GPU scheduling the way real GPU stages use it:
without ``--gpus`` it leases the GPUs set in config.toml (``gpus = [0]``), like training does, so
two of them queue one after the other on the same GPU.
"""

from __future__ import annotations

from .base import StageSpec
from .sleep import Params, add_arguments, expected_outputs, params_from_args, project_of, run

STAGE = StageSpec(
    name="gpu-sleep",
    help="self-test of GPU scheduling: like `sleep`, but leases the configured GPUs by default",
    uses_gpu=True,
)

__all__ = ["STAGE", "Params", "add_arguments", "expected_outputs", "params_from_args", "project_of", "run"]
