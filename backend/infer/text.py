"""Text for synthesis: target pieces and the prompt, as phone ids plus BERT features.

The cutting and the per-segment phones are the text frontend's (official ``cut0``–``cut5``,
the api's target preparation, ``get_phones_and_bert`` without BERT); what this module adds
is the BERT side: for every language segment of a piece, Chinese BERT features when the
segment is Chinese and zeros otherwise, concatenated along time so they line up with the
phone ids — exactly the official per-segment rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from .errors import InferenceError

FEATURE_DIM = 1024


@dataclass
class TextPiece:
    """One piece to synthesise: its text, phone ids, the languages in it and ``[1024, n]`` features."""

    text: str
    ids: list[int]
    langs: list[str]
    norm_text: str
    bert: Any  # torch.Tensor [1024, len(ids)]


def _features(segments: list, bert_loader: Callable[[], Any], dtype: Any, device: str) -> Any:
    import torch

    from backend.text.bert import phone_features

    blocks = []
    for seg in segments:
        n = len(seg.ids)
        if seg.lang == "zh" and n:
            blocks.append(phone_features("zh", n, seg.norm_text, seg.word2ph, bert_loader()))
        else:
            blocks.append(torch.zeros(FEATURE_DIM, n))
    if not blocks:
        return torch.zeros(FEATURE_DIM, 0, dtype=dtype, device=device)
    return torch.cat([b.to(device=device, dtype=dtype) for b in blocks], dim=1)


def target_pieces(text: str, lang: str, method: str, symbol_version: str, bert_loader: Callable[[], Any],
                  dtype: Any, device: str = "cpu", clean: Callable[..., Any] | None = None) -> list[TextPiece]:
    """The pieces of ``text`` cut by ``method`` with their phones and features (empty pieces dropped).

    ``clean``: the text frontend call (default ``clean_text``; inference passes one that decides
    the Chinese readings, see :mod:`backend.text.zh_readings`)."""
    from backend.text.cutting import prepare_chunks

    chunks = prepare_chunks(text, lang, method, version=symbol_version, clean=clean)
    if not chunks:
        raise InferenceError("the text gives nothing to speak after cutting and normalisation",
                             fix="enter words in the chosen language")
    return [TextPiece(c.text, list(c.ids), [s.lang for s in c.segments], c.norm_text,
                      _features(c.segments, bert_loader, dtype, device)) for c in chunks]


def prompt_piece(ref_text: str | None, ref_lang: str, symbol_version: str, bert_loader: Callable[[], Any],
                 dtype: Any, device: str = "cpu", clean: Callable[..., Any] | None = None) -> TextPiece | None:
    """The reference text as the GPT prompt (None = ref-free mode)."""
    from backend.text.cutting import prompt_text_for_inference
    from backend.text.langsplit import phones_for_option

    prompt = prompt_text_for_inference(ref_text, ref_lang)
    if prompt is None:
        return None
    result = phones_for_option(prompt, ref_lang, symbol_version, clean)
    return TextPiece(prompt, list(result.ids), [s.lang for s in result.segments], result.norm_text,
                     _features(result.segments, bert_loader, dtype, device))
