"""Tiny real models for the inference tests: the committed tiny GPT/SoVITS/HuBERT files and a
tiny Chinese BERT built with transformers (1024 wide, as the GPT's BERT projection needs;
3 layers so that ``hidden_states[-3]`` exists; a punctuation-only vocabulary — every Han
character is one ``[UNK]`` token, which keeps the one-token-per-character rule)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

FIX = Path(__file__).parent / "fixtures"
GPT = FIX / "gpt_v2_tiny" / "gpt_v2_tiny.ckpt"
SOVITS = FIX / "sovits_v2_tiny" / "sovits_v2_tiny.pth"
HUBERT = FIX / "ssl" / "hubert_tiny"
MAX_TOKENS = 12  # random tiny GPTs rarely emit EOS; cap each piece to keep the tests quick


def build_tiny_bert(folder: Path) -> Path:
    import torch
    import transformers

    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ",", ".", "!", "?", "-", "…"]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    transformers.BertTokenizerFast(vocab_file=str(folder / "vocab.txt")).save_pretrained(str(folder))
    torch.manual_seed(0)
    config = transformers.BertConfig(vocab_size=len(vocab), hidden_size=1024, num_hidden_layers=3,
                                     num_attention_heads=4, intermediate_size=64, max_position_embeddings=512)
    transformers.BertForMaskedLM(config).save_pretrained(str(folder))
    return folder


def voice(seconds: float, sr: int = 32000, seed: int = 0) -> np.ndarray:
    """A speech-like test signal (voiced bursts and pauses)."""
    from audio_synth import speechlike

    return speechlike(seconds, sr, seed=seed).astype(np.float32)


def write_voice(path: Path, seconds: float, sr: int = 32000, seed: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, voice(seconds, sr, seed), sr, subtype="PCM_16")
    return path
