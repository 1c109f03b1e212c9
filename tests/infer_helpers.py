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


def make_pretrained_dir(root: Path, with_bert: bool = False) -> Path:
    """An official-layout ``pretrained_models`` folder holding the tiny models under the v2 names
    (HuBERT, s1, s2G; ``with_bert``: the tiny BERT too; s2D is added by the training tests)."""
    import shutil

    import torch
    from transformers import HubertModel

    hub = root / "chinese-hubert-base"
    hub.mkdir(parents=True)
    for name in ("config.json", "preprocessor_config.json"):
        shutil.copy(HUBERT / name, hub / name)
    torch.save(HubertModel.from_pretrained(str(HUBERT)).state_dict(), hub / "pytorch_model.bin")
    v2 = root / "gsv-v2final-pretrained"
    v2.mkdir()
    shutil.copy(GPT, v2 / "s1bert25hz-5kh-longer-epoch=12-step=369668.ckpt")
    shutil.copy(SOVITS, v2 / "s2G2333k.pth")
    if with_bert:
        import transformers

        built = build_tiny_bert(root / "bert-build")
        bert = root / "chinese-roberta-wwm-ext-large"
        bert.mkdir()
        for name in ("config.json", "tokenizer.json", "vocab.txt", "tokenizer_config.json"):
            if (built / name).exists():
                shutil.copy(built / name, bert / name)
        torch.save(transformers.BertForMaskedLM.from_pretrained(str(built)).state_dict(), bert / "pytorch_model.bin")
        shutil.rmtree(built)
    return root
