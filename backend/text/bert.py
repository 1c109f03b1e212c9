"""BERT features for Chinese text (chinese-roberta-wwm-ext-large), one column per phone.

The GPT model was trained with, for every Chinese phone, the hidden state of the character
it belongs to, taken from the third-to-last hidden state of the RoBERTa model (encoder
layer 22 of 24). Each character's row is repeated ``word2ph[i]`` times, so the feature
matrix lines up with the phone ids: ``[1024, n_phones]``. Other languages get zeros of the
same shape. torch/transformers are imported inside functions (the TUI must not load them).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from backend.errors import GsvError

if TYPE_CHECKING:
    import torch

FEATURE_DIM = 1024
HIDDEN_STATE_INDEX = -3
"""hidden_states[-3]: of the 25 states (embeddings + 24 layers), the output of layer 22."""


class BertFeatureError(GsvError):
    """The text and its word2ph do not line up with the tokenizer, or the model is missing."""


@dataclass
class ChineseBert:
    """A loaded BERT model + tokenizer, on one device and dtype."""

    model: Any
    tokenizer: Any
    device: str = "cpu"
    dtype: Any = None  # torch dtype; None = the model's own

    @property
    def hidden_size(self) -> int:
        return int(self.model.config.hidden_size)

    @classmethod
    def load(cls, folder: Path, device: str = "cpu", half: bool = False) -> ChineseBert:
        """Load from a local folder (the official ``chinese-roberta-wwm-ext-large`` files)."""
        import torch
        from transformers import AutoModelForMaskedLM, AutoTokenizer

        if not (folder / "config.json").is_file():
            raise BertFeatureError(
                f"no Chinese BERT model in {folder}",
                fix="run `gsv models fetch v2` (the Chinese BERT comes with the base models), "
                "or give the folder of a chinese-roberta-wwm-ext-large copy",
            )
        tokenizer = AutoTokenizer.from_pretrained(str(folder))
        model = AutoModelForMaskedLM.from_pretrained(str(folder)).eval().to(device)
        dtype = torch.float16 if half and device != "cpu" else torch.float32
        return cls(model.to(dtype), tokenizer, device, dtype)


def chinese_features(bert: ChineseBert, norm_text: str, word2ph: list[int]) -> torch.Tensor:
    """``[hidden, sum(word2ph)]`` features of normalised Chinese text."""
    import torch

    if len(word2ph) != len(norm_text):
        raise BertFeatureError(
            f"word2ph has {len(word2ph)} entries for {len(norm_text)} characters",
            fix="pass the word2ph that clean_text returned with this norm_text",
        )
    if not norm_text:
        return torch.zeros(bert.hidden_size, 0, dtype=bert.dtype or torch.float32)
    window = int(getattr(bert.model.config, "max_position_embeddings", 512)) - 2
    # Text longer than the model's positions (the official code would fail) is read in
    # consecutive windows; text that fits is read in one pass, exactly as the official.
    pieces = [_char_states(bert, norm_text[i:i + window]) for i in range(0, len(norm_text), window)]
    per_char = torch.cat(pieces, dim=0)
    counts = torch.tensor(word2ph, device=per_char.device)
    per_phone = torch.repeat_interleave(per_char, counts, dim=0)
    features = per_phone.T.contiguous()
    return features.to(bert.dtype) if bert.dtype is not None else features


def _char_states(bert: ChineseBert, text: str) -> torch.Tensor:
    """``[len(text), hidden]``: hidden_states[-3] of each character (no [CLS]/[SEP])."""
    import torch

    inputs = bert.tokenizer(text, return_tensors="pt")
    inputs = {k: v.to(bert.device) for k, v in inputs.items()}
    if inputs["input_ids"].shape[-1] - 2 != len(text):
        raise BertFeatureError(
            f"the tokenizer did not give one token per character of {text[:30]!r}",
            fix="pass the normalised text (Han characters and the six marks only)",
        )
    with torch.inference_mode():
        output = bert.model(**inputs, output_hidden_states=True)
    return output.hidden_states[HIDDEN_STATE_INDEX][0, 1:-1]


def phone_features(language: str, n_phones: int, norm_text: str = "",
                   word2ph: list[int] | None = None, bert: ChineseBert | None = None,
                   dim: int = FEATURE_DIM) -> torch.Tensor:
    """Features for one language item: BERT for ``zh``, zeros ``[dim, n_phones]`` otherwise."""
    import torch

    if language == "zh" and bert is not None:
        if word2ph is None or sum(word2ph) != n_phones:
            raise BertFeatureError(
                "word2ph does not sum to the number of phones",
                fix="pass the phones and word2ph of the same clean_text call",
            )
        return chinese_features(bert, norm_text, word2ph)
    dtype = bert.dtype if bert is not None and bert.dtype is not None else torch.float32
    return torch.zeros(dim, n_phones, dtype=dtype)


def segment_features(segments: list[Any], bert: ChineseBert | None,
                     dim: int = FEATURE_DIM) -> torch.Tensor:
    """Features of language items (``lang``, ``phones``, ``word2ph``, ``norm_text`` each, as
    :func:`backend.text.langsplit.phones_for_option` returns them), joined on the phone axis
    as the official inference does: ``[dim, total phones]``."""
    import torch

    if bert is not None:
        dim = bert.hidden_size
    parts = [phone_features(s.lang, len(s.phones), s.norm_text, s.word2ph, bert, dim)
             for s in segments]
    if not parts:
        return torch.zeros(dim, 0)
    return torch.cat(parts, dim=1)
