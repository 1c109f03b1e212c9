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
