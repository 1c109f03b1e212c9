"""Chinese text normalisation: numbers, dates, units and marks spelled out as Han text.

The models were trained on the official normaliser's output, so its quirks are kept on
purpose (every hyphen left over reads 减, 3+ digit integers are read digit by digit with 幺,
``s`` and ``m`` are replaced as units even inside Latin words). The rules are applied in the
official order; changing the order changes the output.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

from backend.text.symbols import PUNCTUATION
from backend.text.zh_numbers import read_cardinal, read_digits, read_number

# ---------------------------------------------------------------- sentence split

_SENTENCE_END = re.compile(r"([：、，；。？！,;?!][”’]?)")
_DROP_BEFORE = re.compile(r"[—《》【】<>{}()（）#&@“”^_|\\]")
_DROP_AFTER = re.compile(r"[-—《》【】<=>{}()（）#&@“”^_|\\]")


def split_sentences(text: str) -> list[str]:
    """Spaces and bracket-like marks removed, then a break after each sentence mark."""
    text = _DROP_BEFORE.sub("", text.replace(" ", ""))
    text = _SENTENCE_END.sub("\\1\n", text).strip()
    return [part.strip() for part in re.split(r"\n+", text)]


# ---------------------------------------------------------------- character conversions

_FULL_TO_HALF = {code + 0xFEE0: code for code in range(0x21, 0x7F) if chr(code).isalnum()}
_FULL_TO_HALF[0x3000] = 0x20


_TRAD2SIMP_FILE = Path(__file__).with_name("zh_trad2simp.json")


@lru_cache(maxsize=1)
def _simplification_table() -> dict[int, str]:
    table = json.loads(_TRAD2SIMP_FILE.read_text(encoding="utf-8"))
    pairs = zip(table["traditional"], table["simplified"], strict=True)
    return {ord(trad): simple for trad, simple in pairs}


def to_simplified(text: str) -> str:
    """Traditional → simplified with the official character table (one character each,
    so the length never changes; no phrase context, e.g. 乾 stays 乾 as in the official)."""
    return text.translate(_simplification_table())


# ---------------------------------------------------------------- dates and times

_DATE = re.compile(
    r"(\d{4}|\d{2})年((0?[1-9]|1[0-2])月)?(((0?[1-9])|((1|2)[0-9])|30|31)([日号]))?"
)
_DATE_NUMERIC = re.compile(r"(\d{4})([- /.])(0[1-9]|1[012])\2(0[1-9]|[12][0-9]|3[01])")
_CLOCK = r"([0-1]?[0-9]|2[0-3]):([0-5][0-9])(:([0-5][0-9]))?"
_TIME = re.compile(_CLOCK)
_TIME_RANGE = re.compile(_CLOCK + r"(~|-)" + _CLOCK)


def _date(match: re.Match[str]) -> str:
    out = read_digits(match.group(1)) + "年"
    if match.group(3):
        out += read_cardinal(match.group(3)) + "月"
    if match.group(5):
        out += read_cardinal(match.group(5)) + match.group(9)
    return out


def _date_numeric(match: re.Match[str]) -> str:
    return (read_digits(match.group(1)) + "年" + read_cardinal(match.group(3)) + "月"
            + read_cardinal(match.group(4)) + "日")


def _clock_part(digits: str) -> str:
    spoken = read_number(digits.lstrip("0"))
    return ("零" + spoken) if digits.startswith("0") else spoken


def _clock(hour: str, minute: str, second: str | None, half_if: str) -> str:
    out = read_number(hour) + "点"
    if minute.lstrip("0"):
        # Official quirk: the second clock of a range says 半 when the FIRST minute is 30.
        out += "半" if int(half_if) == 30 else _clock_part(minute) + "分"
    if second and second.lstrip("0"):
        out += _clock_part(second) + "秒"
    return out


def _time(match: re.Match[str]) -> str:
    out = _clock(match.group(1), match.group(2), match.group(4), match.group(2))
    if match.re is _TIME_RANGE:
        out += "至" + _clock(match.group(6), match.group(7), match.group(9), match.group(2))
    return out


# ---------------------------------------------------------------- quantities

_UNIT_WORDS = (
    ("cm2", "平方厘米"), ("cm²", "平方厘米"), ("cm3", "立方厘米"), ("cm³", "立方厘米"),
    ("cm", "厘米"), ("db", "分贝"), ("ds", "毫秒"), ("kg", "千克"), ("km", "千米"),
    ("m2", "平方米"), ("m²", "平方米"), ("m³", "立方米"), ("m3", "立方米"), ("ml", "毫升"),
    ("m", "米"), ("mm", "毫米"), ("s", "秒"),
)
_UNITS_ALT = "%|°C|℃|度|摄氏度|cm2|cm²|cm3|cm³|cm|db|ds|kg|km|m2|m²|m³|m3|ml|m|mm|s"
_NUM = r"((-?)((\d+)(\.\d+)?)|(\.(\d+)))"
_TO_RANGE = re.compile(_NUM + f"({_UNITS_ALT})[~]" + _NUM + f"({_UNITS_ALT})")
_TEMPERATURE = re.compile(r"(-?)(\d+(\.\d+)?)(°C|℃|度|摄氏度)")


def _temperature(match: re.Match[str]) -> str:
    sign = "零下" if match.group(1) else ""
    return f"{sign}{read_number(match.group(2))}度"


def _units(sentence: str) -> str:
    for short, word in _UNIT_WORDS:
        sentence = sentence.replace(short, word)
    return sentence


# ---------------------------------------------------------------- arithmetic

_POWER_CHARS = "⁰¹²³⁴⁵⁶⁷⁸⁹ˣʸⁿ"
_POWER_PLAIN = dict(zip(_POWER_CHARS, "0123456789xyn", strict=True))
_OPERAND = (rf"((-?)((\d+)(\.\d+)?[{_POWER_CHARS}]*)|(\.\d+[{_POWER_CHARS}]*)"
            rf"|([A-Za-z][{_POWER_CHARS}]*))")
_ARITHMETIC = re.compile(_OPERAND + r"([\+\-\×÷=])" + _OPERAND)
_OPERATOR_WORDS = {"+": "加", "-": "减", "×": "乘", "÷": "除", "=": "等于"}
_POWER = re.compile(f"[{_POWER_CHARS}]+")


def _arithmetic(match: re.Match[str]) -> str:
    return match.group(1) + _OPERATOR_WORDS[match.group(8)] + match.group(9)


def _power(match: re.Match[str]) -> str:
    return "的" + "".join(_POWER_PLAIN[c] for c in match.group(0)) + "次方"


# ---------------------------------------------------------------- numbers

_FRACTION = re.compile(r"(-?)(\d+)/(\d+)")
_PERCENT = re.compile(r"(-?)(\d+(\.\d+)?)%")
_MOBILE = re.compile(r"(?<!\d)((\+?86 ?)?1([38]\d|5[0-35-9]|7[678]|9[89])\d{8})(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)((0(10|2[1-3]|[3-9]\d{2})-?)?[1-9]\d{6,7})(?!\d)")
_SERVICE_NUMBER = re.compile(r"(400)(-)?\d{3}(-)?\d{4}")
_RANGE = re.compile(
    r"(?<![\d\+\-\×÷=])((-?)((\d+)(\.\d+)?))[-~]((-?)((\d+)(\.\d+)?))(?![\d\+\-\×÷=])"
)
_NEGATIVE = re.compile(r"(-)(\d+)")
_VERSION = re.compile(r"((\d+)(\.\d+)(\.\d+)?(\.\d+)+)")
_DECIMAL = re.compile(r"(-?)((\d+)(\.\d+))|(\.(\d+))")
_MEASURE_WORDS = (
    "(处|台|架|枚|趟|幅|平|方|堵|间|床|株|批|项|例|列|篇|栋|注|亩|封|艘|把|目|套|段|人|所|朵|匹|张|座|回|场|尾|条|个|首|"
    "阙|阵|网|炮|顶|丘|棵|只|支|袭|辆|挑|担|颗|壳|窠|曲|墙|群|腔|砣|座|客|贯|扎|捆|刀|令|打|手|罗|坡|山|岭|江|溪|钟|队|"
    "单|双|对|出|口|头|脚|板|跳|枝|件|贴|针|线|管|名|位|身|堂|课|本|页|家|户|层|丝|毫|厘|分|钱|两|斤|担|铢|石|钧|锱|忽|"
    "(千|毫|微)克|毫|厘|(公)分|分|寸|尺|丈|里|寻|常|铺|程|(千|分|厘|毫|微)米|米|撮|勺|合|升|斗|石|盘|碗|碟|叠|桶|笼|盆|"
    "盒|杯|钟|斛|锅|簋|篮|盘|桶|罐|瓶|壶|卮|盏|箩|箱|煲|啖|袋|钵|年|月|日|季|刻|时|周|天|秒|分|小时|旬|纪|岁|世|更|夜|"
    "春|夏|秋|冬|代|伏|辈|丸|泡|粒|颗|幢|堆|条|根|支|道|面|片|张|颗|块|元|(亿|千万|百万|万|千|百)|(亿|千万|百万|万|千|"
    "百|美|)元|(亿|千万|百万|万|千|百|十|)吨|(亿|千万|百万|万|千|百|)块|角|毛|分)"
)
_COUNTED = re.compile(r"(\d+)([多余几\+])?" + _MEASURE_WORDS)
_LONG_INTEGER = re.compile(r"\d{3}\d*")
_ANY_NUMBER = re.compile(r"(-?)((\d+)(\.\d+)?)|(\.(\d+))")


def _fraction(match: re.Match[str]) -> str:
    sign = "负" if match.group(1) else ""
    return f"{sign}{read_number(match.group(3))}分之{read_number(match.group(2))}"


def _percent(match: re.Match[str]) -> str:
    sign = "负" if match.group(1) else ""
    return f"{sign}百分之{read_number(match.group(2))}"


def _phone_digits(text: str, separator: str | None) -> str:
    parts = text.strip("+").split() if separator is None else text.split(separator)
    return "，".join(read_digits(part, yao_for_one=True) for part in parts)


def _any_number(match: re.Match[str]) -> str:
    if match.group(5):
        return read_number(match.group(5))
    sign = "负" if match.group(1) else ""
    return sign + read_number(match.group(2))


def _range(match: re.Match[str]) -> str:
    first = _ANY_NUMBER.sub(_any_number, match.group(1))
    second = _ANY_NUMBER.sub(_any_number, match.group(6))
    return f"{first}到{second}"


def _version(match: re.Match[str]) -> str:
    return "".join("点" if c == "." else read_number(c) for c in match.group(1))


def _counted(match: re.Match[str]) -> str:
    number = read_number(match.group(1))
    number = "两" if number == "二" else number
    extra = match.group(2) or ""
    extra = "多" if extra == "+" else extra
    return f"{number}{extra}{match.group(3)}"


# ---------------------------------------------------------------- after numbers

_LETTER_WORDS = (
    ("α", "阿尔法"), ("β", "贝塔"), ("γ", "伽玛"), ("Γ", "伽玛"), ("δ", "德尔塔"), ("Δ", "德尔塔"),
    ("ε", "艾普西龙"), ("ζ", "捷塔"), ("η", "依塔"), ("θ", "西塔"), ("Θ", "西塔"), ("ι", "艾欧塔"),
    ("κ", "喀帕"), ("λ", "拉姆达"), ("Λ", "拉姆达"), ("μ", "缪"), ("ν", "拗"), ("ξ", "克西"),
    ("Ξ", "克西"), ("ο", "欧米克伦"), ("π", "派"), ("Π", "派"), ("ρ", "肉"), ("ς", "西格玛"),
    ("Σ", "西格玛"), ("σ", "西格玛"), ("τ", "套"), ("υ", "宇普西龙"), ("φ", "服艾"), ("Φ", "服艾"),
    ("χ", "器"), ("ψ", "普赛"), ("Ψ", "普赛"), ("ω", "欧米伽"), ("Ω", "欧米伽"),
)
_CIRCLED = dict(zip("①②③④⑤⑥⑦⑧⑨⑩", "一二三四五六七八九十", strict=True))
_SYMBOL_WORDS = {"+": "加", "-": "减", "×": "乘", "÷": "除", "=": "等"}


def _after_numbers(sentence: str) -> str:
    sentence = sentence.replace("/", "每")
    sentence = "".join(_CIRCLED.get(c, c) for c in sentence)
    for letter, word in _LETTER_WORDS:
        sentence = sentence.replace(letter, word)
    sentence = "".join(_SYMBOL_WORDS.get(c, c) for c in sentence)
    return _DROP_AFTER.sub("", sentence)


def normalize_sentence(sentence: str) -> str:
    """One sentence through every rule, in the official order."""
    sentence = to_simplified(sentence).translate(_FULL_TO_HALF)
    sentence = _DATE.sub(_date, sentence)
    sentence = _DATE_NUMERIC.sub(_date_numeric, sentence)
    sentence = _TIME_RANGE.sub(_time, sentence)
    sentence = _TIME.sub(_time, sentence)
    sentence = _TO_RANGE.sub(lambda m: m.group(0).replace("~", "至"), sentence)
    sentence = _TEMPERATURE.sub(_temperature, sentence)
    sentence = _units(sentence)
    while _ARITHMETIC.search(sentence):
        sentence = _ARITHMETIC.sub(_arithmetic, sentence)
    sentence = _POWER.sub(_power, sentence)
    sentence = _FRACTION.sub(_fraction, sentence)
    sentence = _PERCENT.sub(_percent, sentence)
    sentence = _MOBILE.sub(lambda m: _phone_digits(m.group(0), None), sentence)
    sentence = _LANDLINE.sub(lambda m: _phone_digits(m.group(0), "-"), sentence)
    sentence = _SERVICE_NUMBER.sub(lambda m: _phone_digits(m.group(0), "-"), sentence)
    sentence = _RANGE.sub(_range, sentence)
    sentence = _NEGATIVE.sub(lambda m: "负" + read_number(m.group(2)), sentence)
    sentence = _VERSION.sub(_version, sentence)
    sentence = _DECIMAL.sub(_any_number, sentence)
    sentence = _COUNTED.sub(_counted, sentence)
    sentence = _LONG_INTEGER.sub(lambda m: read_digits(m.group(0), yao_for_one=True), sentence)
    sentence = _ANY_NUMBER.sub(_any_number, sentence)
    return _after_numbers(sentence)


# ---------------------------------------------------------------- marks and final text

_MARK_MAP = {
    "：": ",", "；": ",", "，": ",", "。": ".", "！": "!", "？": "?", "\n": ".", "·": ",",
    "、": ",", "...": "…", "$": ".", "/": ",", "—": "-", "~": "…", "～": "…",
}
_MARK_PATTERN = re.compile("|".join(re.escape(k) for k in _MARK_MAP))
_MARKS_CLASS = "".join(re.escape(p) for p in PUNCTUATION)
_NOT_HAN_OR_MARK = re.compile(r"[^\u4e00-\u9fa5" + "".join(PUNCTUATION) + r"]+")
_NOT_HAN_LATIN_OR_MARK = re.compile(r"[^\u4e00-\u9fa5A-Za-z" + "".join(PUNCTUATION) + r"]+")
_REPEATED_MARKS = re.compile(f"([{_MARKS_CLASS}])([{_MARKS_CLASS}])+")


def map_marks(sentence: str, keep_latin: bool = False) -> str:
    """Chinese marks → the six model marks; everything but Han text and marks dropped."""
    sentence = sentence.replace("嗯", "恩").replace("呣", "母")
    sentence = _MARK_PATTERN.sub(lambda m: _MARK_MAP[m.group(0)], sentence)
    pattern = _NOT_HAN_LATIN_OR_MARK if keep_latin else _NOT_HAN_OR_MARK
    return pattern.sub("", sentence)


def collapse_marks(text: str) -> str:
    """A run of marks keeps only its first mark."""
    return _REPEATED_MARKS.sub(r"\1", text)


def normalize_zh(text: str) -> str:
    """Raw Chinese text → the normalised text the g2p reads (Han characters and six marks)."""
    sentences = [normalize_sentence(s) for s in split_sentences(text)]
    return collapse_marks("".join(map_marks(s) for s in sentences))
