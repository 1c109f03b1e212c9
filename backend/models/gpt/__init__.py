"""The GPT (stage 1): text-to-semantic transformer, its sampler, cached decoding and training forward."""

from .config import S1, S1LONGER_V1, S1LONGER_V2, GPTConfig
from .inference import BatchGeneration, Generation
from .model import Text2SemanticDecoder
from .sampling import RecordedDraws, SamplingParams, exponential_draws
from .training import DPOOutput, TrainOutput

__all__ = [
    "GPTConfig", "S1", "S1LONGER_V1", "S1LONGER_V2", "Text2SemanticDecoder", "Generation",
    "BatchGeneration", "SamplingParams", "RecordedDraws", "exponential_draws", "TrainOutput", "DPOOutput",
]
