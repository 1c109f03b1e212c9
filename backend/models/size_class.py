"""The official size guess for headerless SoVITS files, and the margin our v2 exports keep from it.

For a ``PK`` (headerless) SoVITS file whose first bytes are not a known pretrained one, the
official guesses the version from the file size: under 82978 KiB (84,969,472 bytes) v1, under
700 MiB v2. A full-size v2 export sits only about 20 KB above that line — its tensors alone are
below it; the zip records and the pickled config make up the rest — so a shorter config or
another torch's zip layout could drop it under, and the WebUI would then offer only v1's
languages for it. Our v2 exports therefore end with one unused, stored zip record that keeps
them at least :data:`SIZE_MARGIN` above the line. ``torch.load`` reads only the records the
pickle names, so the file loads as before everywhere; the first bytes (the hashed part and the
header) do not change.
"""

from __future__ import annotations

import io
import zipfile

V1_BELOW = 82978 * 1024
"""Headerless files smaller than this are guessed v1 by the official code."""
V3_FROM = 700 * 1024 * 1024
SIZE_MARGIN = 64 * 1024
"""How far above :data:`V1_BELOW` a v2 export is kept (any margin works: the size is exact)."""
NEAR = 1024 * 1024
"""Only files this close below the line are full-size exports; tiny test models keep their size."""
MARGIN_RECORD = ".gsv-size-margin"


def official_size_guess(size: int) -> str:
    """The version the official guesses for a headerless file of ``size`` bytes."""
    return "v1" if size < V1_BELOW else "v2" if size < V3_FROM else "v3"


def _with_record(data: bytes, name: str, n: int) -> bytes:
    buf = io.BytesIO(data)
    with zipfile.ZipFile(buf, "a") as archive:
        info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_STORED
        archive.writestr(info, bytes(n))
    return buf.getvalue()


def keep_v2_size_class(data: bytes) -> bytes:
    """``data`` (a headerless torch zip) grown to ``V1_BELOW + SIZE_MARGIN`` bytes when it is a
    full-size export within reach of the v1 line; any other file is returned as it is."""
    target = V1_BELOW + SIZE_MARGIN
    if not V1_BELOW - NEAR <= len(data) < target:
        return data
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        folder = archive.namelist()[0].split("/", 1)[0]  # torch keeps every record in one folder
    name = f"{folder}/{MARGIN_RECORD}"
    empty = _with_record(data, name, 0)  # the record's own headers, measured
    return _with_record(data, name, max(0, target - len(empty)))
