"""Reading and writing the official ``.list`` transcript format, byte for byte.

A line is ``path|speaker|LANG|text``. The official ASR scripts join lines with ``"\\n"`` and
write no trailing newline; the official labelling tool writes ``"\\n"`` after every line. Files
made on Windows may carry a BOM and CRLF endings, and hand-edited files have blank lines or lines
with a ``|`` in the text. We keep every line as it was read (content and ending) and only
re-format the lines a person changed, so a file we open and save untouched is identical, and a
file we edit differs only in the edited lines. Lines we cannot read are kept verbatim (never
dropped, unlike the official tool) and reported by number.

Bytes that are not UTF-8 are decoded with ``surrogateescape`` so they survive the round trip;
the lines that hold them are reported as malformed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

BOM = "\ufeff"

# The formatting step's (case-sensitive) language map; anything else is skipped by it.
FORMATTER_LANGUAGES: dict[str, str] = {
    "ZH": "zh", "zh": "zh",
    "JP": "ja", "jp": "ja", "JA": "ja", "ja": "ja",
    "EN": "en", "en": "en", "En": "en",
    "KO": "ko", "Ko": "ko", "ko": "ko",
    "yue": "yue", "YUE": "yue", "Yue": "yue",
}
# What we write when a person picks a language (the codes the official ASR writes).
LANGUAGE_CYCLE: tuple[str, ...] = ("ZH", "EN", "JA", "KO", "YUE")


def canonical_language(code: str) -> str | None:
    """The frontend language (zh/ja/en/ko/yue) the formatting step reads ``code`` as, or None."""
    return FORMATTER_LANGUAGES.get(code.strip())


@dataclass(frozen=True)
class Clip:
    """One transcript entry. ``raw`` is the line as read; None once a field was changed."""

    path: str
    speaker: str
    lang: str
    text: str
    # How the line was spelled and ended on disk: kept for writing, ignored when comparing.
    raw: str | None = field(default=None, compare=False)
    ending: str = field(default="\n", compare=False)

    def line(self) -> str:
        return self.raw if self.raw is not None else f"{self.path}|{self.speaker}|{self.lang}|{self.text}"

    def edited(self, **fields: str) -> "Clip":
        return replace(self, raw=None, **fields)

    def to_json(self) -> dict:
        d = {"path": self.path, "speaker": self.speaker, "lang": self.lang, "text": self.text,
             "ending": self.ending}
        if self.raw is not None:
            d["raw"] = self.raw
        return d


@dataclass(frozen=True)
class RawLine:
    """A line that is not a clip: blank, or malformed (``reason`` says why). Kept verbatim."""

    raw: str
    ending: str = field(default="\n", compare=False)
    reason: str = ""  # empty for a blank line

    def line(self) -> str:
        return self.raw

    def to_json(self) -> dict:
        return {"raw": self.raw, "ending": self.ending, "reason": self.reason}


Row = Clip | RawLine


def row_from_json(d: dict) -> Row:
    if "path" in d:
        return Clip(d["path"], d["speaker"], d["lang"], d["text"], d.get("raw"), d.get("ending", "\n"))
    return RawLine(d["raw"], d.get("ending", "\n"), d.get("reason", ""))


@dataclass(frozen=True)
class LineProblem:
    """A line we could not read as a clip, by 1-based line number."""

    lineno: int
    reason: str
    text: str

    def __str__(self) -> str:
        shown = self.text if len(self.text) <= 60 else self.text[:57] + "..."
        return f"line {self.lineno}: {self.reason}: {shown!r}"


@dataclass
class ListStyle:
    """How the file spells itself: kept on save so the official tools and diff see no noise."""

    bom: bool = False
    newline: str = "\n"
    trailing_newline: bool = False  # the official ASR writes none


@dataclass
class ParsedList:
    rows: list[Row]
    style: ListStyle
    problems: list[LineProblem] = field(default_factory=list)


_SURROGATE = re.compile("[\udc80-\udcff]")


def _classify(content: str, maybe_bad_bytes: bool = False) -> str:
    """Why ``content`` is not a clip line, or "" when it is one."""
    if maybe_bad_bytes and _SURROGATE.search(content):
        return "not valid UTF-8"
    n = content.count("|")
    if n < 3:
        return f"expected 4 fields separated by '|', found {n + 1}"
    if n > 3:
        return f"expected 4 fields separated by '|', found {n + 1} (a '|' inside the text?)"
    path = content.split("|", 1)[0]
    if not path.strip():
        return "empty audio path"
    return ""


def parse_line(content: str, ending: str, maybe_bad_bytes: bool = False) -> Row:
    reason = _classify(content, maybe_bad_bytes)
    if not content.strip() and not reason.startswith("not valid"):
        return RawLine(content, ending, "")
    if reason:
        return RawLine(content, ending, reason)
    path, speaker, lang, text = content.split("|")
    return Clip(path, speaker, lang, text, content, ending)


def parse_bytes(data: bytes) -> ParsedList:
    """Parse a whole file; never raises on content — malformed lines become problems."""
    try:
        text, bad = data.decode("utf-8"), False
    except UnicodeDecodeError:
        text, bad = data.decode("utf-8", errors="surrogateescape"), True
    style = ListStyle()
    if text.startswith(BOM):
        style.bom = True
        text = text[1:]
    rows: list[Row] = []
    problems: list[LineProblem] = []
    crlf = lf = 0
    pos, n = 0, len(text)
    lineno = 0
    while pos < n:
        nl = text.find("\n", pos)
        if nl < 0:
            content, ending, pos = text[pos:], "", n
        else:
            content, ending, pos = text[pos:nl], "\n", nl + 1
            if content.endswith("\r"):
                content, ending = content[:-1], "\r\n"
                crlf += 1
            else:
                lf += 1
        lineno += 1
        row = parse_line(content, ending, bad)
        if isinstance(row, RawLine) and row.reason:
            problems.append(LineProblem(lineno, row.reason, content))
        rows.append(row)
    style.newline = "\r\n" if crlf > lf else "\n"
    style.trailing_newline = bool(rows) and rows[-1].ending != ""
    if not rows:
        style.trailing_newline = False
    return ParsedList(rows, style, problems)


def render(rows: list[Row], style: ListStyle) -> bytes:
    """The file's bytes: each row with its own ending, new rows with the file's newline, and
    the last row ended or not as the file was."""
    parts: list[str] = [BOM] if style.bom else []
    last = len(rows) - 1
    for i, row in enumerate(rows):
        parts.append(row.line())
        if i < last:
            parts.append(row.ending or style.newline)
        elif style.trailing_newline:
            parts.append(row.ending or style.newline)
    return "".join(parts).encode("utf-8", errors="surrogateescape")


def clean_text(text: str) -> str:
    """Text a person typed, made safe for one ``.list`` field: line breaks and tabs become
    spaces, ``|`` (the field separator) becomes the full-width ``｜``, ends are trimmed."""
    for ch in ("\r\n", "\n", "\r", "\t", "\u2028", "\u2029"):
        text = text.replace(ch, " ")
    return text.replace("|", "｜").strip()
