"""Every official Korean/Cantonese reference record, reproduced by our frontends.

The records (tests/fixtures/text_ko_yue/README.md) come from the official GPT-SoVITS
frontend with the same g2pk2, MeCab dictionary and ToJyutping versions we pin, so the real
libraries run here. Per record: same phones, ids, word2ph and normalised text through the
same four entry points as the zh/en/ja records; where the official code crashes, ours
raises a named error. The recorded g2pk2 and ToJyutping outputs also test the steps after
each library on their own.
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

from backend.errors import GsvError
from backend.text.cantonese import UnreadableCantoneseError, g2p_yue
from backend.text.cleaner import clean_text
from backend.text.korean import g2p_ko, latin_letter_names

frontend_data_or_skip()

RECORDS = load_records("text_ko_yue/text_vectors.jsonl.gz")


@pytest.fixture(autouse=True, scope="module")
def _lite_detector() -> None:
    from backend.text.langsplit import _lite_model, use_langid_model

    use_langid_model(_lite_model())  # the records were made with the lite language-ID model


def _by_path(path: str, *, errors: bool = False) -> list[dict]:
    return [r for r in RECORDS if r["path"] == path and (r["error"] is not None) == errors]


def test_fixture_holds_every_record() -> None:
    assert len(RECORDS) == 712
    assert len({r["sentence_id"] for r in RECORDS}) == 174


@pytest.mark.parametrize("record", _by_path("clean_text"), ids=record_id)
def test_clean_text_record(record: dict) -> None:
    got = clean_text(record["input"], record["language"], record["version"])
    check_cleaned(got, record, record["version"], record["record_id"])


@pytest.mark.parametrize("record", _by_path("dataset_1_get_text"), ids=record_id)
def test_dataset_step_record(record: dict) -> None:
    check_dataset_record(record)


@pytest.mark.parametrize("record", _by_path("inference"), ids=record_id)
def test_inference_record_end_to_end(record: dict) -> None:
    check_inference_record(record)
    # only zh items get BERT features: every ko/yue/en/ja item's are official zeros
    assert all(s["bert_all_zero"] for s in record["segments"])


@pytest.mark.parametrize("record", _by_path("preprocess"), ids=record_id)
def test_preprocess_record_end_to_end(record: dict) -> None:
    check_preprocess_record(record)


@pytest.mark.parametrize("record", _by_path("clean_text", errors=True)
                         + _by_path("inference", errors=True), ids=record_id)
def test_official_crash_is_a_named_error(record: dict) -> None:
    assert record["error"].startswith("TypeError")
    with pytest.raises(UnreadableCantoneseError) as caught:
        if record["path"] == "clean_text":
            clean_text(record["input"], record["language"], record["version"])
        else:
            from backend.text.langsplit import phones_for_option

            phones_for_option(record["input"], record["language"], record["version"])
    assert isinstance(caught.value, GsvError) and caught.value.fix and "艹" in str(caught.value)


def _traced(key: str) -> list:
    """One pytest param per distinct recorded library call, named after its first record."""
    seen: dict[str, object] = {}
    for record in RECORDS:
        for n, call in enumerate(record.get(key) or []):
            seen.setdefault(call["input"], pytest.param(call, id=f"{record['record_id']}#{n}"))
    return list(seen.values())


@pytest.mark.parametrize("call", _traced("ko_g2pk2"))
def test_korean_steps_around_g2pk2(call: dict) -> None:
    """Letter names before g2pk2, then the jamo phones from g2pk2's recorded output."""
    assert call["input"] == latin_letter_names(call["input"])  # recorded after the spelling
    got = g2p_ko(call["input"], pronouncer=lambda text: call["output"])
    assert got == g2p_ko(call["input"])  # real g2pk2 + MeCab agree with the recording


@pytest.mark.parametrize("call", _traced("yue_jyutping"))
def test_cantonese_steps_after_tojyutping(call: dict) -> None:
    recorded = [(char, reading) for char, reading in call["jyutping"]]
    try:
        want = g2p_yue(call["input"])
    except UnreadableCantoneseError:
        assert any(r is None and c not in "!?…,.-" for c, r in recorded)
        return
    assert g2p_yue(call["input"], reader=lambda text: recorded) == want


