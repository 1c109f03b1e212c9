"""Per-character pinyin for v2 Chinese: the G2PW polyphone model and its stand-ins.

v2 Chinese reads each character with the G2PW ONNX model (a BERT-based polyphone
classifier, downloaded on first use on users' machines). Everything after the model —
polyphone dictionary, sandhi, erhua, phone table — lives in :mod:`backend.text.zh_g2p`
and takes the model through one small interface, :data:`SentencePinyin`: segments in, one
TONE3 reading per character out. That seam lets the tests run the whole post-model
pipeline on readings recorded from the official code (``recorded_pinyin``) without the
400 MB model; when the model files are absent at run time, callers use the official
pypinyin branch (``sentence_pinyin=None``) instead.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from backend.errors import GsvError
from backend.text.data import optional
from backend.text.zh_g2p import SentencePinyin
from backend.text.zh_normalize import to_simplified

MODEL_DIR_NAME = "G2PWModel"
_MODEL_FILES = ("POLYPHONIC_CHARS.txt", "MONOPHONIC_CHARS.txt",
                "bopomofo_to_pinyin_wo_tune_dict.json")
"""The files of ``G2PWModel/`` we read besides the ONNX graph (and ``config.py``)."""
_NOT_PREDICTED = set("一不和咋嗲剖差攢倒難奔勁拗肖瘙誒泊听噢")
_NOT_MONOPHONIC = set("似攢")
CONTEXT_CHARS = 16
MAX_TOKENS = 512


def _window_start(position: int, start: int, end: int) -> int:
    """Start of a (MAX_TOKENS - 2)-character window around ``position`` inside [start, end)."""
    size = MAX_TOKENS - 2
    first = position - size // 2
    first = max(first, start)
    return min(first, end - size)


class G2PWUnavailableError(GsvError):
    """The G2PW model files (or onnxruntime/opencc/tokenizer) are not installed."""


class G2PWMissingError(G2PWUnavailableError):
    """v2+ Chinese was asked for without the G2PW model and without allowing pypinyin."""


FETCH_COMMAND = "gsv models fetch v2"
ALLOW_FLAG = "--allow-pypinyin"


def required_model(allow_pypinyin: bool = False) -> SentencePinyin | None:
    """The G2PW model for v2+ Chinese; None (the official pypinyin branch) only when allowed.

    Without the model an official v2 install fetches it; readings from pypinyin alone differ
    from the WebUI's on polyphones (行, 还, …), so they are never used silently.
    """
    model = installed_model()
    if model is not None or allow_pypinyin:
        return model
    raise G2PWMissingError(
        "v2+ Chinese needs the G2PW polyphone model, which is not installed; without it "
        "readings would come from pypinyin and differ from the official WebUI on polyphones",
        fix=f"fetch it with `{FETCH_COMMAND}`, or pass {ALLOW_FLAG} to accept pypinyin readings",
    )


class RecordedPinyinMissingError(GsvError):
    """A segment was asked for that the recorded readings do not contain."""


def recorded_pinyin(calls: Iterable[Mapping[str, Sequence]]) -> SentencePinyin:
    """A stand-in that replays readings recorded from the official code.

    ``calls`` is a reference record's ``g2pw_standin_pinyin``: a list of
    ``{"sentences": [...], "pinyin": [[...], ...]}``, one reading per character.
    """
    table: dict[str, list[str]] = {}
    for call in calls:
        for sentence, readings in zip(call["sentences"], call["pinyin"], strict=True):
            table[sentence] = list(readings)

    def lookup(segments: list[str]) -> list[list[str]]:
        missing = [s for s in segments if s not in table]
        if missing:
            raise RecordedPinyinMissingError(
                f"no recorded readings for segment {missing[0]!r}",
                fix="record the readings for this text with the official code first",
            )
        return [table[s] for s in segments]

    return lookup


def pypinyin_sentence_pinyin(segments: list[str]) -> list[list[str]]:
    """The stand-in the reference records used: pypinyin's sentence reading per character."""
    from pypinyin import Style, pinyin

    out: list[list[str]] = []
    for segment in segments:
        readings = [item[0] for item in pinyin(segment, style=Style.TONE3,
                                                neutral_tone_with_five=True)]
        if len(readings) != len(segment):  # non-Han runs come back as one item
            readings = [item[0] for char in segment for item in pinyin(
                char, style=Style.TONE3, neutral_tone_with_five=True)]
        out.append(readings)
    return out


def model_dir(folder: Path | None = None) -> Path | None:
    """``folder`` (default: ``G2PWModel/`` in the frontend data) if it is a complete model."""
    folder = optional(MODEL_DIR_NAME) if folder is None else folder
    if folder is None or not folder.is_dir():
        return None
    has_onnx = (folder / "g2pW.onnx").is_file() or (folder / "g2pw.onnx").is_file()
    if not has_onnx or not all((folder / name).is_file() for name in _MODEL_FILES):
        return None
    return folder


