"""Symbol tables: sizes, checksums, anchors and the v1 prefix of v2."""

from __future__ import annotations

import pytest

from backend.text.symbols import (
    CHECKSUMS,
    UnknownTextVersionError,
    phone_to_id,
    symbols_for,
    table_checksum,
)


@pytest.mark.parametrize(("version", "size"), [("v1", 322), ("v2", 732)])
def test_table_size_and_checksum(version: str, size: int) -> None:
    table = symbols_for(version)
    assert len(table) == size
    assert len(set(table)) == size
    assert table_checksum(table) == CHECKSUMS[version]


def test_v2_extends_v1_in_order() -> None:
    v1, v2 = symbols_for("v1"), symbols_for("v2")
    assert v2[:322] == v1
    assert v2[322:324] == ["[", "]"]
    assert v2[324] == "ㄱ" and v2[352] == "空"
    assert v2[353] == "Ya" and v2[-1] == "Yz"


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_anchor_ids(version: str) -> None:
    ids = phone_to_id(version)
    anchors = {"!": 0, ",": 1, "-": 2, ".": 3, "?": 4, "AA": 5, "SP": 77, "SP2": 78,
               "SP3": 79, "UNK": 86, "_": 95, "a": 96, "…": 321}
    assert {symbol: ids[symbol] for symbol in anchors} == anchors


def test_unknown_version_is_a_clear_error() -> None:
    with pytest.raises(UnknownTextVersionError) as caught:
        symbols_for("v9")
    assert caught.value.fix
