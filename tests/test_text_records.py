"""Every official reference record of the text frontend, reproduced by our code.

Records come from the official GPT-SoVITS frontend (tests/fixtures/text/README.md). Per
record: same phones, ids, word2ph and normalised text. Where the official record depends on
something we cannot run here, the test says which part it checks:
- v2 Chinese ``pypinyin_standin`` records replay the recorded per-character readings in
  place of the G2PW model (everything after the model is ours and checked);
- ``inference``/``preprocess`` records check every recorded language item through
  ``clean_text`` (the language splitting and cutting that produced the items are tested
  with their own modules);
- a language whose frontend module is absent skips with that reason.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
from pathlib import Path

import pytest
from text_records import frontend_data_or_skip  # noqa: E402

from backend.text.cleaner import clean_text, cleaned_text_to_sequence, name2text_line
from backend.text.g2pw import recorded_pinyin

frontend_data_or_skip()

FIXTURE = Path(__file__).parent / "fixtures" / "text" / "text_vectors.jsonl.gz"
_MODULE_OF = {"en": "english", "ja": "japanese"}


def _records() -> list[dict]:
    with gzip.open(FIXTURE, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


RECORDS = _records()


def _skip_if_unavailable(language: str) -> None:
    module = _MODULE_OF.get(language)
    if module and importlib.util.find_spec(f"backend.text.{module}") is None:
        pytest.skip(f"backend/text/{module}.py is not in this tree yet")


def _check(got, want: dict, version: str, label: str) -> None:
    assert got.norm_text == want["norm_text"], f"{label}: norm_text"
    assert got.phones == want["phones"], f"{label}: phones"
    assert got.word2ph == want["word2ph"], f"{label}: word2ph"
    assert cleaned_text_to_sequence(got.phones, version) == want["ids"], f"{label}: ids"


def _by_path(path: str) -> list[dict]:
    return [r for r in RECORDS if r["path"] == path]


def test_fixture_holds_every_record() -> None:
    assert len(RECORDS) == 1850
    assert all(r["error"] is None for r in RECORDS)


@pytest.mark.parametrize("record", _by_path("clean_text"), ids=lambda r: r["record_id"])
def test_clean_text_record(record: dict) -> None:
    language, version = record["language"], record["version"]
    _skip_if_unavailable(language)
    pinyin = None
    if record.get("g2pw") == "pypinyin_standin":
        pinyin = recorded_pinyin(record["g2pw_standin_pinyin"])
    got = clean_text(record["input"], language, version, sentence_pinyin=pinyin)
    _check(got, record, version, record["record_id"])


@pytest.mark.parametrize("record", _by_path("dataset_1_get_text"), ids=lambda r: r["record_id"])
def test_dataset_step_record(record: dict) -> None:
    _skip_if_unavailable(record["language"])
    name = f"{record['sentence_id']}.wav"
    line = name2text_line(name, record["input"], record["language"], record["version"])
    assert line == record["name2text_line"]


def _items(record: dict) -> list[dict]:
    if record["path"] == "inference":
        return record["segments"]
    return [seg for chunk in record["chunks"] for seg in chunk["segments"]]


@pytest.mark.parametrize("record", _by_path("inference") + _by_path("preprocess"),
                         ids=lambda r: r["record_id"])
def test_language_items_of_record(record: dict) -> None:
    version = record["version"]
    items = _items(record)
    for language in {item["lang"] for item in items}:
        _skip_if_unavailable(language)
    for n, item in enumerate(items):
        got = clean_text(item["text"], item["lang"], version)
        _check(got, item, version, f"{record['record_id']} item {n} ({item['lang']})")


def _need(module: str, attribute: str):  # noqa: ANN202 - returns a function
    if importlib.util.find_spec(f"backend.text.{module}") is None:
        pytest.skip(f"backend/text/{module}.py is not in this tree yet")
    return getattr(importlib.import_module(f"backend.text.{module}"), attribute)


def _segments_of(result) -> list[dict]:  # noqa: ANN001
    return [{"lang": s.lang, "text": s.text, "ids": s.ids, "phones": s.phones,
             "word2ph": s.word2ph, "norm_text": s.norm_text} for s in result.segments]


@pytest.mark.parametrize("record", _by_path("inference"), ids=lambda r: r["record_id"])
def test_inference_record_end_to_end(record: dict) -> None:
    """Language splitting + every item cleaned + the dot retry, as the official inference."""
    phones_for_option = _need("langsplit", "phones_for_option")
    for language in {item["lang"] for item in record["segments"]}:
        _skip_if_unavailable(language)
    result = phones_for_option(record["input"], record["language"], record["version"])
    assert _segments_of(result) == record["segments"]
    assert result.retried_with_dot == record["retried_with_dot"]
    assert (result.phones, result.ids, result.norm_text) == \
        (record["phones"], record["ids"], record["norm_text"])


@pytest.mark.parametrize("record", _by_path("preprocess"), ids=lambda r: r["record_id"])
def test_preprocess_record_end_to_end(record: dict) -> None:
    """The api's target-text cutting, then phones per chunk."""
    split_for_inference = _need("cutting", "split_for_inference")
    prepare_chunks = _need("cutting", "prepare_chunks")
    args = (record["input"], record["language"], record["text_split_method"])
    assert split_for_inference(*args) == record["pre_seg_text"]
    chunks = prepare_chunks(*args, version=record["version"])
    assert [c.norm_text for c in chunks] == record["kept_norm_texts"]
    kept = [c for c in record["chunks"] if c["norm_text"]]
    assert [(c.text, c.phones, c.ids) for c in chunks] == \
        [(c["text"], c["phones"], c["ids"]) for c in kept]
