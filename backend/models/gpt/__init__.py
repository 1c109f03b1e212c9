"""The GPT (stage 1): text-to-semantic transformer, its sampler, cached decoding and training forward.

Typical use::

    from backend.models import load_gpt
    gpt = load_gpt("voice-e15.ckpt", device="cpu")          # official-format file, eval mode
    torch.manual_seed(seed)                                   # official seeding (global generator)
    gen = gpt.infer(phones, prompt_codes, bert, top_k=15, top_p=1, temperature=1,
                    repetition_penalty=1.35, early_stop_num=50 * max_sec)
    codes_for_sovits = gen.decoder_tokens                      # = official y[:, -idx:]
    batch = gpt.infer_batch([phones_a, phones_b], prompt_codes, [bert_a, bert_b], top_k=15)
    out = gpt.forward_train(phones, phone_lens, semantic, semantic_lens, bert)   # loss, acc, logits
    dpo = gpt.forward_dpo(phones, phone_lens, semantic, semantic_lens, bert)     # + DPO term

Weight files: :mod:`backend.models.gpt.weights` (``load_gpt``, ``read_gpt_file``, ``export_gpt``).
"""

from .config import S1, S1LONGER_V1, S1LONGER_V2, GPTConfig
from .inference import BatchGeneration, Generation
from .model import Text2SemanticDecoder
from .sampling import RecordedDraws, SamplingParams, exponential_draws
from .training import DPOOutput, TrainOutput

__all__ = [
    "GPTConfig", "S1", "S1LONGER_V1", "S1LONGER_V2", "Text2SemanticDecoder", "Generation",
    "BatchGeneration", "SamplingParams", "RecordedDraws", "exponential_draws", "TrainOutput", "DPOOutput",
]
