"""Cutting target text into the pieces that are synthesised one by one.

The six official methods (``cut0`` … ``cut5``) and the api's preparation around them
(``TextPreprocessor.preprocess`` of the official api): collapse repeated marks, prefix a
very short first sentence with a full stop, cut, glue pieces shorter than 5 characters to
their neighbours, end every piece with a mark, split pieces longer than 510 characters at
marks. The pieces decide where the voice pauses and how long each GPT run is, so they
must match the official ones exactly.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from backend.errors import GsvError

__all__ = [
    "METHODS",
    "SPLITS",
    "cut",
    "split_for_inference",
    "prepare_chunks",
    "prompt_text_for_inference",
    "Chunk",
    "UnknownCutMethodError",
    "NoTextError",
]

SPLITS = frozenset("，。？！,.?!~:：—…")
"""Marks that end a sentence for cut1/cut2 and for the api's first-sentence and final-mark
rules."""

_SILENT = frozenset("!?…,.- ")
"""A piece made only of these is dropped by every method."""

_CUT5_MARKS = frozenset(",.;?!、，。？！：…")
_REPEATABLE = "!?…,.-"  # the six symbol-table marks; runs of them collapse to the first
_REPEATED_MARKS = re.compile(f"([{re.escape(_REPEATABLE)}])([{re.escape(_REPEATABLE)}])+")
_SPLIT_CLASS = "[" + "".join(re.escape(mark) for mark in sorted(SPLITS)) + "]"
_CUT4_STOP = re.compile(r"(?<!\d)\.(?!\d)")
_WORD_CHAR = re.compile(r"\w")

SHORT_PIECE = 5
MAX_PIECE = 510
CUT2_LENGTH = 50


class UnknownCutMethodError(GsvError):
    """A text-cutting method other than cut0 … cut5."""


class NoTextError(GsvError):
    """The text holds nothing that can be read."""


def _audible(piece: str) -> bool:
    return not set(piece) <= _SILENT


def _sentences(text: str) -> list[str]:
    """Sentences ending after each split mark (the text is given a final ``。`` if it lacks one)."""
    text = text.replace("……", "。").replace("——", "，")
    if text[-1] not in SPLITS:
        text += "。"
    pieces: list[str] = []
    start = 0
    for index, char in enumerate(text):
        if char in SPLITS:
            pieces.append(text[start : index + 1])
            start = index + 1
    return pieces


def cut0(text: str) -> list[str]:
    """No cutting. (Officially punctuation-only text yields the literal string "/n", which
    then gets read aloud; we return nothing instead.)"""
    return [text] if _audible(text) else []


def cut1(text: str) -> list[str]:
    """Four sentences per piece."""
    text = text.strip("\n")
    sentences = _sentences(text)
    if len(sentences) > 4:
        starts = list(range(0, len(sentences), 4))
        pieces = ["".join(sentences[a:b]) for a, b in zip(starts, starts[1:-1] + [None])]
    else:
        pieces = [text]
    return [piece for piece in pieces if _audible(piece)]


def cut2(text: str) -> list[str]:
    """Sentences gathered until a piece exceeds 50 characters; a short tail joins the last piece."""
    text = text.strip("\n")
    sentences = _sentences(text)
    if len(sentences) < 2:
        return [text]
    pieces: list[str] = []
    current, length = "", 0
    for sentence in sentences:
        current += sentence
        length += len(sentence)
        if length > CUT2_LENGTH:
            pieces.append(current)
            current, length = "", 0
    if current:
        pieces.append(current)
    if len(pieces) > 1 and len(pieces[-1]) < CUT2_LENGTH:
        pieces[-2:] = [pieces[-2] + pieces[-1]]
    return [piece for piece in pieces if _audible(piece)]


def cut3(text: str) -> list[str]:
    """At every Chinese full stop (the stop itself is dropped)."""
    text = text.strip("\n")
    return [piece for piece in text.strip("。").split("。") if _audible(piece)]


def cut4(text: str) -> list[str]:
    """At every ``.`` that is not between two digits (the stop itself is dropped)."""
    text = text.strip("\n")
    return [piece for piece in _CUT4_STOP.split(text.strip(".")) if _audible(piece)]


def cut5(text: str) -> list[str]:
    """After every punctuation mark (kept with its piece), except a ``.`` between digits."""
    text = text.strip("\n")
    pieces: list[str] = []
    start = 0
    for index, char in enumerate(text):
        if char not in _CUT5_MARKS:
            continue
        between_digits = (
            char == "." and 0 < index < len(text) - 1
            and text[index - 1].isdigit() and text[index + 1].isdigit()
        )
        if not between_digits:
            pieces.append(text[start : index + 1])
            start = index + 1
    if start < len(text):
        pieces.append(text[start:])
    return [piece for piece in pieces if not set(piece) <= _CUT5_MARKS]


METHODS: dict[str, Callable[[str], list[str]]] = {
    "cut0": cut0, "cut1": cut1, "cut2": cut2, "cut3": cut3, "cut4": cut4, "cut5": cut5,
}


def cut(text: str, method: str) -> list[str]:
    """Pieces of ``text`` by an official method: ``cut0`` none, ``cut1`` every 4 sentences,
    ``cut2`` about 50 characters, ``cut3`` at ``。``, ``cut4`` at ``.``, ``cut5`` at every mark."""
    try:
        function = METHODS[method]
    except KeyError:
        raise UnknownCutMethodError(
            f"unknown text cutting method {method!r}",
            fix="use one of " + ", ".join(METHODS),
        ) from None
    if not text:
        return []
    # The methods join their pieces with newlines, so newlines inside a piece separate
    # pieces too.
    return [line for piece in function(text) for line in piece.split("\n")]


def _first_sentence(text: str) -> str:
    return re.split(_SPLIT_CLASS, text)[0].strip()


def _merge_short(pieces: list[str], threshold: int = SHORT_PIECE) -> list[str]:
    if len(pieces) < 2:
        return pieces
    merged: list[str] = []
    current = ""
    for piece in pieces:
        current += piece
        if len(current) >= threshold:
            merged.append(current)
            current = ""
    if current:
        if merged:
            merged[-1] += current
        else:
            merged.append(current)
    return merged


def _split_long(text: str, limit: int = MAX_PIECE) -> list[str]:
    """Pieces of at most ``limit`` characters, cut at marks (a mark-less run stays whole)."""
    out: list[str] = []
    current = ""
    for part in re.split(f"({_SPLIT_CLASS})", text):
        if len(current + part) > limit:
            if current:
                out.append(current)
            current = part
        else:
            current += part
    if current:
        out.append(current)
    return out


def split_for_inference(text: str, lang: str, method: str) -> list[str]:
    """The chunks the official api synthesises for target ``text`` in UI language ``lang``.

    Empty text gives no chunks; text with nothing readable in it is a :class:`NoTextError`.
    """
    if method not in METHODS:
        cut("", method)  # raises the named error
    text = _REPEATED_MARKS.sub(r"\1", text).strip("\n")
    if not text:
        return []
    stop = "." if lang == "en" else "。"
    if text[0] not in SPLITS and len(_first_sentence(text)) < 4:
        text = stop + text
    pieces = cut(text, method)
    if all(piece in ("", " ", "\n") for piece in pieces):
        raise NoTextError("the text has nothing to read", fix="enter some words, not only punctuation")
    pieces = _merge_short([piece for piece in pieces if piece not in ("", " ")])
    chunks: list[str] = []
    for piece in pieces:
        if not piece.strip() or not _WORD_CHAR.search(piece):
            continue  # blank or symbols only
        if piece[-1] not in SPLITS:
            piece += stop
        chunks.extend(_split_long(piece) if len(piece) > MAX_PIECE else [piece])
    return chunks


def prompt_text_for_inference(text: str | None, lang: str) -> str | None:
    """The reference (prompt) text as the official api reads it: outer newlines stripped and a
    final ``。`` (``.`` for English) added when it does not end in a split mark. None when
    there is no text: synthesis then runs without a reference text (ref-free mode)."""
    if text is None:
        return None
    text = text.strip("\n")
    if not text.strip():
        return None
    if text[-1] not in SPLITS:
        text += "." if lang == "en" else "。"
    return text


@dataclass
class Chunk:
    text: str
    phones: list[str]
    ids: list[int]
    norm_text: str
    segments: list = field(default_factory=list)


def prepare_chunks(text: str, lang: str, method: str, version: str = "v2", clean=None) -> list[Chunk]:
    """Chunks with their phones, as the official api prepares target text: chunks whose
    normalised text is empty are dropped. ``clean`` as in
    :func:`backend.text.langsplit.phones_for_option`."""
    from backend.text.langsplit import phones_for_option

    chunks: list[Chunk] = []
    for piece in split_for_inference(text, lang, method):
        result = phones_for_option(piece, lang, version, clean)
        if result.norm_text == "":
            continue
        chunks.append(Chunk(piece, result.phones, result.ids, result.norm_text, result.segments))
    return chunks
