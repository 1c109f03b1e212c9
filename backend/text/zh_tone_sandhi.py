"""Mandarin tone sandhi as the official frontend applies it (after PaddleSpeech's rules).

Sandhi changes the tone digits the model sees: 不 before a 4th tone reads bu2, 一 changes
with the next syllable, particles and many two-syllable words take the neutral tone, and
runs of 3rd tones rise. jieba decides the words; the merges below fix its cuts first so the
rules see whole words. Where the official code silently skips a merge because of an
indexing slip, this code skips it the same way, so the ids stay identical.
"""

from __future__ import annotations

from functools import lru_cache

from backend.text.zh_segment import cut_for_search

Word = list  # [word, pos]; lists because the merges grow the word in place

MUST_NEUTRAL_WORDS: frozenset[str] = frozenset(
    (
    "麻烦 麻利 鸳鸯 高粱 骨头 骆驼 马虎 首饰 馒头 馄饨 风筝 难为 队伍 阔气 闺女 门道 锄头 铺盖 铃铛 铁匠 "
    "钥匙 里脊 里头 部分 那么 道士 造化 迷糊 连累 这么 这个 运气 过去 软和 转悠 踏实 跳蚤 跟头 趔趄 财主 "
    "豆腐 讲究 记性 记号 认识 规矩 见识 裁缝 补丁 衣裳 衣服 衙门 街坊 行李 行当 蛤蟆 蘑菇 薄荷 葫芦 葡萄 "
    "萝卜 荸荠 苗条 苗头 苍蝇 芝麻 舒服 舒坦 舌头 自在 膏药 脾气 脑袋 脊梁 能耐 胳膊 胭脂 胡萝 胡琴 胡同 "
    "聪明 耽误 耽搁 耷拉 耳朵 老爷 老实 老婆 老头 老太 翻腾 罗嗦 罐头 编辑 结实 红火 累赘 糨糊 糊涂 精神 "
    "粮食 簸箕 篱笆 算计 算盘 答应 笤帚 笑语 笑话 窟窿 窝囊 窗户 稳当 稀罕 称呼 秧歌 秀气 秀才 福气 祖宗 "
    "砚台 码头 石榴 石头 石匠 知识 眼睛 眯缝 眨巴 眉毛 相声 盘算 白净 痢疾 痛快 疟疾 疙瘩 疏忽 畜生 生意 "
    "甘蔗 琵琶 琢磨 琉璃 玻璃 玫瑰 玄乎 狐狸 状元 特务 牲口 牙碜 牌楼 爽快 爱人 热闹 烧饼 烟筒 烂糊 点心 "
    "炊帚 灯笼 火候 漂亮 滑溜 溜达 温和 清楚 消息 浪头 活泼 比方 正经 欺负 模糊 槟榔 棺材 棒槌 棉花 核桃 "
    "栅栏 柴火 架势 枕头 枇杷 机灵 本事 木头 木匠 朋友 月饼 月亮 暖和 明白 时候 新鲜 故事 收拾 收成 提防 "
    "挖苦 挑剔 指甲 指头 拾掇 拳头 拨弄 招牌 招呼 抬举 护士 折腾 扫帚 打量 打算 打点 打扮 打听 打发 扎实 "
    "扁担 戒指 懒得 意识 意思 情形 悟性 怪物 思量 怎么 念头 念叨 快活 忙活 志气 心思 得罪 张罗 弟兄 开通 "
    "应酬 庄稼 干事 帮手 帐篷 希罕 师父 师傅 巴结 巴掌 差事 工夫 岁数 屁股 尾巴 少爷 小气 小伙 将就 对头 "
    "对付 寡妇 家伙 客气 实在 官司 学问 学生 字号 嫁妆 媳妇 媒人 婆家 娘家 委屈 姑娘 姐夫 妯娌 妥当 妖精 "
    "奴才 女婿 头发 太阳 大爷 大方 大意 大夫 多少 多么 外甥 壮实 地道 地方 在乎 困难 嘴巴 嘱咐 嘟囔 嘀咕 "
    "喜欢 喇嘛 喇叭 商量 唾沫 哑巴 哈欠 哆嗦 咳嗽 和尚 告诉 告示 含糊 吓唬 后头 名字 名堂 合同 吆喝 叫唤 "
    "口袋 厚道 厉害 千斤 包袱 包涵 匀称 勤快 动静 动弹 功夫 力气 前头 刺猬 刺激 别扭 利落 利索 利害 分析 "
    "出息 凑合 凉快 冷战 冤枉 冒失 养活 关系 先生 兄弟 便宜 使唤 佩服 作坊 体面 位置 似的 伙计 休息 什么 "
    "人家 亲戚 亲家 交情 云彩 事情 买卖 主意 丫头 丧气 两口 东西 东家 世故 不由 不在 下水 下巴 上头 上司 "
    "丈夫 丈人 一辈 那个 菩萨 父亲 母亲 咕噜 邋遢 费用 冤家 甜头 介绍 荒唐 大人 泥鳅 幸福 熟悉 计划 扑腾 "
    "蜡烛 姥爷 照顾 喉咙 吉他 弄堂 蚂蚱 凤凰 拖沓 寒碜 糟蹋 倒腾 报复 逻辑 盘缠 喽啰 牢骚 咖喱 扫把 惦记 "
    ).split()
)
"""The 420 words whose last syllable is always neutral (tone 5)."""

