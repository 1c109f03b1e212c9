"""Checkup scoring on constructed cases: what was asked vs what the ASR heard, normalised the same
way on both sides (the text frontend's normalisers), with skips and repeats counted from the
alignment; the pace and report rules on hand-made take sets."""

from __future__ import annotations

import pytest
from text_records import frontend_data_or_skip

from backend.checkup.normalize import ScoringLanguageError, tokens, unit
from backend.checkup.pace import CAP, RUNAWAY, TRUNCATED, Pace, hit_cap
from backend.checkup.report import CheckupReport, PairResult, Take, ranking
from backend.checkup.scoring import align, score


def test_chinese_is_scored_per_character_with_marks_and_numbers_normalised() -> None:
    frontend_data_or_skip()
    assert unit("zh") == unit("all_zh") == "cer"
    s = score("今天是5月3日，我很高兴！", "今天是五月三日 我很高兴", "zh")
    assert (s.error_rate, s.reference_units, s.skips, s.repeats) == (0.0, 11, 0, 0)
    # traditional characters and full-width marks read the same as simplified and ASCII ones
    assert score("这个问题很简单。", "這個問題很簡單.", "zh").error_rate == 0.0
    # one character missing out of eleven: one skip
    s = score("今天是5月3日，我很高兴！", "今天是五月三日我很兴", "zh")
    assert s.error_rate == pytest.approx(1 / 11) and s.deletions == s.skips == 1 and s.repeats == 0


def test_chinese_repeats_are_insertions_that_duplicate_a_neighbour() -> None:
    frontend_data_or_skip()
    s = score("我们明天见。", "我们们明天见", "zh")
    assert (s.insertions, s.repeats, s.skips) == (1, 1, 0)
    s = score("你好，世界。", "你好你好，世界", "zh")  # a repeated word, two characters long
    assert (s.insertions, s.repeats) == (2, 2) and s.error_rate == pytest.approx(0.5)
    s = score("你好，世界。", "你好呀世界", "zh")  # an insertion that repeats nothing
    assert (s.insertions, s.repeats) == (1, 0)


def test_english_is_scored_per_word_with_case_punctuation_and_numbers_normalised() -> None:
    frontend_data_or_skip()
    assert unit("en") == unit("ko") == "wer"
    s = score("She bought 12 eggs, and 2 loaves!", "she bought twelve eggs and two loaves", "en")
    assert (s.error_rate, s.reference_units) == (0.0, 7)
    assert score("It's 25 dollars.", "IT'S TWENTY-FIVE DOLLARS", "en").error_rate == 0.0
    s = score("The quick brown fox jumps.", "the brown fox jumps", "en")
    assert s.error_rate == pytest.approx(0.2) and s.skips == 1 and s.repeats == 0
    s = score("The quick brown fox jumps.", "the quick quick brown fox jumps jumps", "en")
    assert (s.insertions, s.repeats, s.skips) == (2, 2, 0) and s.error_rate == pytest.approx(0.4)
    s = score("The quick brown fox jumps.", "the quick red fox jumps", "en")
    assert (s.substitutions, s.skips, s.repeats) == (1, 0, 0)


def test_japanese_is_scored_on_its_reading_so_digits_kanji_and_kana_agree() -> None:
    frontend_data_or_skip()
    assert unit("ja") == "cer"
    assert score("今日は5月3日です。", "きょうは五月三日です", "ja").error_rate == 0.0
    s = score("りんごを三つ買いました。", "りんごを買いました", "ja")
    assert s.skips == len(tokens("三つ", "ja")) and s.repeats == 0


