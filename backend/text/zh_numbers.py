"""Reading digits aloud in Mandarin, the way the official normaliser does.

Kept separate from the sentence rules because dates, times, phone numbers and quantities
all share these three readings: cardinal (一千零五), digit by digit (二零二四) and decimal.
"""

from __future__ import annotations

DIGIT_WORDS = "零一二三四五六七八九"
_UNIT_BY_POWER = ((8, "亿"), (4, "万"), (3, "千"), (2, "百"), (1, "十"))


def read_digits(digits: str, yao_for_one: bool = False) -> str:
    """Digit by digit: ``"2024"`` → ``二零二四``; phone-style ``一`` → ``幺`` when asked."""
    spoken = "".join(DIGIT_WORDS[int(d)] for d in digits)
    return spoken.replace("一", "幺") if yao_for_one else spoken


def _cardinal_parts(digits: str) -> list[str]:
    """Words of a digit string that may carry leading zeros (which become one 零)."""
    significant = digits.lstrip("0")
    if not significant:
        return []
    if len(significant) == 1:
        head = [DIGIT_WORDS[0]] if len(significant) < len(digits) else []
        return head + [DIGIT_WORDS[int(significant)]]
    power, unit = next((p, u) for p, u in _UNIT_BY_POWER if p < len(significant))
    return _cardinal_parts(digits[:-power]) + [unit] + _cardinal_parts(digits[-power:])


def read_cardinal(digits: str) -> str:
    """An integer as a number: ``"1050"`` → ``一千零五十``, ``"12"`` → ``十二`` (no leading 一)."""
    if not digits:
        return ""
    digits = digits.lstrip("0")
    if not digits:
        return DIGIT_WORDS[0]
    parts = _cardinal_parts(digits)
    if len(parts) >= 2 and parts[0] == "一" and parts[1] == "十":
        parts = parts[1:]
    return "".join(parts)


def read_number(text: str) -> str:
    """An integer or decimal: ``"3.5"`` → ``三点五``.

    Trailing zeros of the fraction collapse to a single zero (``"3.20"`` → ``三点二零``), as in
    the official code; a number with two points is not a number and is a caller bug.
    """
    integer, _, fraction = text.partition(".")
    if "." in fraction:
        raise ValueError(f"{text!r} has more than one decimal point")
    spoken = read_cardinal(integer)
    fraction = fraction.rstrip("0") + "0" if fraction.endswith("0") else fraction
    if fraction:
        spoken = (spoken or DIGIT_WORDS[0]) + "点" + read_digits(fraction)
    return spoken