MUST_NOT_NEUTRAL_WORDS: frozenset[str] = frozenset(
    "男子 女子 分子 原子 量子 莲子 石子 瓜子 电子 人人 虎虎".split()
)
_SENTENCE_MARKS = "：，；。？！“”‘’':,;.?!"
_PARTICLES = "吧呢哈啊呐噻嘛吖嗨呐哦哒额滴哩哟喽啰耶喔诶"


@lru_cache(maxsize=4096)
def _finals_tone3(word: str) -> tuple[str, ...]:
    from pypinyin import Style, lazy_pinyin

    return tuple(lazy_pinyin(word, neutral_tone_with_five=True, style=Style.FINALS_TONE3))


def _tone(final: str) -> str:
    return final[-1] if final else ""


def _set_tone(final: str, tone: str) -> str:
    return final[:-1] + tone if final else final


def _all_third(finals: list[str] | tuple[str, ...]) -> bool:
    return all(_tone(f) == "3" for f in finals)


# ------------------------------------------------------------------ merges before pinyin


def _merge_bu(words: list[Word]) -> list[Word]:
    merged: list[Word] = []
    previous = ""
    for word, pos in words:
        if previous == "不":
            word = previous + word
        if word != "不":
            merged.append([word, pos])
        previous = word
    if previous == "不":
        merged.append([previous, "d"])
    return merged


def _merge_yi(words: list[Word]) -> list[Word]:
    """X 一 X (same verb) → one word, then a lone 一 joins the next word.

    The official code addresses the merged list with indices of the unmerged one; when
    they drift apart it raises, and the whole merge is skipped. Same here.
    """
    merged: list[Word] = []
    for i, (word, pos) in enumerate(words):
        if (0 < i < len(words) - 1 and word == "一"
                and words[i - 1][0] == words[i + 1][0] and words[i - 1][1] == "v"):
            if i - 1 >= len(merged):
                raise IndexError("merge index drifted")
            merged[i - 1][0] = merged[i - 1][0] + "一" + merged[i - 1][0]
        elif i >= 2 and words[i - 1][0] == "一" and words[i - 2][0] == word and pos == "v":
            continue
        else:
            merged.append([word, pos])
    result: list[Word] = []
    for word, pos in merged:
        if result and result[-1][0] == "一":
            result[-1][0] = result[-1][0] + word
        else:
            result.append([word, pos])
    return result


def _merge_reduplication(words: list[Word]) -> list[Word]:
    merged: list[Word] = []
    for word, pos in words:
        if merged and word == merged[-1][0]:
            merged[-1][0] = merged[-1][0] + word
        else:
            merged.append([word, pos])
    return merged


def _is_aa(word: str) -> bool:
    return len(word) == 2 and word[0] == word[1]


def _merge_third_tones(words: list[Word], boundary_only: bool) -> list[Word]:
    """Join neighbours that are all 3rd tone (or meet on 3rd tones), up to 3 characters."""
    finals = [_finals_tone3(word) for word, _ in words]
    merged: list[Word] = []
    joined = [False] * len(words)
    for i, (word, pos) in enumerate(words):
        meets = False
        if i >= 1:
            # Plain indexing on purpose, in the official order: an empty final raises, and
            # the caller then skips the whole merge, exactly as the official code does.
            if boundary_only:
                meets = finals[i - 1][-1][-1] == "3" and finals[i][0][-1] == "3"
            else:
                meets = all(f[-1] == "3" for f in finals[i - 1]) \
                    and all(f[-1] == "3" for f in finals[i])
            meets = meets and not joined[i - 1]
        if meets and not _is_aa(words[i - 1][0]) and len(words[i - 1][0]) + len(word) <= 3:
            merged[-1][0] = merged[-1][0] + word
            joined[i] = True
        else:
            merged.append([word, pos])
    return merged


def _merge_er(words: list[Word]) -> list[Word]:
    merged: list[Word] = []
    for i, (word, pos) in enumerate(words):
        if i >= 1 and word == "儿" and words[i - 1][0] != "#":
            merged[-1][0] = merged[-1][0] + word
        else:
            merged.append([word, pos])
    return merged


def merge_words(pairs: list[tuple[str, str]]) -> list[Word]:
    """jieba's (word, pos) list with the official merges applied, in the official order."""
    words = _merge_bu([[w, p] for w, p in pairs])
    try:
        words = _merge_yi(words)
    except IndexError:
        pass
    words = _merge_reduplication(words)
    for boundary_only in (False, True):
        try:
            words = _merge_third_tones(words, boundary_only)
        except IndexError:
            pass
    return _merge_er(words)


