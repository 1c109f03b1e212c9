"""Chinese normalised text → phone symbols and word2ph (v1 and v2 paths).

Both versions cut the text at marks, segment it with jieba, merge words for tone sandhi,
read each word in pinyin, apply sandhi (v2 also erhua) and map every syllable to an
(initial, toned final) pair through the opencpop-strict table. v2 with a polyphone model
(:mod:`backend.text.g2pw`) takes the per-character readings from the model and the
polyphone dictionary; without one it is the official pypinyin branch.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from backend.errors import GsvError
from backend.text.data import locate
from backend.text.symbols import PUNCTUATION
from backend.text.zh_segment import pos_cut
from backend.text.zh_tone_sandhi import apply_sandhi, merge_words

SentencePinyin = Callable[[list[str]], list[list[str]]]
"""Polyphone model interface: segments → one TONE3 reading per character of each segment."""

_SEGMENT_BREAK = re.compile(r"(?<=[" + "".join(PUNCTUATION) + r"])\s*")
_LATIN = re.compile("[a-zA-Z]+")

MUST_ERHUA = frozenset("小院儿 胡同儿 范儿 老汉儿 撒欢儿 寻老礼儿 妥妥儿 媳妇儿".split())
NOT_ERHUA = frozenset(
    "虐儿 为儿 护儿 瞒儿 救儿 替儿 有儿 一儿 我儿 俺儿 妻儿 拐儿 聋儿 乞儿 患儿 幼儿 孤儿 婴儿 婴幼儿 "
    "连体儿 脑瘫儿 流浪儿 体弱儿 混血儿 蜜雪儿 舫儿 祖儿 美儿 应采儿 可儿 侄儿 孙儿 侄孙儿 女儿 男儿 "
    "红孩儿 花儿 虫儿 马儿 鸟儿 猪儿 猫儿 狗儿 少儿".split()
)


class ChineseG2PError(GsvError):
    """A syllable the phone table has no entry for (e.g. a bare nasal reading)."""


@dataclass(frozen=True)
class ZhResult:
    phones: list[str]
    word2ph: list[int]


@lru_cache(maxsize=1)
def syllable_table() -> dict[str, tuple[str, str]]:
    """opencpop-strict: spelled syllable → (initial, final without tone)."""
    table: dict[str, tuple[str, str]] = {}
    for line in locate("opencpop-strict.txt").read_text(encoding="utf-8").splitlines():
        if "\t" not in line:
            continue
        syllable, phones = line.split("\t", 1)
        initial, final = phones.strip().split(" ")
        table[syllable] = (initial, final)
    return table


def split_segments(norm_text: str) -> list[str]:
    """Pieces of text ending right after each mark (blank pieces dropped)."""
    return [piece for piece in _SEGMENT_BREAK.split(norm_text) if piece.strip()]


@lru_cache(maxsize=65536)
def _pypinyin_cached(word: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    from pypinyin import Style, lazy_pinyin

    initials = lazy_pinyin(word, neutral_tone_with_five=True, style=Style.INITIALS)
    finals = lazy_pinyin(word, neutral_tone_with_five=True, style=Style.FINALS_TONE3)
    return tuple(initials), tuple(finals)


def _pypinyin_word(word: str) -> tuple[list[str], list[str]]:
    """pypinyin's initials and TONE3 finals of one word (cached: words repeat a lot)."""
    initials, finals = _pypinyin_cached(word)
    return list(initials), list(finals)


def _split_reading(reading: str) -> tuple[str, str]:
    from pypinyin.contrib.tone_convert import to_finals_tone3, to_initials

    if reading[:1].isalpha():
        return to_initials(reading), to_finals_tone3(reading, neutral_tone_with_five=True)
    return reading, reading  # a mark passes through as both halves


def merge_erhua(initials: list[str], finals: list[str], word: str, pos: str
                ) -> tuple[list[str], list[str]]:
    """v2: a word-final 儿 reads er2, or takes the tone of the syllable before it."""
    finals = list(finals)
    if finals and len(word) >= len(finals) and word[len(finals) - 1] == "儿" \
            and finals[-1] == "er1":
        finals[-1] = "er2"
    if word not in MUST_ERHUA and (word in NOT_ERHUA or pos in {"a", "j", "nr"}):
        return initials, finals
    if len(finals) != len(word):
        return initials, finals
    last = len(finals) - 1
    if last >= 1 and word[last] == "儿" and finals[last] in {"er2", "er5"} \
            and word[-2:] not in NOT_ERHUA:
        finals[last] = "er" + finals[last - 1][-1:]
    return initials, finals


def _spell(initial: str, final: str) -> str:
    """Rebuild the spelled syllable the opencpop table is keyed by."""
    syllable = initial + final
    if initial:
        return initial + {"uei": "ui", "iou": "iu", "uen": "un"}.get(final, final)
    whole = {"ing": "ying", "i": "yi", "in": "yin", "u": "wu"}
    if syllable in whole:
        return whole[syllable]
    lead = {"v": "yu", "e": "e", "i": "y", "u": "w"}
    if syllable[:1] in lead:
        return lead[syllable[0]] + syllable[1:]
    return syllable


def _to_phones(initials: Sequence[str], finals: Sequence[str], segment: str,
               phones: list[str], word2ph: list[int]) -> None:
    table = syllable_table()
    for initial, final in zip(initials, finals, strict=False):
        if initial == final:
            if initial not in PUNCTUATION:
                raise ChineseG2PError(
                    f"unexpected character {initial!r} in Chinese text {segment!r}",
                    fix="normalise the text first (clean_text does this)",
                )
            phones.append(initial)
            word2ph.append(1)
            continue
        tone = final[-1:]
        spelled = _spell(initial, final[:-1])
        if tone not in "12345" or not tone or spelled not in table:
            raise ChineseG2PError(
                f"no phones for the reading {initial + final!r} in {segment!r}",
                fix="replace the character with a common one of the same sound",
            )
        new_initial, new_final = table[spelled]
        phones.extend((new_initial, new_final + tone))
        word2ph.append(2)


def g2p_zh(norm_text: str, version: str, sentence_pinyin: SentencePinyin | None = None
           ) -> ZhResult:
    """Phones and word2ph of normalised Chinese text.

    ``version`` "v1" is the pypinyin path without erhua; "v2" adds erhua and, when
    ``sentence_pinyin`` (a polyphone model or a recorded stand-in) is given, takes its
    readings corrected by the polyphone dictionary.
    """
    from backend.text.zh_polyphones import correct_pronunciation

    segments = [_LATIN.sub("", s) for s in split_segments(norm_text)]
    model_readings = sentence_pinyin(segments) if (version != "v1" and sentence_pinyin) else None
    phones: list[str] = []
    word2ph: list[int] = []
    for index, segment in enumerate(segments):
        words = merge_words(pos_cut(segment))
        initials: list[str] = []
        finals: list[str] = []
        offset = 0
        for word, pos in words:
            start, offset = offset, offset + len(word)
            if pos == "eng":
                continue
            if model_readings is None:
                sub_initials, sub_finals = _pypinyin_word(word)
            else:
                readings = correct_pronunciation(word, model_readings[index][start:offset])
                split = [_split_reading(r) for r in readings]
                sub_initials = [i for i, _ in split]
                sub_finals = [f for _, f in split]
            sub_finals = apply_sandhi(word, pos, sub_finals)
            if version != "v1":
                sub_initials, sub_finals = merge_erhua(sub_initials, sub_finals, word, pos)
            initials += sub_initials
            finals += sub_finals
        _to_phones(initials, finals, segment, phones, word2ph)
    return ZhResult(phones, word2ph)
