"""English frontend: normalised text → ARPAbet phones, as the official frontend produces them.

Reading order per token (TweetTokenizer tokens, tagged by nltk's averaged perceptron):
punctuation passes through; single letters use the dictionary (capital ``A`` is "EY1");
homographs pick a reading by POS tag; other words go dictionary → name dictionary (Title-case
only) → letter by letter (≤ 3 letters) → possessive ``'s`` → compound split (wordsegment) →
the neural model. Phones outside the symbol table are dropped (``'`` becomes ``-``).
"""

from __future__ import annotations

import re
from functools import lru_cache

from backend.text.en_data import cmu_dictionary, homographs, name_dictionary, pos_tagger
from backend.text.en_normalize import normalize_en
from backend.text.symbols import symbol_set

__all__ = ["normalize_en", "g2p_en", "g2p_en_tokens"]

_HAS_LETTER = re.compile("[a-z]")
_POSSESSIVE = re.compile(r"^([a-z]+)('s)$")
_VOICELESS = ("P", "T", "K", "F", "TH", "HH")
_SIBILANT = ("S", "Z", "SH", "ZH", "CH", "JH")
_DROPPED = frozenset({" ", "<pad>", "UW", "</s>", "<s>"})


@lru_cache(maxsize=1)
def _tokenizer():
    from nltk.tokenize import TweetTokenizer

    return TweetTokenizer()


@lru_cache(maxsize=1)
def _segmenter():
    import wordsegment

    wordsegment.load()
    return wordsegment.segment


def _neural(word: str) -> list[str]:
    from backend.text.en_neural import neural_g2p

    return neural_g2p().predict(word)


def _read_word(token: str) -> list[str]:
    """Pronunciation of a word that is neither a single letter nor a homograph."""
    word = token.lower()
    cmu = cmu_dictionary()
    if len(word) > 1 and word in cmu:
        return cmu[word]
    names = name_dictionary()
    if token.istitle() and word in names:
        return names[word]
    if len(word) <= 3:
        phones: list[str] = []
        for char in word:
            if char == "a":
                phones.append("EY1")
            elif not char.isalpha():
                phones.append(char)
            else:  # letters outside a-z only reach here with unnormalised input
                phones.extend(cmu.get(char, []))
        return phones
    if _POSSESSIVE.match(word):
        phones = list(_read_word(word[:-2]))
        if not phones:
            return phones
        if phones[-1] in _VOICELESS:
            phones.append("S")
        elif phones[-1] in _SIBILANT:
            phones.extend(["AH0", "Z"])
        else:
            phones.append("Z")
        return phones
    parts = _segmenter()(word)
    if len(parts) == 1:
        return _neural(word)
    return [phone for part in parts for phone in _read_word(part)]


def _read_token(token: str, tag: str) -> list[str]:
    word = token.lower()
    if _HAS_LETTER.search(word) is None:
        return [word]
    if len(word) == 1:
        return ["EY1"] if token == "A" else cmu_dictionary().get(word, [])
    table = homographs()
    if word in table:
        first, second, tag_prefix = table[word]
        if tag.startswith(tag_prefix) or (len(tag) < len(tag_prefix) and tag == tag_prefix[: len(tag)]):
            return first
        return second
    return _read_word(token)


def g2p_en_tokens(norm_text: str) -> list[tuple[str, str]]:
    """The (token, POS tag) pairs the reading rules work on."""
    tokens = _tokenizer().tokenize(norm_text)
    return list(pos_tagger().tag(tokens)) if tokens else []


def g2p_en(norm_text: str, version: str = "v2") -> list[str]:
    """ARPAbet phones of already normalised English text.

    ``version`` only validates the table name: the official frontend filters English phones
    through the v2 table for every version (the English symbols are the same in v1).
    """
    symbol_set(version)
    allowed = symbol_set("v2")
    phones: list[str] = []
    for token, tag in g2p_en_tokens(norm_text):
        for phone in _read_token(token, tag):
            if phone in _DROPPED:
                continue
            if phone == "<unk>":
                phone = "UNK"
            if phone in allowed:
                phones.append(phone)
            elif phone == "'":
                phones.append("-")
    return phones
