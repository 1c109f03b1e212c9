"""English text normalisation, reproducing the official frontend's output character for character.

The official normaliser has quirks that change phones (``;`` and ``:`` are deleted rather than
turned into commas, the space before ``-5`` is swallowed, every inner capital starts a new word,
``HH:MM`` is always read as a clock time). Models were trained on text normalised that way, so
the quirks are kept on purpose; each is noted where it happens.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from backend.text.symbols import PUNCTUATION

_UNITS: dict[str, tuple[str, str]] = {
    "m": ("meter", "meters"),
    "km": ("kilometer", "kilometers"),
    "km/h": ("kilometer per hour", "kilometers per hour"),
    "ft": ("feet", "feet"),
    "L": ("liter", "liters"),
    "tbsp": ("tablespoon", "tablespoons"),
    "tsp": ("teaspoon", "teaspoons"),
    "h": ("hour", "hours"),
    "min": ("minute", "minutes"),
    "s": ("second", "seconds"),
    "°C": ("degree celsius", "degrees celsius"),
    "°F": ("degree fahrenheit", "degrees fahrenheit"),
}

_LIST_NUMBER = re.compile(r"\b([0-9]+)\. ")
_NUMBER_WITH_COMMAS = re.compile(r"([0-9][0-9\,]+[0-9])")
_CLOCK = re.compile(r"\b([01]?[0-9]|2[0-3]):([0-5][0-9])\b")
_MEASURE = re.compile(r"\b([0-9]+(\.[0-9]+)?(m|km|km/h|ft|L|tbsp|tsp|h|min|s|°C|°F))\b")
_POUNDS_BEFORE = re.compile(r"£([0-9\.\,]*[0-9]+)")
_POUNDS_AFTER = re.compile(r"([0-9\.\,]*[0-9]+)£")
_DOLLARS_BEFORE = re.compile(r"\$([0-9\.\,]*[0-9]+)")
_DOLLARS_AFTER = re.compile(r"([(0-9\.\,]*[0-9]+)\$")
_DECIMAL = re.compile(r"([0-9]+\.\s*[0-9]+)")
_FRACTION = re.compile(r"([0-9]+/[0-9]+)")
_ORDINAL = re.compile(r"[0-9]+(st|nd|rd|th)")
_INTEGER = re.compile(r"[0-9]+")

_OPERAND = r"((-?)((\d+)(\.\d+)?[⁰¹²³⁴⁵⁶⁷⁸⁹ˣʸⁿ]*)|(\.\d+[⁰¹²³⁴⁵⁶⁷⁸⁹ˣʸⁿ]*)|([A-Za-z][⁰¹²³⁴⁵⁶⁷⁸⁹ˣʸⁿ]*))"
_ARITHMETIC = re.compile(_OPERAND + r"\s+([\+\-\×÷=])\s+" + _OPERAND)
_OPERATOR_WORDS = {"+": " plus ", "-": " minus ", "×": " times ", "÷": " divided by ", "=": " Equals "}
# Trap kept: the whitespace before a leading minus is consumed, gluing "negative" to the
# previous word ("it is -5" → "it isnegative five").
_NEGATIVE = re.compile(r"(?:^|\s+)(-)(\d+)")

_NOT_KEPT = re.compile(r"[^ A-Za-z'.,?!\-]")
_INNER_CAPITAL = re.compile(r"(?<!^)(?<![\s])([A-Z])")

_MARKS = "".join(re.escape(mark) for mark in PUNCTUATION)
_REPEATED_MARKS = re.compile(f"([{_MARKS}\\s])([{_MARKS}])+")

# The official map was meant to turn ;:，； into commas and curly quotes into apostrophes, but its
# keys are escaped before compiling, so only these literal strings are ever replaced.
_LITERAL_REPLACEMENTS = {
    "[;:：，；]": ",",
    '["’]': "'",
    "。": ".",
    "！": "!",
    "？": "?",
}
_LITERAL_PATTERN = re.compile("|".join(re.escape(key) for key in _LITERAL_REPLACEMENTS))


@lru_cache(maxsize=1)
def _inflect():
    import inflect

    return inflect.engine()


def _list_number(match: re.Match) -> str:
    return _inflect().ordinal(match.group(1)) + ", "


def _arithmetic(match: re.Match) -> str:
    return match.group(1) + _OPERATOR_WORDS[match.group(8)] + match.group(9)


def _negative(match: re.Match) -> str:
    return f"negative {match.group(2)}"


def _clock(match: re.Match) -> str:
    hours, minutes = int(match.group(1)), int(match.group(2))
    period = "a.m." if hours < 12 else "p.m."
    if hours > 12:
        hours -= 12
    words = _inflect().number_to_words
    if minutes == 0:
        return f"{words(hours)} o'clock {period}"
    return f"{words(hours)} {words(minutes)} {period}"


def _measure(match: re.Match) -> str:
    unit = match.group(3)
    amount = int(match.group(1).replace(unit, "").replace(".", ""))
    plural = not (match.group(2) is None and amount == 1)
    return match.group(1).replace(unit, " " + _UNITS[unit][1 if plural else 0])


def _money(amount: str, major: tuple[str, str], minor: tuple[str, str], zero: str) -> str:
    parts = amount.split(".")
    if len(parts) > 2:
        return f"{amount} {major[1]}"
    whole = int(parts[0]) if parts[0] else 0
    cents = int(parts[1].ljust(2, "0")) if len(parts) > 1 and parts[1] else 0
    whole_text = f"{whole} {major[0] if whole == 1 else major[1]}"
    cents_text = f"{cents} {minor[0] if cents == 1 else minor[1]}"
    if whole and cents:
        return f"{whole_text} and {cents_text}"
    if whole:
        return whole_text
    if cents:
        return cents_text
    return zero


def _pounds(match: re.Match) -> str:
    return _money(match.group(1), ("pound", "pounds"), ("penny", "pence"), "zero pounds")


def _dollars(match: re.Match) -> str:
    return _money(match.group(1), ("dollar", "dollars"), ("cent", "cents"), "zero dollars")


def _decimal(match: re.Match) -> str:
    whole, fraction = match.group(1).split(".")[:2]
    return whole + " point " + " ".join(fraction)


def _fraction(match: re.Match) -> str:
    numerator, denominator = (int(part) for part in match.group(0).split("/"))
    engine = _inflect()
    top = engine.number_to_words(numerator)
    if denominator == 1:
        return top
    if denominator == 2:
        bottom = "half" if numerator == 1 else "halves"
    else:
        bottom = engine.ordinal(engine.number_to_words(denominator))
        if numerator > 1:
            bottom += "s"
    return f"{top} {bottom}"


def _ordinal(match: re.Match) -> str:
    return _inflect().number_to_words(match.group(0))


def _integer(match: re.Match) -> str:
    number = int(match.group(0))
    words = _inflect().number_to_words
    if 1000 < number < 3000:  # read like a year
        if number == 2000:
            return "two thousand"
        if 2000 < number < 2010:
            return "two thousand " + words(number % 100)
        if number % 100 == 0:
            return words(number // 100) + " hundred"
        return words(number, andword="", zero="oh", group=2).replace(", ", " ")
    return words(number, andword="")


def _expand(text: str) -> str:
    text = _LIST_NUMBER.sub(_list_number, text)
    while _ARITHMETIC.search(text):
        text = _ARITHMETIC.sub(_arithmetic, text)
    text = _NEGATIVE.sub(_negative, text)
    text = _NUMBER_WITH_COMMAS.sub(lambda m: m.group(1).replace(",", ""), text)
    text = _CLOCK.sub(_clock, text)
    text = _MEASURE.sub(_measure, text)
    text = _POUNDS_BEFORE.sub(_pounds, text)
    text = _POUNDS_AFTER.sub(_pounds, text)
    text = _DOLLARS_BEFORE.sub(_dollars, text)
    text = _DOLLARS_AFTER.sub(_dollars, text)
    text = _DECIMAL.sub(_decimal, text)
    text = _FRACTION.sub(_fraction, text)
    text = _ORDINAL.sub(_ordinal, text)
    text = _INTEGER.sub(_integer, text)
    text = "".join(
        char for char in unicodedata.normalize("NFD", text) if unicodedata.category(char) != "Mn"
    )
    text = text.replace("%", " percent")
    text = _NOT_KEPT.sub("", text)
    text = re.sub(r"(?i)i\.e\.", "that is", text)
    text = re.sub(r"(?i)e\.g\.", "for example", text)
    return _INNER_CAPITAL.sub(r" \1", text)


def normalize_en(text: str) -> str:
    """Official English normalisation: numbers, money, units, times to words; only letters,
    spaces and ``' . , ? ! -`` kept; runs of marks collapsed to their first character."""
    text = _LITERAL_PATTERN.sub(lambda m: _LITERAL_REPLACEMENTS[m.group()], text)
    text = _expand(text)
    return _REPEATED_MARKS.sub(r"\1", text)