def _read_pairs(path: Path) -> list[tuple[str, str]]:
    pairs = []
    for line in path.read_text(encoding="utf-8").strip().split("\n"):
        char, _, reading = line.partition("\t")
        pairs.append((char, reading.strip()))
    return pairs


def read_model_config(path: Path) -> dict[str, object]:
    """The literal assignments of the model's ``config.py`` (read as data, never executed)."""
    values: dict[str, object] = {}
    if not path.is_file():
        return values
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 \
                and isinstance(node.targets[0], ast.Name):
            try:
                values[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                continue
    return values


class G2PWModel:
    """The G2PW ONNX polyphone model (used only when its files are present).

    Inputs follow the official converter: each segment is converted to Traditional
    characters (OpenCC s2tw, same length), cropped to ``CONTEXT_CHARS`` characters left of
    its first and right of its last polyphonic character, lower-cased and tokenised one
    token per character; one query row per polyphonic character carries its char id, the
    mask of readings allowed for it and its token position. The argmax label (bopomofo) is
    converted to pinyin with the model's table. Other characters take the monophonic table,
    else pypinyin's reading of the segment.

    Checked here with a small ONNX graph of the same interface (the real 400 MB model is
    not obtainable offline); the post-model pipeline is checked against official readings.
    """

    def __init__(self, folder: Path, tokenizer: Any, session: Any = None) -> None:
        import opencc

        if session is None:
            import onnxruntime

            onnx_path = folder / "g2pW.onnx"
            if not onnx_path.is_file():
                onnx_path = folder / "g2pw.onnx"
            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = 2
            session = onnxruntime.InferenceSession(str(onnx_path), options,
                                                   providers=["CPUExecutionProvider"])
        self._session = session
        self._tokenizer = tokenizer
        self._to_traditional = opencc.OpenCC("s2tw").convert
        config = read_model_config(folder / "config.py")
        self._char_labels = bool(config.get("use_char_phoneme", False))
        self._use_mask = bool(config.get("use_mask", True))
        pairs = _read_pairs(folder / "POLYPHONIC_CHARS.txt")
        if self._char_labels:
            self._labels = sorted({f"{c} {r}" for c, r in pairs})
        else:
            self._labels = sorted({r for _, r in pairs})
        label_index = {label: i for i, label in enumerate(self._labels)}
        self._allowed: dict[str, list[int]] = {}
        for char, reading in pairs:
            key = f"{char} {reading}" if self._char_labels else reading
            self._allowed.setdefault(char, []).append(label_index[key])
        chars = sorted(self._allowed)
        self._char_index = {c: i for i, c in enumerate(chars)}
        self._predicted = set(chars) - _NOT_PREDICTED
        self._monophonic = {c: r for c, r in _read_pairs(folder / "MONOPHONIC_CHARS.txt")
                            if c not in _NOT_MONOPHONIC}
        self._bopomofo_to_pinyin: dict[str, str] = json.loads(
            (folder / "bopomofo_to_pinyin_wo_tune_dict.json").read_text(encoding="utf-8"))

    def _to_pinyin(self, bopomofo: str) -> str | None:
        tone = bopomofo[-1:]
        base = self._bopomofo_to_pinyin.get(bopomofo[:-1])
        return base + tone if base and tone in "12345" else None

    def _predict(self, traditional: str, positions: list[int]) -> list[str]:
        import numpy as np

        start = max(0, positions[0] - CONTEXT_CHARS)
        end = min(len(traditional), positions[-1] + CONTEXT_CHARS + 1)
        if end - start <= MAX_TOKENS - 2:
            starts = [start] * len(positions)
        else:  # BERT's 512 positions: each query gets its own window centred on it
            starts = [_window_start(p, start, end) for p in positions]
        windows = [traditional[s:s + min(end - start, MAX_TOKENS - 2)].lower() for s in starts]
        input_ids = np.asarray([self._tokenizer.convert_tokens_to_ids(["[CLS]", *w, "[SEP]"])
                                for w in windows], dtype=np.int64)
        rows = len(positions)
        phoneme_mask = np.zeros((rows, len(self._labels)), dtype=np.float32)
        for row, pos in enumerate(positions):
            if self._use_mask:
                phoneme_mask[row, self._allowed[traditional[pos]]] = 1.0
            else:
                phoneme_mask[row, :] = 1.0
        feeds = {
            "input_ids": input_ids,
            "token_type_ids": np.zeros_like(input_ids),
            "attention_mask": np.ones_like(input_ids),
            "phoneme_mask": phoneme_mask,
            "char_ids": np.asarray([self._char_index[traditional[p]] for p in positions],
                                   dtype=np.int64),
            "position_ids": np.asarray([p - s + 1 for p, s in zip(positions, starts, strict=True)],
                                       dtype=np.int64),
        }
        probs = self._session.run(None, feeds)[0]
        labels = [self._labels[int(i)] for i in np.argmax(probs, axis=1)]
        return [label.split(" ")[1] if self._char_labels else label for label in labels]

    def __call__(self, segments: list[str]) -> list[list[str]]:
        out = []
        for segment in segments:
            traditional = self._to_traditional(segment)
            if len(traditional) != len(segment):
                out.append(pypinyin_sentence_pinyin([segment])[0])
                continue
            # as the official converter: pypinyin reads the traditional sentence converted
            # back with the normaliser's per-character table (not the original segment)
            fallback = pypinyin_sentence_pinyin([to_simplified(traditional)])[0]
            positions = [i for i, c in enumerate(traditional) if c in self._predicted]
            predicted = dict(zip(positions, self._predict(traditional, positions),
                                 strict=True)) if positions else {}
            readings = []
            for i, char in enumerate(traditional):
                if i in predicted:
                    reading = self._to_pinyin(predicted[i])
                elif char in self._monophonic:
                    reading = self._to_pinyin(self._monophonic[char])
                else:
                    reading = None
                readings.append(reading or fallback[i])
            out.append(readings)
        return out


# where the official installer fetches the model (``gsv models fetch`` installs it into the data folder)


def install_g2pw_zip(archive: Path, target: Path) -> Path:
    """Unpack a G2PW model archive into ``target/G2PWModel`` and check it is complete.

    Members are confined to the destination (no absolute paths or ``..``); the archive is
    unpacked beside the destination and moved into place only when complete, so a broken
    archive never replaces a working model.
    """
    import shutil
    import tempfile
    import zipfile

    destination = target / MODEL_DIR_NAME
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target, prefix=".g2pw-") as scratch:
        root = Path(scratch)
        try:
            with zipfile.ZipFile(archive) as bundle:
                for member in bundle.infolist():
                    path = (root / member.filename).resolve()
                    if not path.is_relative_to(root.resolve()):
                        raise G2PWUnavailableError(
                            f"{archive.name} holds a path outside its folder: {member.filename}",
                            fix="download the archive again from its official home")
                bundle.extractall(root)
        except zipfile.BadZipFile as exc:
            raise G2PWUnavailableError(f"{archive.name} is not a zip archive",
                                       fix="download it again") from exc
        found = [p.parent for p in root.rglob("*.onnx") if model_dir(p.parent) is not None]
        if not found:
            raise G2PWUnavailableError(
                f"{archive.name} does not contain a complete G2PW model",
                fix=f"it needs g2pW.onnx and {', '.join(_MODEL_FILES)}")
        if destination.exists():
            shutil.rmtree(destination)
        shutil.move(str(found[0]), str(destination))
    installed_model.cache_clear()
    return destination


