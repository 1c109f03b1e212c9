"""Every official reference record of the text frontend, reproduced by our code.

Records come from the official GPT-SoVITS frontend (tests/fixtures/text/README.md). Per
record: same phones, ids, word2ph and normalised text. Where the official record depends on
something we cannot run here, the test says which part it checks:
- v2 Chinese ``pypinyin_standin`` records replay the recorded per-character readings in
  place of the G2PW model (everything after the model is ours and checked);
- ``inference``/``preprocess`` records check every recorded language item through
  ``clean_text`` (the language splitting and cutting that produced the items are tested
  with their own modules).
"""

from __future__ import annotations

import pytest
from text_records import (
    check_cleaned,
    check_dataset_record,
    check_inference_record,
    check_preprocess_record,
    frontend_data_or_skip,
    load_records,
    record_id,
)

from backend.text.cleaner import clean_text
from backend.text.g2pw import recorded_pinyin

frontend_data_or_skip()

RECORDS = load_records("text/text_vectors.jsonl.gz")


def _by_path(path: str) -> list[dict]:
    return [r for r in RECORDS if r["path"] == path]


def test_fixture_holds_every_record() -> None:
    assert len(RECORDS) == 1850
    assert all(r["error"] is None for r in RECORDS)


@pytest.mark.parametrize("record", _by_path("clean_text"), ids=record_id)
def test_clean_text_record(record: dict) -> None:
    pinyin = None
    if record.get("g2pw") == "pypinyin_standin":
        pinyin = recorded_pinyin(record["g2pw_standin_pinyin"])
    got = clean_text(record["input"], record["language"], record["version"], sentence_pinyin=pinyin)
    check_cleaned(got, record, record["version"], record["record_id"])


@pytest.mark.parametrize("record", _by_path("dataset_1_get_text"), ids=record_id)
def test_dataset_step_record(record: dict) -> None:
    check_dataset_record(record)


def _items(record: dict) -> list[dict]:
    if record["path"] == "inference":
        return record["segments"]
    return [seg for chunk in record["chunks"] for seg in chunk["segments"]]


@pytest.mark.parametrize("record", _by_path("inference") + _by_path("preprocess"), ids=record_id)
def test_language_items_of_record(record: dict) -> None:
    for n, item in enumerate(_items(record)):
        got = clean_text(item["text"], item["lang"], record["version"])
        check_cleaned(got, item, record["version"], f"{record['record_id']} item {n} ({item['lang']})")


@pytest.mark.parametrize("record", _by_path("inference"), ids=record_id)
def test_inference_record_end_to_end(record: dict) -> None:
    check_inference_record(record)


@pytest.mark.parametrize("record", _by_path("preprocess"), ids=record_id)
def test_preprocess_record_end_to_end(record: dict) -> None:
    check_preprocess_record(record)
