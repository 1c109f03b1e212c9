"""Japanese frontend against the official records (stock Open JTalk dictionary, no user
dictionary — records tagged ja_latin_without_userdict are exact for that set-up)."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest
from text_records import load_records, record_id

from backend.text.cleaner import clean_text
from backend.text.symbols import phone_to_id, symbol_set

RECORDS = load_records("text_ja/clean_text.jsonl.gz")


def _clean_directly(text: str, version: str) -> tuple[list[str], str]:
    from backend.text.japanese import g2p_ja, normalize_ja

    norm = normalize_ja(text)
    table = symbol_set(version)
    return [p if p in table else "UNK" for p in g2p_ja(norm, version, with_prosody=True)], norm


@pytest.mark.parametrize("record", RECORDS, ids=record_id)
def test_record_through_our_modules(record: dict) -> None:
    phones, norm = _clean_directly(record["input"], record["version"])
    assert norm == record["norm_text"]
    assert phones == record["phones"]
    ids = phone_to_id(record["version"])
    assert [ids[p] for p in phones] == record["ids"]


@pytest.mark.parametrize("record", RECORDS, ids=record_id)
def test_record_through_clean_text(record: dict) -> None:
    phones, word2ph, norm = clean_text(record["input"], "ja", record["version"])
    assert (phones, word2ph, norm) == (record["phones"], None, record["norm_text"])


def test_prosody_marks_and_v1_unk() -> None:
    v2, _ = _clean_directly("こんにちは、元気ですか？", "v2")
    assert v2 == "k o [ N n i ch i w a , g e ] N k i d e s u k a ?".split()
    v1, _ = _clean_directly("こんにちは、元気ですか？", "v1")
    assert v1 == [("UNK" if p in "[]" else p) for p in v2]


def test_plain_reading_without_prosody() -> None:
    from backend.text.japanese import g2p_ja

    assert g2p_ja("こんにちは。", "v2", with_prosody=False) == "k o N n i ch i w a .".split()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", []),
        ("。", ["."]),
        ("、、", [","]),  # normalisation collapses repeated marks only for the six ASCII marks
        ("ー", []),
        ("Привет", ["UNK"] * 6),
        ("\x00\x07", ["UNK", "UNK"]),
    ],
)
def test_degenerate_input(text: str, expected: list[str]) -> None:
    phones, _ = _clean_directly(text, "v2")
    if text == "、、":
        assert phones == [",", ","]
    else:
        assert phones == expected


def test_very_long_run_is_read_in_pieces_not_crashing_the_engine() -> None:
    from backend.text.japanese import MAX_RUN_CHARS, g2p_ja

    phones = g2p_ja("あ" * (3 * MAX_RUN_CHARS + 7), "v2")
    assert phones.count("a") == 3 * MAX_RUN_CHARS + 7


def _tar_with(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_dictionary_archive_is_extracted_once(tmp_path: Path) -> None:
    from backend.text.japanese import DICT_NAME, extract_dictionary

    archive = tmp_path / "dic.tar.gz"
    archive.write_bytes(_tar_with({f"{DICT_NAME}/sys.dic": b"x", f"{DICT_NAME}/COPYING": b"c"}))
    first = extract_dictionary(archive, tmp_path / "cache")
    assert (first / "sys.dic").read_bytes() == b"x"
    archive.unlink()  # a second call must not need the archive
    assert extract_dictionary(archive, tmp_path / "cache") == first
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [DICT_NAME]


def test_archive_without_dictionary_is_a_named_error(tmp_path: Path) -> None:
    from backend.text.japanese import JapaneseEngineError, extract_dictionary

    archive = tmp_path / "bad.tar.gz"
    archive.write_bytes(_tar_with({"something/else.txt": b"x"}))
    with pytest.raises(JapaneseEngineError):
        extract_dictionary(archive, tmp_path / "cache")


_USER_CSV = "ｎａｎｏｋａ,,,1,名詞,一般,*,*,*,*,ｎａｎｏｋａ,ナノカ,ナノカ,0/3,*\n"
_PROBE = (
    "import json, sys; from pathlib import Path;"
    "from backend.text import japanese as ja;"
    "before = ja.g2p_ja('nanokaです');"
    "[ja.use_user_dictionary(Path(p)) for p in sys.argv[1:]];"
    "print(json.dumps([before, ja.g2p_ja('nanokaです')]))"
)


def _probe(tmp_path: Path, env_extra: dict[str, str], *args: str) -> list[list[str]]:
    """The user dictionary changes the engine process-wide, so it is tried in a child process."""
    import json
    import os
    import subprocess
    import sys

    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"), **env_extra}
    run = subprocess.run([sys.executable, "-c", _PROBE, *args], capture_output=True, text=True,
                         env=env, cwd=Path(__file__).resolve().parents[1], check=True, timeout=120)
    return json.loads(run.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_user_dictionary_gives_latin_words_a_reading(tmp_path: Path) -> None:
    csv = tmp_path / "user.csv"
    csv.write_text(_USER_CSV, encoding="utf-8")
    before, after = _probe(tmp_path, {"GSV_FRONTEND_DATA": str(tmp_path / "empty")}, str(csv))
    assert before[:3] == ["e", "[", "n"]  # spelled letter by letter without the dictionary
    assert after == "n a [ n o k a d e ] s u".split()
    assert len(list((tmp_path / "cache" / "gsv-tui" / "openjtalk").glob("user-*.dic"))) == 1


def test_official_user_dictionary_in_the_data_folder_is_used(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "ja_userdic").mkdir(parents=True)
    (data / "ja_userdic" / "userdict.csv").write_text(_USER_CSV, encoding="utf-8")
    before, after = _probe(tmp_path, {"GSV_FRONTEND_DATA": str(data)})
    assert before == after == "n a [ n o k a d e ] s u".split()