_configured: dict[str, Path] = {}


def use_g2pw_model(model_folder: Path, tokenizer_folder: Path) -> None:
    """Use the G2PW model in ``model_folder`` with the BERT vocabulary in ``tokenizer_folder``.

    By default the model is looked up in the frontend data folder (``G2PWModel/``) and the
    tokenizer as :func:`tokenizer_dir` says; this registers copies kept anywhere else.
    """
    if model_dir(model_folder) is None:
        raise G2PWUnavailableError(
            f"{model_folder} is not a complete G2PW model folder",
            fix=f"it needs g2pW.onnx and {', '.join(_MODEL_FILES)}",
        )
    _configured.update(model=Path(model_folder), tokenizer=Path(tokenizer_folder))
    installed_model.cache_clear()


def model_folder() -> Path | None:
    """The G2PW model folder in use: a registered one, else the one in the data folder."""
    return _configured.get("model") or model_dir()


def tokenizer_dir() -> Path | None:
    """The BERT tokenizer the model reads with: a registered one, one in the data folder, else the
    pretrained chinese-roberta-wwm-ext-large of ``gsv models fetch`` — the one the official
    converter loads (``bert_path``)."""
    from backend.pretrained import BERT, locate

    found = _configured.get("tokenizer") or optional("chinese-roberta-wwm-ext-large")
    if found is None:
        tokenizer = locate(next(f for f in BERT if f.path.endswith("tokenizer.json")))
        found = tokenizer.parent if tokenizer is not None else None
    return found


@lru_cache(maxsize=1)
def installed_model() -> SentencePinyin | None:
    """The G2PW model when its files and the BERT tokenizer are present, else None."""
    folder = model_folder()
    tokenizer = tokenizer_dir()
    if folder is None or tokenizer is None:
        return None
    try:
        from transformers import AutoTokenizer
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise G2PWUnavailableError("G2PW needs transformers", fix="pip install transformers") \
            from exc
    return G2PWModel(folder, AutoTokenizer.from_pretrained(str(tokenizer)))


def fetch_g2pw(on_progress: Any = None, endpoint: str | None = None) -> Path:
    """Download the G2PW polyphone model into the text data folder (checked, then unpacked).

    The official code fetches it whenever it is missing; formatting and inference call this too
    when v2+ Chinese needs it and the machine is online."""
    from backend.pretrained import G2PW_HF_FILE, G2PW_HF_REPO, download_verified
    from backend.text.data import data_dir

    archive = download_verified(G2PW_HF_REPO, G2PW_HF_FILE, None, on_progress, endpoint)
    return install_g2pw_zip(archive, data_dir())
