"""Cantonese text → ``Y``-prefixed Jyutping phones, as the official v2 frontend reads it.

The official frontend normalises Cantonese with the *Mandarin* normaliser, so traditional
characters become simplified before ToJyutping reads them (隻 → 只 changes the reading) and
numbers become Mandarin-style character numbers; then its own mark table runs and everything
outside the basic CJK block and the six model marks is deleted (Extension A/B characters
such as 㗎 vanish). Each syllable becomes an initial and a toned final, both prefixed ``Y``
so they never collide with Mandarin symbols. The models learnt these phones, so the quirks
are kept; only a character ToJyutping cannot read, where the official code crashes, gives a
named error here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import NamedTuple

from backend.errors import GsvError
from backend.text.symbols import PUNCTUATION

__all__ = ["UnreadableCantoneseError", "g2p_yue", "normalize_yue", "syllable_phones"]

# Prefixes tried in this order; some are whole syllables (aa, ong, …), as officially.
INITIALS = (
    "aa", "aai", "aak", "aap", "aat", "aau", "ai", "au", "ap", "at", "ak", "a", "p", "b", "e",
    "ts", "t", "dz", "d", "kw", "k", "gw", "g", "f", "h", "l", "m", "ng", "n", "s", "y", "w",
    "c", "z", "j", "ong", "on", "ou", "oi", "ok", "o", "uk", "ung", "sp", "spl", "spn", "sil",
)

_MARKS = {
    "：": ",", "；": ",", "，": ",", "。": ".", "！": "!", "？": "?", "\n": ".", "·": ",",
    "、": ",", "...": "…", "$": ".", "“": "'", "”": "'", '"': "'", "‘": "'", "’": "'",
    "（": "'", "）": "'", "(": "'", ")": "'", "《": "'", "》": "'", "【": "'", "】": "'",
    "[": "'", "]": "'", "—": "-", "～": "-", "~": "-", "「": "'", "」": "'",
}
_MARK_PATTERN = re.compile("|".join(re.escape(k) for k in _MARKS))
_NOT_HAN_OR_MARK = re.compile(r"[^\u4e00-\u9fa5" + "".join(PUNCTUATION) + r"]+")
_READING = re.compile(r"^([a-z]+[1-6]+ ?)+$")


class UnreadableCantoneseError(GsvError):
    """A character has no Cantonese reading (the official frontend crashes on it)."""


class CantonesePhones(NamedTuple):
    phones: list[str]
    word2ph: list[int]


Reader = Callable[[str], list[tuple[str, str | None]]]
"""``text`` → ``[(character, jyutping or None)]`` (ToJyutping's ``get_jyutping_list``)."""


def _map_marks(sentence: str) -> str:
    sentence = _MARK_PATTERN.sub(lambda m: _MARKS[m.group(0)], sentence)
    return _NOT_HAN_OR_MARK.sub("", sentence)


def normalize_yue(text: str) -> str:
    """The Mandarin normaliser sentence by sentence, then the Cantonese mark table."""
    from backend.text.zh_normalize import normalize_sentence, split_sentences

    return "".join(_map_marks(normalize_sentence(s)) for s in split_sentences(text))


def syllable_phones(syllable: str) -> list[str]:
    """``"aa3"`` → ``["Yaa", "Ya3"]``: initial (first matching prefix) and toned final.

    A syllable that no prefix starts gives no phones (the caller reports it).
    """
    tone = syllable[-1] if syllable[-1].isdigit() else ""
    base = syllable[: -1] if tone else syllable
    for initial in INITIALS:
        if base.startswith(initial):
            final = base[len(initial):] or initial[-1]
            return ["Y" + initial, "Y" + final + (tone if tone != "0" else "")]
    return []


def _tojyutping(text: str) -> list[tuple[str, str | None]]:
    import ToJyutping

    return ToJyutping.get_jyutping_list(text)


def g2p_yue(norm_text: str, reader: Reader | None = None) -> CantonesePhones:
    """Phones and word2ph (2 per character, 1 per mark) of normalised Cantonese text."""
    phones: list[str] = []
    word2ph: list[int] = []
    for char, reading in (reader or _tojyutping)(norm_text):
        if char in PUNCTUATION:
            phones.append(char)
            word2ph.append(1)
            continue
        if reading is None or not _READING.match(reading):
            raise UnreadableCantoneseError(
                f"{char!r} (U+{ord(char):04X}) has no Cantonese reading",
                fix="replace the character with one of the same sound, or remove it",
            )
        pair = syllable_phones(reading)
        if not pair:
            raise UnreadableCantoneseError(  # pragma: no cover - no such Jyutping syllable known
                f"the reading {reading!r} of {char!r} cannot be split into initial and final",
                fix="replace the character with one of the same sound",
            )
        phones.extend(pair)
        word2ph.append(2)
    return CantonesePhones(phones, word2ph)
