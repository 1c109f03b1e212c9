"""``gsv g2p``: text → phones, ids, word2ph and normalised text, one text or a whole file.

``gsv g2p TEXT --lang LANG [--version v1|v2] [--json]`` prints one result (per language item
for the UI language options such as ``auto``); ``gsv g2p --batch IN.jsonl`` reads one JSON
object per line and writes one per line with the fields of the reference records, so a
corpus (or the reference records themselves) checks in seconds. Lines that carry expected
fields (``phones``/``ids``/``word2ph``/``norm_text``) are compared and counted.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

from backend.errors import GsvError
from backend.text.symbols import VERSIONS

LANGUAGE_CODES = ("zh", "en", "ja", "ko", "yue")
OPTIONS_ONLY = ("auto", "auto_yue", "all_zh", "all_ja", "all_ko", "all_yue")
_COMPARED = ("phones", "ids", "word2ph", "norm_text", "segments", "retried_with_dot",
             "pre_seg_text", "kept_norm_texts")
PATHS = ("clean_text", "dataset_1_get_text", "inference", "preprocess")


class G2PInputError(GsvError):
    """A line of the batch file cannot be used."""


def _clean_record(text: str, language: str, version: str, pinyin: Any) -> dict[str, Any]:
    from backend.text.cleaner import clean_text, cleaned_text_to_sequence

    cleaned = clean_text(text, language, version, sentence_pinyin=pinyin)
    return {"phones": cleaned.phones, "ids": cleaned_text_to_sequence(cleaned.phones, version),
            "word2ph": cleaned.word2ph, "norm_text": cleaned.norm_text}


def _clean_with(pinyin: Any):  # noqa: ANN202 - a clean function for phones_for_option
    from backend.text.cleaner import clean_text

    return lambda text, language, version: clean_text(text, language, version, sentence_pinyin=pinyin)


def _inference_record(text: str, option: str, version: str, pinyin: Any = "auto") -> dict[str, Any]:
    try:
        from backend.text.langsplit import phones_for_option
    except ModuleNotFoundError as exc:  # pragma: no cover - shipped together
        raise G2PInputError("mixed-language splitting is not available",
                            fix="use a plain language code (zh, en, ja)") from exc
    result = phones_for_option(text, option, version, _clean_with(pinyin))
    return {
        "phones": result.phones, "ids": result.ids, "word2ph": None,
        "norm_text": result.norm_text, "retried_with_dot": result.retried_with_dot,
        "segments": [{"lang": s.lang, "text": s.text, "ids": s.ids, "phones": s.phones,
                      "word2ph": s.word2ph, "norm_text": s.norm_text}
                     for s in result.segments],
    }


def _preprocess_record(text: str, option: str, version: str, method: str,
                       pinyin: Any = "auto") -> dict[str, Any]:
    from backend.text.cutting import prepare_chunks, split_for_inference

    chunks = prepare_chunks(text, option, method, version=version, clean=_clean_with(pinyin))
    return {
        "text_split_method": method,
        "pre_seg_text": split_for_inference(text, option, method),
        "kept_norm_texts": [c.norm_text for c in chunks],
        "chunks": [{"text": c.text, "ids": c.ids, "phones": c.phones, "norm_text": c.norm_text}
                   for c in chunks],
    }


def convert(text: str, language: str, version: str = "v2", path: str | None = None,
            pinyin: Any = "auto", method: str = "cut5") -> dict[str, Any]:
    """One conversion as a record-shaped dict (``path`` as in the reference records).

    ``pinyin`` is clean_text's ``sentence_pinyin`` ("auto", None or a callable); ``method``
    the cut method of the ``preprocess`` path.
    """
    if path is None:
        path = "inference" if language in OPTIONS_ONLY else "clean_text"
    if path == "clean_text":
        body = _clean_record(text, language, version, pinyin)
    elif path == "dataset_1_get_text":
        body = _clean_record(text.replace("%", "-").replace("￥", ","), language, version, pinyin)
    elif path == "inference":
        body = _inference_record(text, language, version, pinyin)
    elif path == "preprocess":
        body = _preprocess_record(text, language, version, method, pinyin)
    else:
        raise G2PInputError(f"unsupported path {path!r}", fix=f"use one of {', '.join(PATHS)}")
    return {"input": text, "path": path, "version": version, "language": language, **body}


def _batch_lines(handle: TextIO) -> Iterator[tuple[int, dict[str, Any] | None, str | None]]:
    for number, line in enumerate(handle, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, None, f"not JSON: {exc.msg}"
            continue
        if not isinstance(item, dict) or not isinstance(item.get("input", item.get("text")), str):
            yield number, None, "expected an object with a string 'input' (or 'text')"
            continue
        yield number, item, None


_SEGMENT_FIELDS = ("lang", "text", "ids", "phones", "word2ph", "norm_text")


def _matches(result: dict[str, Any], item: dict[str, Any]) -> bool:
    """Does ``result`` agree with the expected fields of ``item``? A record of an input the
    official code crashes on (``error`` set) matches when ours refuses it with a named error;
    per-segment extras of a record (BERT shapes) are not compared."""
    if item.get("error"):
        return result.get("error") is not None
    for key in _COMPARED:
        if key not in item:
            continue
        want = item[key]
        if key == "segments" and want is not None:
            want = [{field: seg.get(field) for field in _SEGMENT_FIELDS} for seg in want]
        if result.get(key) != want:
            return False
    return True


def run_batch(lines: Iterable[str] | TextIO, out: TextIO) -> tuple[int, int, int]:
    """Convert every line; returns (lines, lines with expected fields, of those matching)."""
    from backend.text.g2pw import recorded_pinyin

    total = expected = matched = 0
    handle = lines if hasattr(lines, "read") else iter(lines)
    for number, item, problem in _batch_lines(handle):  # type: ignore[arg-type]
        total += 1
        if item is None:
            out.write(json.dumps({"line": number, "error": problem}, ensure_ascii=False) + "\n")
            continue
        text: Any = item.get("input", item.get("text"))
        pinyin: Any = "auto"
        if item.get("g2pw") == "pypinyin_standin" and item.get("g2pw_standin_pinyin"):
            pinyin = recorded_pinyin(item["g2pw_standin_pinyin"])
        elif item.get("g2pw") == "off":
            pinyin = None  # the official pypinyin branch, as the record asks
        try:
            result = convert(text, item.get("language", "zh"), item.get("version", "v2"),
                             item.get("path"), pinyin, item.get("text_split_method", "cut5"))
            result["error"] = None
        except GsvError as exc:
            result = {"input": text, "error": exc.message, "fix": exc.fix}
        if "record_id" in item:
            result = {"record_id": item["record_id"], **result}
        if any(key in item for key in _COMPARED):
            expected += 1
            same = _matches(result, item)
            matched += same
            result["matches_expected"] = same
        out.write(json.dumps(result, ensure_ascii=False) + "\n")
    return total, expected, matched


def _print_human(result: dict[str, Any], out: TextIO) -> None:
    if "chunks" in result:
        for n, chunk in enumerate(result["chunks"]):
            out.write(f"chunk {n}: {chunk['text']!r}\n  norm_text: {chunk['norm_text']}\n"
                      f"  phones:    {' '.join(chunk['phones'])}\n"
                      f"  ids:       {' '.join(map(str, chunk['ids']))}\n")
        return
    out.write(f"norm_text: {result['norm_text']}\n")
    out.write(f"phones:    {' '.join(result['phones'])}\n")
    out.write(f"ids:       {' '.join(map(str, result['ids']))}\n")
    if result.get("word2ph") is not None:
        out.write(f"word2ph:   {' '.join(map(str, result['word2ph']))}\n")
    for n, seg in enumerate(result.get("segments") or []):
        out.write(f"  [{n}] {seg['lang']}: {seg['text']!r} → {' '.join(seg['phones'])}\n")


def _fetch_data() -> int:
    from backend.text.data import data_dir, fetch_official_files, fetch_optional_files

    def progress(name: str, done: int, total: int | None) -> None:
        shown = f"{100 * done // total:3d}%" if total else f"{done / 1e6:.1f} MB"
        print(f"\r{name}: {shown}", end="" if total is None or done < total else "\n", file=sys.stderr)

    paths = fetch_official_files(progress=progress)
    here, problems = fetch_optional_files(progress=progress)
    for problem in problems:
        print(f"warning: {problem}", file=sys.stderr)
    print(f"{len(paths) + len(here)} data files here in {data_dir()}")
    return 0


def _command(_ws: Any, args: argparse.Namespace) -> int:
    if args.fetch_data:
        return _fetch_data()
    if args.batch is not None:
        if args.text:
            raise G2PInputError("give either TEXT or --batch, not both",
                                fix="drop TEXT or --batch")
        source: Path = args.batch
        if str(source) == "-":
            totals = run_batch(sys.stdin, sys.stdout)
        else:
            if not source.is_file():
                raise G2PInputError(f"batch file {source} not found",
                                    fix="pass a JSONL file: one {\"input\": …} object per line")
            with source.open(encoding="utf-8") as handle:
                totals = run_batch(handle, sys.stdout)
        total, expected, matched = totals
        summary = f"{total} lines"
        if expected:
            summary += f"; {matched}/{expected} match their expected fields"
        print(summary, file=sys.stderr)
        return 0 if matched == expected else 1
    if not args.text:
        raise G2PInputError("nothing to convert", fix="gsv g2p TEXT --lang zh (or --batch FILE)")
    from backend.text.cleaner import REQUIRE_G2PW

    pinyin = None if args.allow_pypinyin else REQUIRE_G2PW
    result = convert(args.text, args.lang, args.version, args.path, pinyin, method=args.cut)
    if args.allow_pypinyin and args.version != "v1":
        from backend.text.g2pw import installed_model

        if installed_model() is None:
            print("note: G2PW is not installed; v2 Chinese readings come from pypinyin "
                  "(--allow-pypinyin)", file=sys.stderr)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        _print_human(result, sys.stdout)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``gsv g2p`` to the top-level command parser."""
    parser = sub.add_parser("g2p", help="text → phones, ids, word2ph and normalised text")
    parser.add_argument("text", nargs="?", help="the text to convert")
    parser.add_argument("--lang", default="zh",
                        choices=LANGUAGE_CODES + OPTIONS_ONLY,
                        help="language code (zh en ja ko yue) or UI option (auto all_zh all_ko …)")
    parser.add_argument("--version", choices=VERSIONS, default="v2",
                        help="symbol set: v1 models or v2 (v2, v2Pro, v3, v4)")
    parser.add_argument("--path", choices=PATHS,
                        default=None, help="entry point (default: clean_text for a language "
                        "code, inference for auto/all_*; inference splits mixed text)")
    parser.add_argument("--cut", default="cut5", metavar="cut0…cut5",
                        help="text cutting method of --path preprocess (default cut5)")
    parser.add_argument("--json", action="store_true", help="one JSON object")
    parser.add_argument("--allow-pypinyin", action="store_true",
                        help="without the G2PW model, read v2 Chinese with pypinyin (differs from the "
                        "WebUI on polyphones) instead of refusing")
    parser.add_argument("--batch", type=Path, metavar="IN.jsonl",
                        help="convert every line of a JSONL file ('-' = stdin) to stdout")
    parser.add_argument("--fetch-data", action="store_true",
                        help="download the frontend's data files (pinned official commit, "
                        "checksummed) into the cache, then exit")
    parser.set_defaults(func=_command)