def test_korean_words_cantonese_characters_and_unknown_languages() -> None:
    frontend_data_or_skip()
    s = score("안녕하세요, 반갑습니다!", "안녕하세요 반갑습니다", "ko")
    assert s.error_rate == 0.0 and s.reference_units == 2
    assert score("사과 3개를 샀어요.", "사과 세개를 샀어요", "ko").error_rate == 0.0  # digits read out
    assert unit("yue") == "cer"
    s = score("我哋今日食咗3碗飯，好飽！", "我哋今日食咗三碗饭好饱", "yue")
    assert (s.error_rate, s.reference_units) == (0.0, 11)
    with pytest.raises(ScoringLanguageError):
        unit("fr")


def test_an_empty_transcript_is_every_unit_skipped() -> None:
    s = align(["a", "b", "c"], [], "wer")
    assert (s.error_rate, s.skips, s.deletions, s.hits) == (1.0, 3, 3, 0)
    with pytest.raises(ValueError):
        align([], ["a"], "wer")


def test_pace_flags_runaways_truncations_and_cap_hits_against_the_spread() -> None:
    rates = [2.0, 2.1, 1.9, 2.2, 1.8, 2.0, 2.05]
    pace = Pace.of(rates)
    assert pace.centre == 2.0
    assert pace.judge(20, 10, hit_cap=False) is None
    assert pace.judge(90, 10, hit_cap=False) == RUNAWAY
    assert pace.judge(4, 10, hit_cap=False) == TRUNCATED
    assert pace.judge(20, 10, hit_cap=True) == CAP
    # the pipeline keeps one token fewer than the steps taken: 1499 tokens = the 1500-step cap
    assert hit_cap(1499, 1500) and not hit_cap(1400, 1500)
    # a wide spread takes more to call a take an outlier
    assert Pace(2.0, 2.0).judge(90, 10, hit_cap=False) is None


def _take(i: int, err: float, skips: int = 0, repeats: int = 0, pace: str | None = None,
          like: float | None = None) -> Take:
    return Take(sentence=i, seed=i, wav=f"00/{i:03d}.wav", transcript="", tokens=20, phones=10, hit_cap=False,
                scores={"error_rate": err, "skips": skips, "repeats": repeats}, pace=pace, likeness_train=like)


def test_ranking_prefers_fewer_problems_then_likeness_then_the_later_export(tmp_path) -> None:
    def pair(name: str, takes: list[Take]) -> PairResult:
        return PairResult(name, "sovits", f"/w/p-e{name[-1]}.ckpt", f"/w/p_e{name[-1]}_s9.pth", takes)

    bad = pair("e1", [_take(0, 0.5, skips=1), _take(1, 0.4, repeats=2), _take(2, 0.3, pace=RUNAWAY)])
    good = pair("e2", [_take(0, 0.1, like=0.7), _take(1, 0.0, like=0.7), _take(2, 0.05, like=0.7)])
    twin = pair("e3", [_take(0, 0.1, like=0.9), _take(1, 0.0, like=0.9), _take(2, 0.05, like=0.9)])
    s = bad.summary()
    assert s["median_error"] == 0.4 and s["skip_share"] == pytest.approx(1 / 3, abs=1e-4) and s["runaways"] == 1
    assert ranking([bad, good]) == [1, 0]
    assert ranking([bad, good, twin]) == [2, 1, 0]  # tie on problems: the likelier voice first
    report = CheckupReport(project="p", language="en", unit="wer", created="now", reference={"audio_path": "r.wav"},
                           sentences=["a", "b", "c"], pairs=[bad, good, twin], recommended=2, reason="x")
    report.save(tmp_path / "checkups" / "20260101-000000.json")
    from backend.checkup.report import latest_report

    again = latest_report(tmp_path)
    assert again is not None and again.best.label == "e3" and [p.label for p, _ in again.rows()] == ["e3", "e2", "e1"]
    assert again.take_path(again.pairs[0].takes[0]) == tmp_path / "checkups" / "20260101-000000" / "00" / "000.wav"
    md = (tmp_path / "checkups" / "20260101-000000.md").read_text(encoding="utf-8")
    assert "**Recommended:** e3" in md and "| e1 | 40.0% | 33% | 33% | 1 | 0 |" in md
