"""The clips of a transcript as the formatting steps see them, and the reasons some are skipped.

The official scripts split each ``.list`` line on ``|`` into exactly four fields and use the base
name of the audio path as the item key everywhere. We read the file with the tolerant transcript
parser (malformed lines are reported, never fatal), find the audio the way the review screen does
(the path as written, beside the list, the project's clips folder) unless an audio folder is given
(then ``<folder>/<base name>``, the official rule), and decide up front what cannot be formatted.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import GsvError
from ..transcripts.audio import PathResolver, path_basename
from ..transcripts.listfile import Clip, canonical_language, parse_bytes
from .layout import text_version


class FormatInputError(GsvError):
    """The transcript cannot be formatted at all (missing, unreadable, nothing usable)."""


@dataclass(frozen=True)
class FormatItem:
    key: str  # base name of the audio path: the file name of every per-item output
    audio: Path
    language: str  # frontend code: zh, ja, en, ko, yue
    text: str
    lineno: int


@dataclass(frozen=True)
class Skipped:
    key: str  # the item key, or "line N" when the line has none
    step: str  # "transcript", "text", "ssl", "sv", "semantic"
    reason: str

    def to_json(self) -> dict[str, str]:
        return {"item": self.key, "step": self.step, "reason": self.reason}


def readable_languages(version: str) -> tuple[str, ...]:
    """Languages whose text this installation can turn into phones for ``version``."""
    from ..text.cleaner import IMPLEMENTED, LANGUAGES_BY_VERSION

    return tuple(lang for lang in LANGUAGES_BY_VERSION[text_version(version)] if lang in IMPLEMENTED)


def _control_char(text: str) -> str | None:
    """The first C0/DEL control character in ``text`` (tabs are ordinary text), else None."""
    for ch in text:
        if (ord(ch) < 32 and ch != "\t") or ch == "\x7f":
            return ch
    return None


def read_items(list_path: Path, version: str, wav_dir: Path | None = None,
               extra_dirs: list[Path] | None = None) -> tuple[list[FormatItem], list[Skipped]]:
    """Every usable clip of ``list_path`` in file order, and every line that is not, with why."""
    try:
        data = Path(list_path).read_bytes()
    except FileNotFoundError:
        raise FormatInputError(f"transcript not found: {list_path}",
                               "run the ASR step (or point at an existing .list)") from None
    except OSError as e:
        raise FormatInputError(f"cannot read {list_path}: {e.strerror}", "check the file's permissions") from None
    parsed = parse_bytes(data)
    resolver = PathResolver(Path(list_path), extra_dirs)
    readable = readable_languages(version)
    items: list[FormatItem] = []
    skipped = [Skipped(f"line {p.lineno}", "transcript", p.reason) for p in parsed.problems]
    seen: dict[str, int] = {}
    lineno = 0
    for row in parsed.rows:
        lineno += 1
        if not isinstance(row, Clip):
            continue
        control = _control_char(row.path + row.text)
        if control is not None:
            # a NUL (or another control character) would reach the text frontend or the file
            # system as is; the clip is left out with the line to fix in review
            skipped.append(Skipped(f"line {lineno}", "transcript",
                                   f"the line holds the control character U+{ord(control):04X}; "
                                   "remove it in review (or in the .list)"))
            continue
        key = path_basename(row.path.strip())
        if key in seen:
            skipped.append(Skipped(key, "transcript", f"line {lineno}: same clip name as line {seen[key]} "
                                                      "(every output file is named after it)"))
            continue
        seen[key] = lineno
        lang = canonical_language(row.lang)
        if lang is None:
            skipped.append(Skipped(key, "transcript", f"unknown language code {row.lang!r}"))
            continue
        if lang not in readable:
            skipped.append(Skipped(key, "transcript", f"language {lang} cannot be read by the {version} text "
                                                      f"frontend here (readable: {', '.join(readable)})"))
            continue
        if wav_dir is not None:
            candidate = Path(wav_dir) / key
            audio: Path | None = candidate if candidate.is_file() else None
        else:
            audio = resolver.resolve(row.path, row.speaker)
        if audio is None:
            skipped.append(Skipped(key, "transcript", f"audio missing: {row.path}"))
            continue
        items.append(FormatItem(key, audio, lang, row.text, lineno))
    return items, skipped
