"""Text → the units a take is scored on, through the text frontend's own normalisers.

Both the sentence the model was asked to say and the ASR's transcript go through the same
function, so "25" and "twenty-five", "。" and ".", "Hello" and "hello" never count as errors.
Chinese and Cantonese are scored per character (CER) after their normalisers (numbers read
out, traditional → simplified, marks dropped); Japanese per kana of its Open JTalk reading (so
kanji, kana and digit spellings of the same words agree); English per word (WER) after the
English normaliser; Korean per word of its g2pk2 pronunciation (digits read out).
"""

from __future__ import annotations

import re
import unicodedata

CHARACTER_LANGUAGES = ("zh", "ja", "yue")
WORD_LANGUAGES = ("en", "ko")
LANGUAGES = CHARACTER_LANGUAGES + WORD_LANGUAGES

_NOT_WORD = re.compile(r"[^\w']+")
_NOT_KANA = re.compile(r"[^\u30a0-\u30ff]+")


class ScoringLanguageError(ValueError):
    """A language the checkup has no scoring rule for."""


def unit(language: str) -> str:
    """``"cer"`` for character-scored languages, ``"wer"`` for word-scored ones."""
    return "cer" if base_language(language) in CHARACTER_LANGUAGES else "wer"


def base_language(language: str) -> str:
    """A project language or UI option (``all_zh``, ``en``, ``all_ja``…) → zh/en/ja/ko/yue."""
    code = language.lower().removeprefix("all_")
    if code not in LANGUAGES:
        raise ScoringLanguageError(f"no scoring rule for language {language!r}; known: {', '.join(LANGUAGES)}")
    return code


def _chinese(text: str) -> list[str]:
    from backend.text.zh_normalize import normalize_zh

    return [c for c in normalize_zh(text) if "\u4e00" <= c <= "\u9fa5"]


def _cantonese(text: str) -> list[str]:
    from backend.text.cantonese import normalize_yue

    return [c for c in normalize_yue(text) if "\u4e00" <= c <= "\u9fff"]


def _japanese(text: str) -> list[str]:
    from backend.text.japanese import _engine, normalize_ja

    kana = _engine().g2p(normalize_ja(unicodedata.normalize("NFKC", text)), kana=True)
    return list(_NOT_KANA.sub("", kana))


def _english(text: str) -> list[str]:
    from backend.text.en_normalize import normalize_en

    # lower-cased first: the normaliser spells out inner capitals ("ASR" → "A S R"), which
    # would make a transcript in capitals differ from the same words in sentence case
    words = _NOT_WORD.sub(" ", normalize_en(text.lower()).replace("-", " ")).split()
    return [w.strip("'") for w in words if w.strip("'")]


def _korean(text: str) -> list[str]:
    from backend.text.korean import pronounce

    said = pronounce(unicodedata.normalize("NFKC", text))  # digits read out, as the g2p reads them
    return [w for w in _NOT_WORD.sub(" ", said.lower()).split() if w]


def tokens(text: str, language: str) -> list[str]:
    """The scoring units of ``text``: characters (zh, yue), kana (ja) or words (en, ko)."""
    code = base_language(language)
    if code == "zh":
        return _chinese(text)
    if code == "yue":
        return _cantonese(text)
    if code == "ja":
        return _japanese(text)
    if code == "en":
        return _english(text)
    return _korean(text)
