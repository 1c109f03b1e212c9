"""The evaluation sentences: a built-in set per language, plus an optional file of the user's.

Written for this project: everyday sentences of varied length (a few words to two clauses),
with numbers, dates, times, money and the usual punctuation — the places where a voice model
skips, repeats or garbles words. A checkup speaks each one with a fixed seed, so two checkups
of the same exports hear the same thing. Sentences that appear in the project's own transcript
are left out (the model has heard those; they would flatter it).
"""

from __future__ import annotations

from pathlib import Path

from ..errors import GsvError

ZH: tuple[str, ...] = (
    "今天早上下了一场小雨。",
    "请把窗户关上，外面有点冷。",
    "我们明天上午九点在车站见面。",
    "这本书一共有320页，我已经看完了一半。",
    "你好！",
    "他说这件事情以后再讨论吧。",
    "图书馆每天晚上十点关门。",
    "我家楼下新开了一家面包店，味道还不错。",
    "这个月的电费是156块钱。",
    "小猫躲在沙发后面，不肯出来。",
    "会议改到下周三下午两点半。",
    "你能帮我查一下去机场的路吗？",
    "春天来了，公园里的花都开了。",
    "他跑完五公里只用了二十八分钟。",
    "对不起，我刚才没听清楚。",
    "这道题的答案是百分之七十五。",
    "奶奶今年已经八十三岁了，身体还很好。",
    "火车晚点了四十分钟，大家都在等。",
    "请在2024年6月1日之前交表。",
    "我更喜欢喝茶，不太喝咖啡。",
    "哥哥在一家小公司做软件工程师。",
    "这条河从西往东，流了很远很远。",
    "下雪的时候，路上的车开得特别慢。",
    "谢谢你的帮助，真的很感激。",
    "超市里的苹果三块五一斤。",
    "我们班有42个学生。",
    "周末你想去爬山还是去看电影？",
    "他把钥匙忘在办公室了。",
    "这首歌我听了很多遍，还是很喜欢。",
    "天气预报说明天最高气温十八度。",
    "如果有问题，随时给我打电话。",
    "妈妈做的红烧肉是全家人的最爱。",
    "好的，就这么定了。",
    "城市的夜晚很安静，只能听到远处的车声。",
)

EN: tuple[str, ...] = (
    "Good morning.",
    "Please close the window, it is getting cold.",
    "The train leaves at half past seven.",
    "We met three years ago at a small cafe near the river.",
    "Could you tell me where the library is?",
    "She bought 12 eggs and two loaves of bread.",
    "The meeting has been moved to Thursday afternoon.",
    "I think we should wait a little longer.",
    "Thank you so much for your help!",
    "The bridge is about 400 meters long.",
    "He finished the race in second place.",
    "It rained all night, and the streets were still wet in the morning.",
    "My sister works as a nurse in a large hospital.",
    "Turn left at the next corner, then go straight.",
    "The ticket costs 25 dollars.",
    "Nobody knew what had happened to the old house.",
    "Yes, that sounds like a good plan.",
    "The garden is full of roses in early summer.",
    "Our flight was delayed by 45 minutes.",
    "Please read the first chapter before Monday.",
    "The children laughed when the dog jumped into the pool.",
    "I have never seen so many stars in the sky.",
    "Can you call me back after lunch?",
    "The shop opens at nine and closes at six.",
    "She speaks three languages fluently.",
    "The river was calm, and a few boats drifted slowly past the town.",
    "Wait, I forgot my keys!",
    "About 30 percent of the tickets are already sold.",
    "He fixed the bicycle with an old screwdriver.",
    "Let us start again from the beginning.",
    "The soup needs a little more salt.",
    "My grandfather was born in 1952.",
    "No, I did not say that.",
    "The museum has a new exhibition about ancient ships.",
)

JA: tuple[str, ...] = (
    "おはようございます。",
    "窓を閉めてください、少し寒いです。",
    "明日の朝九時に駅で会いましょう。",
    "この本は全部で300ページあります。",
    "すみません、もう一度言ってください。",
    "昨日は一日中雨が降っていました。",
    "図書館は夜十時に閉まります。",
    "駅の近くに新しいパン屋ができました。",
    "今月の電気代は五千円でした。",
    "猫がソファの後ろに隠れています。",
    "会議は来週の水曜日に変わりました。",
    "空港までの道を教えてもらえますか？",
    "春になって、公園の桜が咲きました。",
    "彼は五キロを二十八分で走りました。",
    "ありがとうございます！",
    "祖母は今年八十三歳になりました。",
    "電車が40分遅れています。",
    "私はコーヒーよりお茶が好きです。",
    "兄は小さな会社でエンジニアをしています。",
    "雪の日は車がとてもゆっくり走ります。",
    "りんごを三つ買いました。",
    "私たちのクラスには四十二人の学生がいます。",
    "週末は山に登りますか、それとも映画を見ますか？",
    "鍵を事務所に忘れてしまいました。",
    "この歌は何度聞いても好きです。",
    "明日の最高気温は十八度の予報です。",
    "何かあれば、いつでも電話してください。",
    "母の作るカレーは家族みんなの大好物です。",
    "はい、それで決まりです。",
    "夜の町はとても静かで、遠くの車の音だけが聞こえます。",
    "川の向こうに小さな村が見えます。",
    "今日は2024年6月1日です。",
    "はい。",
    "駅前の本屋は日曜日も開いているので、帰りに新しい料理の本を一冊買うつもりです。",
)

BUILT_IN: dict[str, tuple[str, ...]] = {"zh": ZH, "en": EN, "ja": JA}


class EvaluationSetError(GsvError):
    """The evaluation sentences cannot be assembled."""


def read_user_file(path: Path) -> list[str]:
    """One sentence per line (UTF-8); blank lines and lines starting with ``#`` are skipped."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise EvaluationSetError(f"cannot read the sentence file {path}: {e}",
                                 "give a UTF-8 text file with one sentence per line") from e
    return [s.strip() for s in text.splitlines() if s.strip() and not s.lstrip().startswith("#")]


def evaluation_set(language: str, user_file: Path | None = None, exclude: set[str] | frozenset[str] = frozenset(),
                   limit: int | None = None) -> list[str]:
    """The sentences a checkup speaks: the built-in set of ``language`` (first ``limit`` of it),
    then the user's file, without any sentence of ``exclude`` (the project's transcript)."""
    own = list(BUILT_IN.get(language, ()))[:limit] if limit is not None else list(BUILT_IN.get(language, ()))
    extra = read_user_file(user_file) if user_file is not None else []
    seen = {s.strip() for s in exclude}
    out: list[str] = []
    for s in own + extra:
        if s not in seen:
            seen.add(s)
            out.append(s)
    if not out:
        raise EvaluationSetError(
            f"no evaluation sentences for language {language!r}"
            + (" (every one is in the project's transcript)" if own or extra else ""),
            f"pass --sentences FILE with sentences in {language} (one per line)")
    return out
