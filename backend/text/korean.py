"""Korean text → compatibility-jamo phones, as the official v2 frontend reads it.

The official frontend hands the text to g2pk2 (pronunciation rules over a MeCab
morphological analysis) and spells the result in compatibility jamo. The models learnt
exactly those phones, so the official quirks are kept: Latin letters are spelled out letter
by letter with their Korean names before g2pk2 sees them, compound vowels are split in two,
and every character that is not a v2 symbol becomes ``停`` (one per character). There is no
normaliser: the normalised text is the input unchanged.

g2pk2 has two run-time fallbacks we never allow: it calls ``nltk.download('cmudict')`` when
``corpora/cmudict.zip`` is not on nltk's path, and runs ``pip install python-mecab-ko`` when
the ``mecab`` module is missing. Both conditions are checked here first and reported as named
errors with the fix, so importing g2pk2 can never reach the network.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import re
import threading
from collections.abc import Callable

from backend.text.symbols import symbol_set

__all__ = ["g2p_ko", "jamo_phones", "latin_letter_names", "pronounce"]

# Korean names of the Latin letters (the official table, applied case-insensitively).
_LETTER_NAMES = {
    "a": "에이", "b": "비", "c": "시", "d": "디", "e": "이", "f": "에프", "g": "지",
    "h": "에이치", "i": "아이", "j": "제이", "k": "케이", "l": "엘", "m": "엠", "n": "엔",
    "o": "오", "p": "피", "q": "큐", "r": "아르", "s": "에스", "t": "티", "u": "유",
    "v": "브이", "w": "더블유", "x": "엑스", "y": "와이", "z": "제트",
}
_ASCII_LETTER = re.compile("[A-Za-z]")

# Compound vowels the model spells as two jamo.
_SPLIT_VOWELS = str.maketrans({
    "ㅘ": "ㅗㅏ", "ㅙ": "ㅗㅐ", "ㅚ": "ㅗㅣ", "ㅝ": "ㅜㅓ", "ㅞ": "ㅜㅔ", "ㅟ": "ㅜㅣ",
    "ㅢ": "ㅡㅣ", "ㅑ": "ㅣㅏ", "ㅒ": "ㅣㅐ", "ㅕ": "ㅣㅓ", "ㅖ": "ㅣㅔ", "ㅛ": "ㅣㅗ",
    "ㅠ": "ㅣㅜ",
})
# g2pk2 leaves 을/를 + a word starting with ㄹ as ㄹ; the official reading turns it into ㄴ.
_OBJECT_BEFORE_RIEUL = re.compile("(ㅇㅡㄹ|ㄹㅡㄹ) ㄹ")
_ENDS_WITH_JAMO = re.compile("([\u3131-\u3163])$")
_MARKS = {
    "：": ",", "；": ",", "，": ",", "。": ".", "！": "!", "？": "?", "\n": ".", "·": ",",
    "、": ",", " ": "空",
}
UNKNOWN_CHARACTER = "停"


def latin_letter_names(text: str) -> str:
    """Every Latin letter replaced by its Korean name (``ok`` → ``오케이``)."""
    return _ASCII_LETTER.sub(lambda m: _LETTER_NAMES[m.group(0).lower()], text)


def jamo_phones(pronounced: str) -> list[str]:
    """g2pk2's output (Hangul syllables) → the v2 phones, one per character."""
    from jamo import h2j, j2hcj

    text = j2hcj(h2j(pronounced)).translate(_SPLIT_VOWELS)
    text = _OBJECT_BEFORE_RIEUL.sub(r"\1 ㄴ", text)
    text = _ENDS_WITH_JAMO.sub(r"\1.", text)
    known = symbol_set("v2")
    phones = []
    for char in text:
        char = _MARKS.get(char, char)
        phones.append(char if char in known else UNKNOWN_CHARACTER)
    return phones


# --- g2pk2, loaded once and never allowed to install or download anything ------------------

Pronouncer = Callable[[str], str]
_LOCK = threading.Lock()
_pronouncer: Pronouncer | None = None


def _check_korean_dependencies() -> None:
    from backend.text.cleaner import LanguageUnavailableError
    from backend.text.data import FETCH_HINT, FrontendDataMissingError, optional

    for module, package in (("g2pk2", "g2pk2==0.0.3"), ("jamo", "jamo==0.4.1"),
                            ("mecab", "python-mecab-ko==1.3.7 python-mecab-ko-dic==2.1.1.post2")):
        if importlib.util.find_spec(module) is None:
            raise LanguageUnavailableError(
                f"the Korean frontend needs the {module!r} module, which is not installed",
                fix=f"pip install {package}",
            )
    cmudict = optional(CMUDICT_ZIP)
    if cmudict is None:
        raise FrontendDataMissingError(
            f"the Korean frontend needs nltk's {CMUDICT_ZIP} (g2pk2 reads it at start)",
            fix=f"{FETCH_HINT}",
        )
    import nltk

    root = str(cmudict.parents[1])
    if root not in nltk.data.path:
        nltk.data.path.insert(0, root)


CMUDICT_ZIP = "nltk_data/corpora/cmudict.zip"


def _load_g2pk2() -> Pronouncer:
    _check_korean_dependencies()
    # G2p() prints "mecab installed" on stdout; keep our stdout (JSON of `gsv g2p`) clean.
    with contextlib.redirect_stdout(io.StringIO()):
        from g2pk2 import G2p

        return G2p()


def pronounce(text: str) -> str:
    """g2pk2's pronunciation of ``text`` (loaded on first use, shared by every thread)."""
    global _pronouncer
    with _LOCK:
        if _pronouncer is None:
            _pronouncer = _load_g2pk2()
        return _pronouncer(text)


def g2p_ko(text: str, pronouncer: Pronouncer | None = None) -> list[str]:
    """Phones of Korean ``text`` (``pronouncer``: g2pk2 by default; tests may inject one)."""
    spelled = latin_letter_names(text)
    pronounced = (pronouncer or pronounce)(spelled)
    return jamo_phones(pronounced)
