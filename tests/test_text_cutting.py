"""Text cutting (cut0 … cut5) and the api's target-text preparation against the official
``preprocess`` records (v2), plus the rules on hand-made examples."""

from __future__ import annotations

import pytest
from text_records import frontend_data_or_skip, load_records, record_id

RECORDS = load_records("text_cutting/preprocess.jsonl.gz")


@pytest.fixture(autouse=True)
def _lite_detector() -> None:
    from backend.text.langsplit import _lite_model, use_langid_model

    use_langid_model(_lite_model())


@pytest.mark.parametrize("record", RECORDS, ids=record_id)
def test_chunks_match_the_official_pre_segmentation(record: dict) -> None:
    from backend.text.cutting import split_for_inference

    chunks = split_for_inference(record["input"], record["language"], record["text_split_method"])
    assert chunks == record["pre_seg_text"]


@pytest.mark.parametrize("record", RECORDS, ids=record_id)
def test_chunk_phones_match_and_empty_chunks_are_dropped(record: dict) -> None:
    frontend_data_or_skip()
    from backend.text.cutting import prepare_chunks

    chunks = prepare_chunks(record["input"], record["language"], record["text_split_method"], "v2")
    expected = [c for c in record["chunks"] if c["norm_text"]]
    assert [(c.text, c.phones, c.ids, c.norm_text) for c in chunks] == [
        (c["text"], c["phones"], c["ids"], c["norm_text"]) for c in expected
    ]
    assert [c.norm_text for c in chunks] == record["kept_norm_texts"]


NINE = "一。二。三。四。五。六。七。八。九。"


@pytest.mark.parametrize(
    ("method", "text", "expected"),
    [
        ("cut0", "你好，世界。", ["你好，世界。"]),
        ("cut0", "...", []),
        ("cut0", "!? ", []),
        ("cut1", NINE, ["一。二。三。四。", "五。六。七。八。九。"]),  # last group absorbs the rest
        ("cut1", "a.b.c.d.e.", ["a.b.c.d.e."]),
        ("cut1", "你好，世界", ["你好，世界"]),  # ≤ 4 sentences: the text unchanged
        ("cut1", "等等……好的——走吧", ["等等……好的——走吧"]),
        ("cut2", ("甲" * 29 + "，") * 4, [("甲" * 29 + "，") * 2] * 2),
        ("cut2", ("甲" * 29 + "，") * 3, [("甲" * 29 + "，") * 3]),  # short tail merged back
        ("cut2", "只有一句", ["只有一句"]),
        ("cut3", "第一句。第二句。", ["第一句", "第二句"]),
        ("cut3", "。。", []),
        ("cut4", "It costs 3.5 dollars. Buy it.", ["It costs 3.5 dollars", " Buy it"]),
        ("cut5", "价格是3.5元，好吗？是的", ["价格是3.5元，", "好吗？", "是的"]),
        ("cut5", "a;b：c…d、e", ["a;", "b：", "c…", "d、", "e"]),
        ("cut5", "，。！", []),
        ("cut5", "第一行\n第二行。", ["第一行", "第二行。"]),
    ],
)
def test_cut_methods(method: str, text: str, expected: list[str]) -> None:
    from backend.text.cutting import cut

    assert cut(text, method) == expected


def test_unknown_method_is_a_named_error() -> None:
    from backend.text.cutting import UnknownCutMethodError, cut, split_for_inference

    with pytest.raises(UnknownCutMethodError):
        cut("text", "cut9")
    with pytest.raises(UnknownCutMethodError):
        split_for_inference("text", "zh", "auto_cut")


@pytest.mark.parametrize(
    ("text", "lang", "method", "expected"),
    [
        ("好的", "zh", "cut0", ["。好的。"]),  # short first sentence gets a leading stop
        ("Hi", "en", "cut0", [".Hi."]),
        ("好。行。可以的。", "zh", "cut5", ["好。行。可以的。"]),  # pieces < 5 chars glued
        ("你好！！！世界？？", "zh", "cut0", ["。你好！！！世界？？"]),  # only ASCII marks collapse
        ("你好!!!世界??", "zh", "cut0", ["。你好!世界?"]),
        ("\n\n", "zh", "cut1", []),
        ("", "auto", "cut5", []),
    ],
)
def test_api_preparation(text: str, lang: str, method: str, expected: list[str]) -> None:
    from backend.text.cutting import split_for_inference

    assert split_for_inference(text, lang, method) == expected


@pytest.mark.parametrize("text", ["!!!", "。", " ", "……"])
def test_nothing_readable_is_a_named_error(text: str) -> None:
    from backend.text.cutting import NoTextError, split_for_inference

    with pytest.raises(NoTextError):
        split_for_inference(text, "zh", "cut5")


def test_pieces_over_510_characters_are_split_at_marks() -> None:
    from backend.text.cutting import split_for_inference

    text = "这是一个句子，" * 100  # 700 characters, no full stop
    chunks = split_for_inference(text, "zh", "cut0")
    assert [len(c) for c in chunks] == [510, 190]
    assert "".join(chunks) == text


def test_a_long_run_without_marks_stays_whole() -> None:
    from backend.text.cutting import split_for_inference

    chunks = split_for_inference("字" * 600 + "。", "zh", "cut0")
    assert chunks == ["字" * 600, "。"]


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        ("今天天气不错", "zh", "今天天气不错。"),
        ("Nice weather today", "en", "Nice weather today."),
        ("\n好的！\n", "all_zh", "好的！"),
        ("Wait~", "en", "Wait~"),
        ("", "zh", None),
        ("\n \n", "zh", None),
        (None, "zh", None),
    ],
)
def test_prompt_text_gets_a_final_mark(text, lang: str, expected) -> None:
    from backend.text.cutting import prompt_text_for_inference

    assert prompt_text_for_inference(text, lang) == expected
