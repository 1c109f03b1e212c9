"""Runtime data of the English and Japanese frontends: where it lives and how it is read.

The official frontend reads the CMU dictionaries, the hot-fix entries, a name dictionary,
nltk's English tagger and the Open JTalk dictionary from files that are not part of our
package. They are located through ``backend.text.data`` (``GSV_FRONTEND_DATA`` or the user cache).
Everything is parsed once per process and cached.
"""

from __future__ import annotations

import importlib.util
import json
import pickle
import zipfile
from functools import lru_cache
from pathlib import Path

from backend.text import data
from backend.text.data import FrontendDataMissingError


def frontend_data_dir() -> Path:
    """The folder holding the frontend's runtime data files."""
    return data.data_dir()


def data_file(name: str) -> Path:
    return data.locate(name)


# --- CMU dictionary --------------------------------------------------------------------

_CMU_FIRST_ENTRY_LINE = 57  # cmudict.rep carries a 56-line licence header
_SPELLED_NOT_LOOKED_UP = ("ae", "ai", "ar", "ios", "hud", "os")
"""Abbreviations whose dictionary readings are wrong; the official frontend spells them."""


def _read_cmu(path: Path, into: dict[str, list[str]]) -> None:
    # "WORD  PH PH" (two spaces); variant keys such as "word(1)" are kept as they are and
    # never match a token. A triple space leaves an empty first phone, dropped later.
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if number < _CMU_FIRST_ENTRY_LINE:
                continue
            parts = line.strip().split("  ")
            into[parts[0].lower()] = parts[1].split(" ") if len(parts) > 1 else []


def _read_single_space(path: Path, into: dict[str, list[str]], overwrite: bool) -> None:
    # "WORD PH PH ..." (one space); comments like "# NAME" become pseudo-phones that the
    # symbol filter drops, exactly as in the official frontend.
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            parts = line.strip().split(" ")
            word = parts[0].lower()
            if overwrite or word not in into:
                into[word] = parts[1:]


@lru_cache(maxsize=1)
def cmu_dictionary() -> dict[str, list[str]]:
    """Lower-case word → one ARPAbet pronunciation (cmudict.rep, gaps from -fast, hot fixes)."""
    table: dict[str, list[str]] = {}
    _read_cmu(data_file("cmudict.rep"), table)
    _read_single_space(data_file("cmudict-fast.rep"), table, overwrite=False)
    _read_single_space(data_file("engdict-hot.rep"), table, overwrite=True)
    for word in _SPELLED_NOT_LOOKED_UP:
        table.pop(word, None)
    return table


class _PlainDataUnpickler(pickle.Unpickler):
    """Reads pickles of plain dicts/lists/strings only: any class reference is refused, so
    no code can run while loading."""

    def find_class(self, module: str, name: str):  # noqa: ANN201
        raise pickle.UnpicklingError(f"refusing {module}.{name} in a data pickle")


def _names_from_pickle(path: Path) -> dict[str, list[str]]:
    with open(path, "rb") as handle:
        loaded = _PlainDataUnpickler(handle).load()
    if not isinstance(loaded, dict):
        raise FrontendDataMissingError(f"{path} is not a name dictionary", fix="fetch it again")
    return {str(name): list(prons[0]) for name, prons in loaded.items() if prons}


@lru_cache(maxsize=1)
def name_dictionary() -> dict[str, list[str]]:
    """Lower-case name → ARPAbet. Read from the plain-text form ``namedict.txt``; where only
    the official ``namedict_cache.pickle`` exists it is read with an unpickler that accepts
    plain data and nothing else."""
    text_form = data.optional("namedict.txt")
    if text_form is None:
        pickled = data.optional("namedict_cache.pickle")
        if pickled is not None:
            return _names_from_pickle(pickled)
    table: dict[str, list[str]] = {}
    with open(text_form or data_file("namedict.txt"), encoding="utf-8") as handle:
        for line in handle:
            line = line.rstrip("\n")
            if not line:
                continue
            name, _, phones = line.partition("\t")
            table[name] = phones.split(" ")
    return table


# --- g2p_en package assets -------------------------------------------------------------


def g2p_en_asset(name: str) -> Path:
    """A data file shipped in the g2p_en wheel, found without importing the package
    (importing it starts nltk downloads)."""
    spec = importlib.util.find_spec("g2p_en")
    if spec is None or not spec.submodule_search_locations:
        raise FrontendDataMissingError(
            "the g2p_en package is not installed (its neural model reads unknown English words)",
            fix="pip install g2p_en==2.1.0",
        )
    path = Path(list(spec.submodule_search_locations)[0]) / name
    if not path.exists():
        raise FrontendDataMissingError(f"g2p_en is missing {name}", fix="reinstall g2p_en==2.1.0")
    return path


@lru_cache(maxsize=1)
def homographs() -> dict[str, tuple[list[str], list[str], str]]:
    """g2p_en's homograph table: word → (reading for POS, other reading, POS prefix)."""
    table: dict[str, tuple[list[str], list[str], str]] = {}
    for line in g2p_en_asset("homographs.en").read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            continue
        word, first, second, pos = line.strip().split("|")
        table[word.lower()] = (first.split(), second.split(), pos)
    # Two entries the official frontend corrects.
    table["read"] = (["R", "IY1", "D"], ["R", "EH1", "D"], "VBP")
    table["complex"] = (
        ["K", "AH0", "M", "P", "L", "EH1", "K", "S"],
        ["K", "AA1", "M", "P", "L", "EH0", "K", "S"],
        "JJ",
    )
    return table


# --- nltk tagger -----------------------------------------------------------------------

_TAGGER_ZIP = "nltk_data/taggers/averaged_perceptron_tagger_eng.zip"


@lru_cache(maxsize=1)
def pos_tagger():
    """nltk's averaged-perceptron English tagger, loaded from the data folder's zip
    without touching nltk's global data path or downloading anything."""
    from nltk.tag.perceptron import PerceptronTagger

    tagger = PerceptronTagger(load=False)
    stem = "averaged_perceptron_tagger_eng/averaged_perceptron_tagger_eng"
    parts = ("weights", "tagdict", "classes")
    archive_path = data.optional(_TAGGER_ZIP)
    if archive_path is not None:
        with zipfile.ZipFile(archive_path) as archive:
            params = [json.loads(archive.read(f"{stem}.{part}.json").decode("utf-8")) for part in parts]
    else:
        folder = _tagger_from_nltk_data()
        params = [
            json.loads((folder / f"averaged_perceptron_tagger_eng.{part}.json").read_text("utf-8"))
            for part in parts
        ]
    tagger.decode_json_params(params)
    return tagger


def _tagger_from_nltk_data() -> Path:
    """The tagger where nltk itself keeps it (a machine that ran nltk's downloader)."""
    import nltk

    for root in nltk.data.path:
        folder = Path(root) / "taggers" / "averaged_perceptron_tagger_eng"
        if (folder / "averaged_perceptron_tagger_eng.weights.json").is_file():
            return folder
    raise FrontendDataMissingError(
        "nltk's English tagger (averaged_perceptron_tagger_eng) is not installed",
        fix=f"put {_TAGGER_ZIP} into the frontend data folder, or run "
        "`python -m nltk.downloader averaged_perceptron_tagger_eng`",
    )
