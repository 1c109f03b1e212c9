"""English frontend against the official records (normalised text, phones, ids, v1 and v2)."""

from __future__ import annotations

import pytest
from text_records import frontend_data_or_skip, load_records, record_id

from backend.text.cleaner import clean_text
from backend.text.symbols import phone_to_id, symbol_set

RECORDS = load_records("text_en/clean_text.jsonl.gz")


@pytest.fixture(autouse=True)
def _data() -> None:
    frontend_data_or_skip()


def _official_input(record: dict) -> str:
    text = record["input"]
    if record["path"] == "dataset_1_get_text":  # the dataset step's own substitutions
        text = text.replace("%", "-").replace("￥", ",")
    return text


def _clean_directly(text: str, version: str) -> tuple[list[str], str]:
    from backend.text.english import g2p_en, normalize_en

    norm = normalize_en(text)
    phones = g2p_en(norm, version)
    if len(phones) < 4:  # the official clean_text rule for English
        phones = [","] + phones
    table = symbol_set(version)
    return [p if p in table else "UNK" for p in phones], norm


@pytest.mark.parametrize("record", RECORDS, ids=record_id)
@pytest.mark.slow
def test_record_through_our_modules(record: dict) -> None:
    phones, norm = _clean_directly(_official_input(record), record["version"])
    assert norm == record["norm_text"]
    assert phones == record["phones"]
    ids = phone_to_id(record["version"])
    assert [ids[p] for p in phones] == record["ids"]


@pytest.mark.parametrize("record", RECORDS, ids=record_id)
def test_record_through_clean_text(record: dict) -> None:
    phones, word2ph, norm = clean_text(_official_input(record), "en", record["version"])
    assert (phones, word2ph, norm) == (record["phones"], None, record["norm_text"])


def test_pos_tags_match_the_recorded_tagger_output() -> None:
    from backend.text.english import g2p_en_tokens

    checked = 0
    for record in RECORDS:
        recorded = record.get("en_pos_tags")
        if not recorded:
            continue
        assert [list(pair) for pair in g2p_en_tokens(record["norm_text"])] == recorded[0]
        checked += 1
    assert checked > 40


def test_neural_predictor_matches_recorded_predictions() -> None:
    from backend.text.en_neural import neural_g2p

    predictions = {}
    for record in RECORDS:
        predictions.update(record.get("en_neural_predictions") or {})
    assert len(predictions) >= 5
    model = neural_g2p()
    for word, phones in predictions.items():
        assert model.predict(word) == phones, word


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ""),
        ("a;b:c", "abc"),
        ("it is -5 degrees", "it isnegative five degrees"),
        ("iPhone", "i Phone"),
        ("wait... what?!", "wait. what?"),
        ("Привет мир", " "),
        ("\x00\x07tab\tend", "tabend"),
    ],
)
def test_normaliser_quirks(text: str, expected: str) -> None:
    from backend.text.english import normalize_en

    assert normalize_en(text) == expected


@pytest.mark.parametrize("text", ["", "   ", "...", "!?", "…", "\x00\x1f", "Привет", "12345"])
def test_degenerate_input_gives_a_clear_result(text: str) -> None:
    from backend.text.english import g2p_en, normalize_en

    phones = g2p_en(normalize_en(text), "v2")
    assert all(p in symbol_set("v2") for p in phones)


def test_very_long_input() -> None:
    from backend.text.english import g2p_en, normalize_en

    text = "The quick brown fox jumps over the lazy dog. " * 200
    phones = g2p_en(normalize_en(text), "v1")
    assert len(phones) > 200 * 25


def test_unknown_version_is_a_named_error() -> None:
    from backend.errors import GsvError
    from backend.text.english import g2p_en

    with pytest.raises(GsvError):
        g2p_en("hello", "v9")


@pytest.mark.slow
def test_name_dictionary_from_the_official_pickle_equals_the_text_form(tmp_path, monkeypatch) -> None:
    import shutil

    from backend.text import en_data

    source = frontend_data_or_skip()
    text_form = en_data.name_dictionary()
    shutil.copy(source / "namedict_cache.pickle", tmp_path / "namedict_cache.pickle")
    monkeypatch.setenv("GSV_FRONTEND_DATA", str(tmp_path))
    en_data.name_dictionary.cache_clear()
    try:
        assert en_data.name_dictionary() == text_form
        assert len(text_form) == 19929
    finally:
        en_data.name_dictionary.cache_clear()


def test_pickles_holding_code_are_refused(tmp_path) -> None:
    import pickle

    from backend.text.en_data import _names_from_pickle

    path = tmp_path / "namedict_cache.pickle"
    path.write_bytes(pickle.dumps({"x": [["AA1"]], "bad": print}))
    with pytest.raises(pickle.UnpicklingError):
        _names_from_pickle(path)


def test_tagger_falls_back_to_nltks_own_data_folder(tmp_path, monkeypatch) -> None:
    import zipfile

    import nltk

    from backend.text import en_data
    from backend.text.data import FrontendDataMissingError

    source = frontend_data_or_skip()
    words = ["I", "read", "the", "book", "."]
    expected = en_data.pos_tagger().tag(words)
    nltk_home = tmp_path / "nltk_data"
    with zipfile.ZipFile(source / "nltk_data/taggers/averaged_perceptron_tagger_eng.zip") as archive:
        archive.extractall(nltk_home / "taggers")
    monkeypatch.setenv("GSV_FRONTEND_DATA", str(tmp_path / "no-data"))
    monkeypatch.setattr(nltk.data, "path", [str(nltk_home)])
    en_data.pos_tagger.cache_clear()
    try:
        assert en_data.pos_tagger().tag(words) == expected
        monkeypatch.setattr(nltk.data, "path", [str(tmp_path / "nothing")])
        en_data.pos_tagger.cache_clear()
        with pytest.raises(FrontendDataMissingError):
            en_data.pos_tagger()
    finally:
        en_data.pos_tagger.cache_clear()
