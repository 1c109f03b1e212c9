"""Our SoVITS (stage 2) implementation: official weights, official numerics, our code."""

from .config import PRO_VERSIONS, VERSIONS, SoVITSConfig
from .discriminator import MultiPeriodDiscriminator
from .model import SoVITS

__all__ = ["MultiPeriodDiscriminator", "PRO_VERSIONS", "SoVITS", "SoVITSConfig", "VERSIONS"]
