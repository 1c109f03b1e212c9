"""Phoneme symbol tables v1 (322 symbols) and v2 (732 symbols).

The models were trained on ids that are positions in these tables, so the tables are
rebuilt here by the published rule (not typed out by hand) and checked against SHA-256
checksums of the official tables: a single misplaced symbol would shift every id after it.
"""

from __future__ import annotations

import hashlib
from functools import cache

from backend.errors import GsvError

PUNCTUATION: tuple[str, ...] = ("!", "?", "\u2026", ",", ".", "-")
"""The six marks that survive normalisation (U+2026 is the ellipsis)."""

PAD = "_"

_SILENCE = ("SP", "SP2", "SP3", "UNK")

_INITIALS = (
    "AA EE OO b c ch d f g h j k l m n p q r s sh t w x y z zh"
).split()

FINALS_WITHOUT_TONE = (
    "E En a ai an ang ao e ei en eng er i i0 ia ian iang iao ie in ing iong ir iu "
    "o ong ou u ua uai uan uang ui un uo v van ve vn"
).split()

_JA_SYMBOLS = (
    "I N U a b by ch cl d dy e f g gy h hy i j k ky m my n ny o p py r ry s sh t ts u v w y z"
).split()

_ARPA_VOWELS = "AA AE AH AO AW AY EH ER EY IH IY OW OY UH UW".split()
_ARPA_CONSONANTS = "B CH D DH F G HH JH K L M N NG P R S SH T TH V W Y Z ZH".split()

_KO = "ㄱㄴㄷㄹㅁㅂㅅㅇㅈㅊㅋㅌㅍㅎㄲㄸㅃㅆㅉㅏㅓㅗㅜㅡㅣㅐㅔ空停"

_YUE_TONELESS_ONLY = "b c d f gw h j kw l ng s w z".split()
_YUE_TONELESS_AND_TONED = "a aa ai ak au e g k m n o oi ok on ou p t uk".split()
_YUE_TONED_ONLY = (
    "aai aak aam aan aang aap aat aau am an ang ap at ei ek eng eoi eon eot i ik im in "
    "ing ip it iu oe oek oeng ong ot u ui un ung ut yu yun yut"
).split()

CHECKSUMS: dict[str, str] = {
    "v1": "f7c3b280b9cc519b0829a6f182fcdd208643a07f1e20c1ab2bf4fc9e8e9a7ca6",
    "v2": "0771f6cd6f6201e8c2b0de921dc69cc04caf3f346c599d4a41413967d5674da7",
}

VERSIONS = ("v1", "v2")


class UnknownTextVersionError(GsvError):
    """A symbol-table version other than v1/v2 was asked for."""


def _arpa() -> set[str]:
    stressed = {vowel + digit for vowel in _ARPA_VOWELS for digit in "012"}
    return stressed | {"ER", "IH"} | set(_ARPA_CONSONANTS)


def _yue() -> list[str]:
    units: list[str] = []
    for base in _YUE_TONELESS_ONLY:
        units.append("Y" + base)
    for base in _YUE_TONELESS_AND_TONED:
        units.append("Y" + base)
        units.extend(f"Y{base}{tone}" for tone in range(1, 7))
    for base in _YUE_TONED_ONLY:
        units.extend(f"Y{base}{tone}" for tone in range(1, 7))
    return units


def _build_v1() -> list[str]:
    toned = [final + str(tone) for tone in range(1, 6) for final in FINALS_WITHOUT_TONE]
    everything = (
        [PAD] + _INITIALS + toned + _JA_SYMBOLS + list(PUNCTUATION) + list(_SILENCE)
        + sorted(_arpa())
    )
    return sorted(set(everything))


def _build_v2() -> list[str]:
    return _build_v1() + ["[", "]"] + sorted(_KO) + sorted(set(_yue()))


def _check_version(version: str) -> str:
    if version not in VERSIONS:
        raise UnknownTextVersionError(
            f"unknown text version {version!r}",
            fix="use 'v1' (v1 models) or 'v2' (v2, v2Pro, v2ProPlus, v3, v4 models)",
        )
    return version


def table_checksum(table: list[str]) -> str:
    """SHA-256 of the symbols joined with newlines (the form the checksums are given in)."""
    return hashlib.sha256("\n".join(table).encode("utf-8")).hexdigest()


@cache
def _table(version: str) -> tuple[str, ...]:
    table = _build_v1() if version == "v1" else _build_v2()
    if table_checksum(table) != CHECKSUMS[version]:  # pragma: no cover - guards the rule itself
        raise AssertionError(f"symbol table {version} does not match its checksum")
    return tuple(table)


def symbols_for(version: str) -> list[str]:
    """The symbol table of ``version`` ("v1" or "v2"); an id is a position in it."""
    return list(_table(_check_version(version)))


@cache
def _phone_to_id(version: str) -> dict[str, int]:
    return {symbol: index for index, symbol in enumerate(_table(version))}


def phone_to_id(version: str) -> dict[str, int]:
    """Mapping symbol → id for ``version``. Treat it as read-only (it is shared)."""
    return _phone_to_id(_check_version(version))


def symbol_set(version: str) -> frozenset[str]:
    """The symbols of ``version`` as a set, for the UNK replacement."""
    return frozenset(_phone_to_id(_check_version(version)))