# ------------------------------------------------------------------ tone changes per word


def _split_in_two(word: str) -> list[str]:
    pieces = sorted(cut_for_search(word), key=len)
    first = pieces[0]
    if word.find(first) == 0:
        return [first, word[len(first):]]
    return [word[: -len(first)], first]


def _bu(word: str, finals: list[str]) -> list[str]:
    if len(word) == 3 and word[1] == "不":
        finals[1] = _set_tone(finals[1], "5")
        return finals
    for i, char in enumerate(word):
        if char == "不" and i + 1 < len(word) and _tone(finals[i + 1]) == "4":
            finals[i] = _set_tone(finals[i], "2")
    return finals


def _yi(word: str, finals: list[str]) -> list[str]:
    if "一" in word and all(c.isnumeric() for c in word if c != "一"):
        return finals
    if len(word) == 3 and word[1] == "一" and word[0] == word[-1]:
        finals[1] = _set_tone(finals[1], "5")
    elif word.startswith("第一"):
        finals[1] = _set_tone(finals[1], "1")
    else:
        for i, char in enumerate(word):
            if char == "一" and i + 1 < len(word):
                if _tone(finals[i + 1]) == "4":
                    finals[i] = _set_tone(finals[i], "2")
                elif word[i + 1] not in _SENTENCE_MARKS:
                    finals[i] = _set_tone(finals[i], "4")
    return finals


def _is_must_neutral(word: str) -> bool:
    return word in MUST_NEUTRAL_WORDS or word[-2:] in MUST_NEUTRAL_WORDS


def _neutral(word: str, pos: str, finals: list[str]) -> list[str]:
    for j in range(1, len(word)):
        if word[j] == word[j - 1] and pos[:1] in {"n", "v", "a"} \
                and word not in MUST_NOT_NEUTRAL_WORDS:
            finals[j] = _set_tone(finals[j], "5")
    ge = word.find("个")
    last = word[-1:] if word else ""
    if last and last in _PARTICLES:
        finals[-1] = _set_tone(finals[-1], "5")
    elif last and last in "的地得":
        finals[-1] = _set_tone(finals[-1], "5")
    elif len(word) == 1 and word in "了着过" and pos in {"ul", "uz", "ug"}:
        finals[-1] = _set_tone(finals[-1], "5")
    elif len(word) > 1 and last in "们子" and pos in {"r", "n"} \
            and word not in MUST_NOT_NEUTRAL_WORDS:
        finals[-1] = _set_tone(finals[-1], "5")
    elif len(word) > 1 and last in "上下里" and pos in {"s", "l", "f"}:
        finals[-1] = _set_tone(finals[-1], "5")
    elif len(word) > 1 and last in "来去" and word[-2] in "上下进出回过起开":
        finals[-1] = _set_tone(finals[-1], "5")
    elif (ge >= 1 and (word[ge - 1].isnumeric() or word[ge - 1] in "几有两半多各整每做是")) \
            or word == "个":
        finals[ge] = _set_tone(finals[ge], "5")
    elif _is_must_neutral(word):
        finals[-1] = _set_tone(finals[-1], "5")
    halves = _split_in_two(word)
    parts = [finals[: len(halves[0])], finals[len(halves[0]):]]
    for i, half in enumerate(halves):
        if _is_must_neutral(half) and parts[i]:
            parts[i][-1] = _set_tone(parts[i][-1], "5")
    return parts[0] + parts[1]


def _third(word: str, finals: list[str]) -> list[str]:
    if len(word) == 2 and _all_third(finals):
        finals[0] = _set_tone(finals[0], "2")
    elif len(word) == 3:
        halves = _split_in_two(word)
        if _all_third(finals):
            if len(halves[0]) == 2:  # 蒙古/包
                finals[0] = _set_tone(finals[0], "2")
                finals[1] = _set_tone(finals[1], "2")
            elif len(halves[0]) == 1:  # 纸/老虎
                finals[1] = _set_tone(finals[1], "2")
        else:
            parts = [finals[: len(halves[0])], finals[len(halves[0]):]]
            for i, part in enumerate(parts):
                if _all_third(part) and len(part) == 2:  # 所有/人
                    part[0] = _set_tone(part[0], "2")
                elif i == 1 and not _all_third(part) and _tone(part[0]) == "3" \
                        and _tone(parts[0][-1]) == "3":  # 好/喜欢
                    parts[0][-1] = _set_tone(parts[0][-1], "2")
            finals = parts[0] + parts[1]
    elif len(word) == 4:
        out: list[str] = []
        for part in (finals[:2], finals[2:]):
            if _all_third(part):
                part[0] = _set_tone(part[0], "2")
            out += part
        finals = out
    return finals


def apply_sandhi(word: str, pos: str, finals: list[str]) -> list[str]:
    """Tone-changed copy of ``finals`` (TONE3 strings, one per character of ``word``)."""
    finals = list(finals)
    finals = _bu(word, finals)
    finals = _yi(word, finals)
    finals = _neutral(word, pos, finals)
    return _third(word, finals)
