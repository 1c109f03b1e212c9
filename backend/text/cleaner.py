"""Text of one language → phone symbols, ids, word2ph and normalised text.

This is the single entry point every caller uses (dataset formatting, inference, ``gsv
g2p``): it picks the language's normaliser and g2p, applies the official special cases
(￥ and ^ pauses in Chinese, the leading comma for very short English, UNK for symbols a
table lacks) and turns unexpected failures into a named error instead of a traceback from
deep inside a dictionary library.
"""

from __future__ import annotations

import importlib
from typing import NamedTuple, cast

from backend.errors import GsvError
from backend.text.symbols import phone_to_id, symbol_set, symbols_for
from backend.text.zh_g2p import SentencePinyin

LANGUAGES_BY_VERSION: dict[str, tuple[str, ...]] = {
    "v1": ("zh", "ja", "en"),
    "v2": ("zh", "ja", "en", "ko", "yue"),
}
IMPLEMENTED = ("zh", "ja", "en")
MAX_CHARS = 20_000
"""Longest text one call accepts; longer text should be cut into sentences first."""

_SPECIAL_PAUSES = (("￥", "SP2"), ("^", "SP3"))

AUTO = "auto"
"""``sentence_pinyin`` default: the installed G2PW model for v2 Chinese, else the official
pypinyin branch (what an official v2 installation does when it has, or lacks, the model)."""


class CleanedText(NamedTuple):
    phones: list[str]
    word2ph: list[int] | None
    norm_text: str


class TextFrontendError(GsvError):
    """The text cannot be turned into phones."""


class LanguageUnavailableError(TextFrontendError):
    """The language is known but its frontend is not installed or not implemented."""


def _language_module(name: str):  # noqa: ANN202 - a module
    try:
        return importlib.import_module(f"backend.text.{name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"backend.text.{name}":
            raise
        raise LanguageUnavailableError(
            f"the {name} text frontend is not available in this installation",
            fix="reinstall gsv-tui with all its dependencies",
        ) from exc


def _zh(text: str, version: str, sentence_pinyin: SentencePinyin | None) -> CleanedText:
    from backend.text.zh_g2p import g2p_zh
    from backend.text.zh_normalize import normalize_zh

    norm_text = normalize_zh(text)
    result = g2p_zh(norm_text, version, sentence_pinyin)
    if len(result.word2ph) != len(norm_text) or sum(result.word2ph) != len(result.phones):
        raise TextFrontendError(  # pragma: no cover - guards our own invariant
            f"word2ph does not line up with {norm_text!r}",
            fix="report this text as a bug",
        )
    return CleanedText(result.phones, result.word2ph, norm_text)


def _en(text: str, version: str) -> CleanedText:
    module = _language_module("english")
    norm_text = module.normalize_en(text)
    phones = list(module.g2p_en(norm_text, version))
    if len(phones) < 4:
        phones = [","] + phones
    return CleanedText(phones, None, norm_text)


def _ja(text: str, version: str) -> CleanedText:
    module = _language_module("japanese")
    norm_text = module.normalize_ja(text)
    return CleanedText(list(module.g2p_ja(norm_text, version, True)), None, norm_text)


def _check_input(text: str, language: str, version: str) -> str:
    symbols_for(version)  # raises a clear error for an unknown version
    if not isinstance(text, str):
        raise TextFrontendError(f"expected text, got {type(text).__name__}",
                                fix="pass a str")
    if len(text) > MAX_CHARS:
        raise TextFrontendError(
            f"text of {len(text)} characters is too long for one call (limit {MAX_CHARS})",
            fix="cut the text into sentences first (the inference text cutting does this)",
        )
    return text


def clean_text(text: str, language: str, version: str = "v2", *,
               sentence_pinyin: SentencePinyin | str | None = AUTO) -> CleanedText:
    """``(phones, word2ph, norm_text)`` of ``text`` in ``language`` for symbol set ``version``.

    ``word2ph`` (phones per character of ``norm_text``) exists for Chinese only. An
    unsupported language code behaves as in the official code: it becomes English of a
    single space, i.e. ``[","]``. ``sentence_pinyin`` is v2 Chinese's polyphone model:
    :data:`AUTO` (the installed G2PW model if any), None (the official pypinyin branch) or
    any callable with that interface (e.g. recorded readings).
    """
    text = _check_input(text, language, version)
    if language not in LANGUAGES_BY_VERSION[version]:
        language, text = "en", " "
    if language not in IMPLEMENTED:
        raise LanguageUnavailableError(
            f"language {language!r} is not supported by this frontend yet",
            fix="use zh, en or ja (or auto for mixed text)",
        )
    if sentence_pinyin == AUTO:
        sentence_pinyin = None
        if language == "zh" and version != "v1":
            from backend.text.g2pw import installed_model

            sentence_pinyin = installed_model()
    model = cast("SentencePinyin | None", sentence_pinyin)  # AUTO is resolved above
    try:
        if language == "zh":
            special = next(((c, sym) for c, sym in _SPECIAL_PAUSES if c in text), None)
            if special is None:
                result = _zh(text, version, model)
            else:
                char, pause = special
                phones, word2ph, norm = _zh(text.replace(char, ","), version, model)
                result = CleanedText([pause if p == "," else p for p in phones], word2ph, norm)
        elif language == "en":
            result = _en(text, version)
        else:
            result = _ja(text, version)
    except GsvError:
        raise
    except Exception as exc:  # a library failing deep inside is reported, not propagated
        raise TextFrontendError(
            f"could not convert {language} text {text[:40]!r}…: {type(exc).__name__}: {exc}",
            fix="simplify the text (unusual characters?) or report it as a bug",
        ) from exc
    known = symbol_set(version)
    phones = [p if p in known else "UNK" for p in result.phones]
    return CleanedText(phones, result.word2ph, result.norm_text)


def cleaned_text_to_sequence(phones: list[str], version: str = "v2") -> list[int]:
    """Phone symbols → ids of the ``version`` table (no padding, no separators)."""
    table = phone_to_id(version)
    try:
        return [table[p] for p in phones]
    except KeyError as exc:
        raise TextFrontendError(
            f"phone {exc.args[0]!r} is not in the {version} symbol table",
            fix="pass phones produced by clean_text for the same version",
        ) from None


def name2text_line(name: str, text: str, language: str, version: str = "v2") -> str:
    """One line of the dataset step's ``2-name2text`` file for ``text``.

    The dataset step replaces ``%`` with ``-`` and ``￥`` with ``,`` before cleaning (so only
    ``^`` reaches the pause rule); fields are tab-separated: name, space-joined phones,
    Python repr of word2ph (``None`` for non-Chinese), normalised text.
    """
    cleaned = clean_text(text.replace("%", "-").replace("￥", ","), language, version)
    return f"{name}\t{' '.join(cleaned.phones)}\t{cleaned.word2ph!r}\t{cleaned.norm_text}"
