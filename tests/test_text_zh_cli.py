"""``gsv g2p`` as a real subprocess: one text, JSON output, batch files and bad input."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from text_records import frontend_data_or_skip  # noqa: E402

frontend_data_or_skip()

FIXTURE = Path(__file__).parent / "fixtures" / "text" / "text_vectors.jsonl.gz"


def _gsv(*args: str, stdin: str | None = None,
         pretrained: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    if pretrained is not None:
        env["GSV_PRETRAINED_DIR"] = str(pretrained)
    return subprocess.run([sys.executable, "-m", "backend.cli", "g2p", *args], input=stdin,
                          capture_output=True, text=True, env=env, timeout=120,
                          cwd=Path(__file__).parent.parent)


@pytest.mark.slow
def test_one_text_human_and_json() -> None:
    human = _gsv("你好，世界！", "--lang", "zh", "--version", "v1")
    assert human.returncode == 0, human.stderr
    assert "phones:    n i2 h ao3 , sh ir4 j ie4 !" in human.stdout
    assert "ids:       227 167 158 119 1 251 214 221 194 0" in human.stdout
    assert "word2ph:   2 2 1 2 2 1" in human.stdout
    as_json = _gsv("我有3个苹果。", "--lang", "zh", "--json", "--allow-pypinyin")
    result = json.loads(as_json.stdout)
    assert result["norm_text"] == "我有三个苹果."
    assert result["word2ph"] == [2, 2, 2, 2, 2, 2, 1]
    assert len(result["ids"]) == len(result["phones"]) == 13


@pytest.mark.slow
def test_batch_reproduces_chinese_records(tmp_path: Path) -> None:
    with gzip.open(FIXTURE, "rt", encoding="utf-8") as handle:
        records = [json.loads(line) for line in handle]
    chosen = [r for r in records if r["path"] == "clean_text" and r["language"] == "zh"][::9]
    lines = [json.dumps(r, ensure_ascii=False) for r in chosen]
    lines.append("{not json")
    lines.append(json.dumps({"input": "你好", "language": "zh", "version": "v1"}))
    batch = tmp_path / "in.jsonl"
    batch.write_text("\n".join(lines) + "\n", encoding="utf-8")
    run = _gsv("--batch", str(batch))
    assert run.returncode == 0, run.stderr
    out = [json.loads(line) for line in run.stdout.splitlines()]
    assert len(out) == len(chosen) + 2
    assert all(o["matches_expected"] for o in out[: len(chosen)])
    assert out[len(chosen)]["error"].startswith("not JSON")
    assert out[-1]["phones"] == ["n", "i2", "h", "ao3"] and out[-1]["error"] is None
    assert f"{len(chosen)}/{len(chosen)} match" in run.stderr


@pytest.mark.slow
def test_batch_reports_mismatches_with_exit_1(tmp_path: Path) -> None:
    batch = tmp_path / "in.jsonl"
    batch.write_text(json.dumps({"input": "你好", "language": "zh", "phones": ["x"]}) + "\n",
                     encoding="utf-8")
    run = _gsv("--batch", str(batch))
    assert run.returncode == 1
    assert json.loads(run.stdout)["matches_expected"] is False


@pytest.mark.slow
def test_bad_invocations_exit_2_with_a_fix(tmp_path: Path) -> None:
    missing = _gsv("--batch", str(tmp_path / "nope.jsonl"))
    assert missing.returncode == 2 and "fix:" in missing.stderr
    nothing = _gsv()
    assert nothing.returncode == 2 and "fix:" in nothing.stderr
    too_long = _gsv("好" * 20001)
    assert too_long.returncode == 2 and "too long" in too_long.stderr


@pytest.mark.slow
def test_mixed_text_and_cutting_paths() -> None:
    mixed = _gsv("我用Python写代码", "--lang", "auto", "--json", "--allow-pypinyin")
    result = json.loads(mixed.stdout)
    assert [s["lang"] for s in result["segments"]] == ["zh", "en", "zh"]
    assert result["ids"] == [i for s in result["segments"] for i in s["ids"]]
    cut = _gsv("今天天气很好。我们去公园散步吧！好的。", "--path", "preprocess", "--cut", "cut5",
               "--allow-pypinyin")
    assert cut.returncode == 0, cut.stderr
    assert "chunk 0: '今天天气很好。'" in cut.stdout and "chunk 1:" in cut.stdout


def test_v2_chinese_without_g2pw_is_refused_unless_pypinyin_is_allowed(tmp_path: Path) -> None:
    """No silent fallback: the data folder here has no G2PW model, so v2 Chinese is refused with
    the fetch command; --allow-pypinyin reads it with pypinyin and says so. v1 never used G2PW."""
    env_pretrained = tmp_path / "no-pretrained"  # nor a BERT tokenizer for G2PW to find
    env_pretrained.mkdir()
    text = "我们银行的行长说还清"
    refused = _gsv(text, "--lang", "zh", "--version", "v2", pretrained=env_pretrained)
    assert refused.returncode == 2 and refused.stdout == ""
    assert "G2PW" in refused.stderr and "gsv models fetch v2" in refused.stderr
    assert "--allow-pypinyin" in refused.stderr
    mixed = _gsv(text, "--lang", "auto", pretrained=env_pretrained)
    assert mixed.returncode == 2 and "G2PW" in mixed.stderr
    allowed = _gsv(text, "--lang", "zh", "--allow-pypinyin", "--json", pretrained=env_pretrained)
    assert allowed.returncode == 0 and "pypinyin" in allowed.stderr
    assert json.loads(allowed.stdout)["phones"][:4] == ["w", "o3", "m", "en5"]
    v1 = _gsv(text, "--lang", "zh", "--version", "v1", pretrained=env_pretrained)
    assert v1.returncode == 0 and v1.stderr == ""
    korean = _gsv("안녕하세요", "--lang", "ko", pretrained=env_pretrained)  # no Chinese: no G2PW needed
    assert korean.returncode == 0 and "ㅇ ㅏ ㄴ" in korean.stdout
