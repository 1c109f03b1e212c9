"""The v2 polyphone dictionary: fixed readings for words whose characters have several.

Read from the two plain-text ``.rep`` files of the official repository (the later file
wins); the official pickle cache is never unpickled. Values are Python-literal lists of
pinyin strings, parsed with :func:`ast.literal_eval` (data, never code).
"""

from __future__ import annotations

import ast
import re
from functools import lru_cache

from backend.errors import GsvError
from backend.text.data import locate

_FILES = ("g2pw/polyphonic.rep", "g2pw/polyphonic-fix.rep")


class PolyphoneDataError(GsvError):
    """A line of the polyphone dictionary cannot be read."""


_SIMPLE_LIST = re.compile(r"\[\s*'[^'\\]*'(?:\s*,\s*'[^'\\]*')*\s*,?\s*\]")
_QUOTED = re.compile(r"'([^'\\]*)'")


def _readings(value: str) -> object:
    """The list literal of one line; the common plain form without the (slow) literal parser."""
    if _SIMPLE_LIST.fullmatch(value):
        return _QUOTED.findall(value)
    try:
        return ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return None


def _parse(text: str, source: str, into: dict[str, list[str]]) -> None:
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        key, sep, value = line.partition(":")
        readings = _readings(value.strip()) if sep else None
        if not isinstance(readings, list) or not all(isinstance(r, str) for r in readings):
            raise PolyphoneDataError(
                f"{source}:{number}: expected `word: ['py1', ...]`, got {line[:60]!r}",
                fix="download the data files again with `gsv g2p --fetch-data`",
            )
        into[key.strip()] = readings


@lru_cache(maxsize=1)
def polyphone_dictionary() -> dict[str, list[str]]:
    """word → list of TONE3 readings (45,047 keys with the official files)."""
    table: dict[str, list[str]] = {}
    for name in _FILES:
        path = locate(name)
        _parse(path.read_text(encoding="utf-8"), name, table)
    return table


def correct_pronunciation(word: str, pinyins: list[str]) -> list[str]:
    """The dictionary's reading of a whole word, else of each single character in it."""
    table = polyphone_dictionary()
    if word in table:
        return list(table[word])
    corrected = list(pinyins)
    for i, char in enumerate(word):
        if char in table and i < len(corrected):
            corrected[i] = table[char][0]
    return corrected