def test_latin_letters_are_spelled_in_korean() -> None:
    assert latin_letter_names("OK, tv") == "오케이, 티브이"


def test_gsv_g2p_batch_checks_korean_and_cantonese_records(tmp_path) -> None:
    """``gsv g2p --batch`` as a real subprocess over every path of the records, the official
    crash included (it matches when ours refuses with a named error)."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    chosen = [r for r in RECORDS if r["error"] or r["path"] == "dataset_1_get_text"]
    chosen += [r for r in RECORDS if r["path"] == "preprocess"][::8]
    chosen += [r for r in RECORDS if r["path"] in ("clean_text", "inference")][::40]
    batch = tmp_path / "in.jsonl"
    batch.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in chosen), encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "backend.cli", "g2p", "--batch", str(batch)],
                         capture_output=True, text=True, timeout=300, check=False, cwd=Path(__file__).parent.parent,
                         env=dict(os.environ, PYTHONIOENCODING="utf-8"))
    assert run.returncode == 0, run.stderr
    out = [json.loads(line) for line in run.stdout.splitlines()]
    assert [o["record_id"] for o in out] == [r["record_id"] for r in chosen]
    assert all(o["matches_expected"] for o in out)
    assert sum(o["error"] is not None for o in out) == 3
    assert f"{len(chosen)}/{len(chosen)} match" in run.stderr


def test_korean_never_downloads_or_installs(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """g2pk2 would run nltk's downloader without cmudict.zip and ``pip install`` without MeCab;
    both are checked first and refused by name, with the fix."""
    import importlib.util
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    from backend.text import korean
    from backend.text.cleaner import LanguageUnavailableError

    run = subprocess.run([sys.executable, "-m", "backend.cli", "g2p", "안녕", "--lang", "ko", "--json"],
                         capture_output=True, text=True, timeout=120, check=False,
                         cwd=Path(__file__).parent.parent,
                         env=dict(os.environ, GSV_FRONTEND_DATA=str(tmp_path), PYTHONIOENCODING="utf-8"))
    assert run.returncode == 2 and run.stdout == ""
    assert "cmudict.zip" in run.stderr and "gsv g2p --fetch-data" in run.stderr

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "mecab" else real_find_spec(name, *a))
    monkeypatch.setattr(subprocess, "Popen", lambda *a, **k: pytest.fail(f"ran {a!r}"))
    with pytest.raises(LanguageUnavailableError) as caught:
        korean._load_g2pk2()
    assert "python-mecab-ko==1.3.7" in caught.value.fix
    assert json.dumps(caught.value.message)  # a plain, printable message


def test_korean_output_is_clean_json_on_stdout() -> None:
    """g2pk2 prints "mecab installed" when it starts; that must not reach our stdout."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    run = subprocess.run([sys.executable, "-m", "backend.cli", "g2p", "OK 3개", "--lang", "ko", "--json"],
                         capture_output=True, text=True, timeout=120, check=False,
                         cwd=Path(__file__).parent.parent, env=dict(os.environ, PYTHONIOENCODING="utf-8"))
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["word2ph"] is None and result["norm_text"] == "OK 3개"
    assert result["phones"][:6] == ["ㅇ", "ㅗ", "ㅋ", "ㅔ", "ㅇ", "ㅣ"]  # O K spelled as 오케이


@pytest.mark.parametrize("code", ["KO", "ko", "Ko", "YUE", "yue", "Yue"])
def test_list_lines_in_korean_and_cantonese_are_formatted_on_v2_only(tmp_path, code: str) -> None:
    """The formatting step reads ``KO``/``YUE`` lines (every official spelling) on v2 and later;
    v1 has neither language and says so for the line."""
    from backend.format.items import read_items

    clip = tmp_path / "a.wav"
    clip.write_bytes(b"RIFF")  # only its presence matters to the transcript check
    listing = tmp_path / "x.list"
    listing.write_text(f"{clip}|spk|{code}|안녕하세요 你好\n", encoding="utf-8")
    items, skipped = read_items(listing, "v2ProPlus")
    assert [(i.key, i.language) for i in items] == [("a.wav", code.lower())] and skipped == []
    items, skipped = read_items(listing, "v1")
    assert items == [] and "cannot be read by the v1 text frontend" in skipped[0].reason
