"""Loading of the official text-frontend records copied into tests/fixtures, and the
frontend-data guard shared by the English/Japanese/mixed/cutting tests.

The fixtures text_en/, text_ja/, text_mixed/ and text_cutting/ are subsets of
shared/refvectors/text/text_vectors.jsonl (official GPT-SoVITS 48b1a01): the en clean_text
and dataset records, the ja clean_text records, every inference record and every preprocess
record, with only the error/traceback/BERT-shape/g2pw-stand-in fields removed."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


def load_records(relative: str) -> list[dict]:
    """Records of ``relative`` (a ``.jsonl.gz`` file: the copies are stored compressed)."""
    with gzip.open(FIXTURES / relative, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def record_id(record: dict) -> str:
    return record["record_id"]


def check_cleaned(got, want: dict, version: str, label: str) -> None:  # noqa: ANN001 - a CleanedText
    """``got`` (what ``clean_text`` returns) against a record's norm_text, phones, word2ph and ids."""
    from backend.text.cleaner import cleaned_text_to_sequence

    assert got.norm_text == want["norm_text"], f"{label}: norm_text"
    assert got.phones == want["phones"], f"{label}: phones"
    assert got.word2ph == want["word2ph"], f"{label}: word2ph"
    assert cleaned_text_to_sequence(got.phones, version) == want["ids"], f"{label}: ids"


def check_dataset_record(record: dict) -> None:
    """The formatting step's line for a record's input (``1-get-text``)."""
    from backend.text.cleaner import name2text_line

    name = f"{record['sentence_id']}.wav"
    assert name2text_line(name, record["input"], record["language"], record["version"]) == record["name2text_line"]


SEGMENT_KEYS = ("lang", "text", "ids", "phones", "word2ph", "norm_text")


def check_inference_record(record: dict) -> None:
    """Language option → split → every item cleaned → the dot retry, as the official inference."""
    from backend.text.langsplit import phones_for_option

    result = phones_for_option(record["input"], record["language"], record["version"])
    got = [{k: getattr(s, k) for k in SEGMENT_KEYS} for s in result.segments]
    assert got == [{k: s[k] for k in SEGMENT_KEYS} for s in record["segments"]]
    assert result.retried_with_dot == record["retried_with_dot"]
    assert (result.phones, result.ids, result.norm_text) == (record["phones"], record["ids"], record["norm_text"])


def check_preprocess_record(record: dict) -> None:
    """The api's target-text cutting, then phones per chunk."""
    from backend.text.cutting import prepare_chunks, split_for_inference

    args = (record["input"], record["language"], record["text_split_method"])
    assert split_for_inference(*args) == record["pre_seg_text"]
    chunks = prepare_chunks(*args, version=record["version"])
    assert [c.norm_text for c in chunks] == record["kept_norm_texts"]
    kept = [c for c in record["chunks"] if c["norm_text"]]
    assert [(c.text, c.phones, c.ids) for c in chunks] == [(c["text"], c["phones"], c["ids"]) for c in kept]


def frontend_data_or_skip() -> Path:
    """The text frontend's runtime data folder: ``GSV_FRONTEND_DATA``, else ``../shared/frontend-data``
    beside the checkout. Without the data the calling test skips — or the whole module, when this is
    called at import — saying how to provide it."""
    if not os.environ.get("GSV_FRONTEND_DATA"):
        candidate = Path(__file__).resolve().parents[2] / "shared" / "frontend-data"
        if candidate.is_dir():
            os.environ["GSV_FRONTEND_DATA"] = str(candidate)
    from backend.text.data import data_dir, optional

    if optional("opencpop-strict.txt") is None:
        pytest.skip("text frontend data absent: set GSV_FRONTEND_DATA (./setup.sh test does)",
                    allow_module_level=True)
    return data_dir()


def frontend_data_with_optional(dest: Path) -> Path:
    """A text data folder at ``dest`` as a fetch leaves it: the shared required files (linked, not
    copied) and stand-ins for the optional ones, so a fetch finds nothing missing and reaches for no
    network (optional files already there are kept, never checked against their digests)."""
    from backend.text.data import OFFICIAL_FILES, OPTIONAL_FILES

    shared = frontend_data_or_skip()
    for f in OFFICIAL_FILES:
        (dest / f.name).parent.mkdir(parents=True, exist_ok=True)
        (dest / f.name).symlink_to(shared / f.name)
    for f in OPTIONAL_FILES:
        (dest / f.name).parent.mkdir(parents=True, exist_ok=True)
        (dest / f.name).write_bytes(b"a stand-in")
    return dest
