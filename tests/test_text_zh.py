"""Chinese frontend: documented examples, v1/v2 differences, stand-ins and bad input."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from text_records import frontend_data_or_skip  # noqa: E402

from backend.errors import GsvError
from backend.text.cleaner import (
    MAX_CHARS,
    TextFrontendError,
    clean_text,
    cleaned_text_to_sequence,
    name2text_line,
)
from backend.text.g2pw import (
    RecordedPinyinMissingError,
    pypinyin_sentence_pinyin,
    recorded_pinyin,
)
from backend.text.zh_g2p import ChineseG2PError, merge_erhua, split_segments
from backend.text.zh_normalize import normalize_zh
from backend.text.zh_numbers import read_cardinal, read_number
from backend.text.zh_polyphones import correct_pronunciation, polyphone_dictionary

frontend_data_or_skip()

FIXTURE = Path(__file__).parent / "fixtures" / "text" / "text_vectors.jsonl.gz"


@pytest.mark.parametrize(
    ("text", "norm", "phones", "ids"),
    [
        ("你好", "你好", "n i2 h ao3", [227, 167, 158, 119]),
        ("你好，世界！", "你好,世界!", "n i2 h ao3 , sh ir4 j ie4 !",
         [227, 167, 158, 119, 1, 251, 214, 221, 194, 0]),
        ("我有3个苹果。", "我有三个苹果.", "w o2 y ou3 s an1 g e5 p ing2 g uo3 .",
         [316, 231, 318, 242, 250, 107, 156, 134, 245, 202, 156, 292, 3]),
        ("价格￥100", "价格,幺零零", "j ia4 g e2 SP2 y ao1 l ing2 l ing2", None),
        ("你好^世界，再见。", "你好,世界,再见.",
         "n i2 h ao3 SP3 sh ir4 j ie4 SP3 z ai4 j ian4 .", None),
    ],
)
def test_documented_v1_examples(text: str, norm: str, phones: str, ids: list[int] | None) -> None:
    cleaned = clean_text(text, "zh", "v1")
    assert cleaned.norm_text == norm
    assert cleaned.phones == phones.split()
    assert len(cleaned.word2ph) == len(norm) and sum(cleaned.word2ph) == len(cleaned.phones)
    if ids is not None:
        assert cleaned_text_to_sequence(cleaned.phones, "v1") == ids
        assert cleaned_text_to_sequence(cleaned.phones, "v2") == ids


@pytest.mark.parametrize(
    ("text", "norm"),
    [
        ("你好-世界", "你好减世界"),
        ("12345", "幺二三四五"),
        ("2024年3月15日", "二零二四年三月十五日"),
        ("9:00-17:30", "九点至十七点三十分"),  # the official range quirk (no 半 on the second)
        ("零下-3°C", "零下零下三度"),
        ("我有2个", "我有两个"),
        ("10+个", "十多个"),
        ("3/4", "四分之三"),
        ("α粒子", "阿尔法粒子"),
        ("這是繁體", "这是繁体"),
        ("乾淨的後院", "乾净的后院"),  # the official table is per character: 乾 stays 乾
        ("真的吗？！太好了！！！", "真的吗?太好了!"),
        ("ＡＢＣ１２３", "幺二三"),
    ],
)
def test_normalisation_rules(text: str, norm: str) -> None:
    assert normalize_zh(text) == norm


def test_numbers() -> None:
    assert read_cardinal("1050") == "一千零五十"
    assert read_cardinal("10") == "十"
    assert read_cardinal("000") == "零"
    assert read_number("3.20") == "三点二零"  # official: one trailing zero survives
    assert read_number(".5") == "零点五"
    assert read_cardinal("100000000") == "一亿"


def test_v2_erhua_changes_tone_not_syllables() -> None:
    v1 = clean_text("我们去哪儿玩儿一会儿？", "zh", "v1")
    v2 = clean_text("我们去哪儿玩儿一会儿？", "zh", "v2")
    assert v1.word2ph == v2.word2ph  # 儿 stays its own syllable
    assert len(v1.phones) == len(v2.phones)
    initials, finals = merge_erhua(["n", ""], ["a3", "er2"], "哪儿", "r")
    assert finals == ["a3", "er3"]
    assert merge_erhua(["n", ""], ["v3", "er2"], "女儿", "n")[1] == ["v3", "er2"]
    assert merge_erhua(["h", ""], ["ua1", "er1"], "花儿", "n")[1] == ["ua1", "er2"]


def test_polyphone_dictionary_words_and_characters() -> None:
    table = polyphone_dictionary()
    assert len(table) == 45047
    word = next(k for k in table if len(k) >= 2)
    assert correct_pronunciation(word, ["x1"] * len(word)) == table[word]
    char = next(k for k in table if len(k) == 1)
    assert correct_pronunciation(char + "好", ["x1", "hao3"])[0] == table[char][0]


def _standin_records() -> list[dict]:
    with gzip.open(FIXTURE, "rt", encoding="utf-8") as handle:
        records = [json.loads(line) for line in handle]
    return [r for r in records if r.get("g2pw") == "pypinyin_standin"]


def test_live_pypinyin_standin_equals_the_recorded_readings() -> None:
    for record in _standin_records():
        for call in record["g2pw_standin_pinyin"]:
            assert pypinyin_sentence_pinyin(call["sentences"]) == call["pinyin"], record["input"]


def test_v2_with_a_polyphone_model_uses_its_readings() -> None:
    record = _standin_records()[0]
    replay = recorded_pinyin(record["g2pw_standin_pinyin"])
    with_model = clean_text(record["input"], "zh", "v2", sentence_pinyin=replay)
    live = clean_text(record["input"], "zh", "v2", sentence_pinyin=pypinyin_sentence_pinyin)
    assert with_model == live == (record["phones"], record["word2ph"], record["norm_text"])
    with pytest.raises(RecordedPinyinMissingError):
        clean_text("完全不同的句子。", "zh", "v2", sentence_pinyin=replay)


def test_segments_end_after_marks() -> None:
    assert split_segments("你好,世界!再见") == ["你好,", "世界!", "再见"]


@pytest.mark.parametrize(
    "text", ["", "   ", "Привет мир", "😀😀", "〇", "\x00\x1b\x07"],
)
def test_text_without_chinese_gives_an_empty_result(text: str) -> None:
    for version in ("v1", "v2"):
        assert clean_text(text, "zh", version) == ([], [], "")


def test_only_punctuation_and_control_characters() -> None:
    assert clean_text("。。。！", "zh", "v2") == (["."], [1], ".")
    assert clean_text("\x00你\x1b好\t\n", "zh", "v2").norm_text == "你好"


def test_long_input_is_handled_or_refused_clearly() -> None:
    long_text = "今天天气很好，我们去公园散步。" * 200
    cleaned = clean_text(long_text, "zh", "v2")
    assert sum(cleaned.word2ph) == len(cleaned.phones) > 5000
    with pytest.raises(TextFrontendError) as caught:
        clean_text("好" * (MAX_CHARS + 1), "zh", "v2")
    assert caught.value.fix


def test_readings_without_phones_raise_a_named_error() -> None:
    with pytest.raises(ChineseG2PError) as caught:
        clean_text("噷", "zh", "v2")
    assert isinstance(caught.value, GsvError) and caught.value.fix


def test_language_codes() -> None:
    assert clean_text("안녕하세요", "ko", "v1").phones == [","]  # official: unknown → en " "
    assert clean_text("안녕", "ko", "v2").phones[:3] == ["ㅇ", "ㅏ", "ㄴ"]  # v2 reads Korean
    with pytest.raises(GsvError):
        clean_text("你好", "zh", "v3")


def test_dataset_line() -> None:
    line = name2text_line("a.wav", "增长率3.5%", "zh", "v1")
    assert line == "a.wav\tz eng1 zh ang3 l v4 s an1 d ian3 w u2 j ian3\t" \
                   "[2, 2, 2, 2, 2, 2, 2]\t增长率三点五减"


def test_a_failure_inside_the_pipeline_becomes_a_named_error() -> None:
    def failing_model(segments: list[str]) -> list[list[str]]:
        raise RuntimeError("model crashed")

    with pytest.raises(TextFrontendError) as caught:
        clean_text("你好", "zh", "v2", sentence_pinyin=failing_model)
    assert "model crashed" in caught.value.message and caught.value.fix
    with pytest.raises(TextFrontendError):
        clean_text(b"\xe4\xbd\xa0", "zh", "v2")  # type: ignore[arg-type]


def test_polyphone_lines_are_parsed_as_data() -> None:
    from backend.text.zh_polyphones import PolyphoneDataError, _parse

    table: dict[str, list[str]] = {}
    _parse("银行: ['yin2', 'hang2']\n行: [\"xing2\"]\n\n", "x.rep", table)
    assert table == {"银行": ["yin2", "hang2"], "行": ["xing2"]}
    for bad in ("行 ['xing2']", "行: __import__('os')", "行: [1, 2]"):
        with pytest.raises(PolyphoneDataError):
            _parse(bad, "x.rep", {})


# Rules the reference records do not exercise; the expected texts follow the official rule
# order (arithmetic before phone numbers, 二 → 两 before measure words, Latin dropped last).
@pytest.mark.parametrize(
    ("text", "norm"),
    [
        ("拨打13812345678", "拨打幺三八幺二三四五六七八"),
        ("电话010-12345678", "电话零幺零减幺二三四五六七八"),
        ("下降了-5%", "下降了负百分之五"),
        ("-3/4", "负四分之三"),
        ("x²+y²", "的二次方加的二次方"),
        ("面积30m²", "面积三十平方米"),
        ("3cm~5cm", "三厘米至五厘米"),
        ("2023.12.31", "二零二三年十二月三十一日"),
        ("12:30:45", "十二点半四十五秒"),
        ("Δ和Ω", "德尔塔和欧米伽"),
        ("100km/h", "一百千米每"),
        ("第2名", "第两名"),
        ("3000元", "三千元"),
    ],
)
def test_rules_beyond_the_records(text: str, norm: str) -> None:
    assert normalize_zh(text) == norm


def test_simplification_table_is_complete_and_per_character() -> None:
    table = json.loads(Path(__file__).parents[1].joinpath(
        "backend", "text", "zh_trad2simp.json").read_text(encoding="utf-8"))
    assert len(table["traditional"]) == len(table["simplified"]) == 2706
    assert len(set(table["traditional"])) == 2706
    assert table["source_sha256"] == \
        "84341ec93b420a28467ccfee223d23e262f7ee0a4da00402f662c656b119e190"
