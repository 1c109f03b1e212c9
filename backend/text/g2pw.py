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

import json
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path

from backend.errors import GsvError
from backend.text.data import optional
from backend.text.zh_g2p import SentencePinyin

MODEL_DIR_NAME = "G2PWModel"
_MODEL_FILES = ("POLYPHONIC_CHARS.txt", "MONOPHONIC_CHARS.txt",
                "bopomofo_to_pinyin_wo_tune_dict.json")
_NOT_PREDICTED = set("一不和咋嗲剖差攢倒難奔勁拗肖瘙誒泊听噢")
_NOT_MONOPHONIC = set("似攢")
CONTEXT_CHARS = 16


class G2PWUnavailableError(GsvError):
    """The G2PW model files (or onnxruntime/opencc/tokenizer) are not installed."""


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


def model_dir() -> Path | None:
    """The G2PW model folder in the frontend data, if it is complete."""
    folder = optional(MODEL_DIR_NAME)
    if folder is None or not folder.is_dir():
        return None
    has_onnx = (folder / "g2pW.onnx").is_file() or (folder / "g2pw.onnx").is_file()
    if not has_onnx or not all((folder / name).is_file() for name in _MODEL_FILES):
        return None
    return folder


def _read_lines(path: Path) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


class G2PWModel:
    """The G2PW ONNX polyphone model (used only when its files are present).

    Inputs follow the official converter: the sentence is converted to Traditional
    characters (OpenCC s2tw), cropped to ``CONTEXT_CHARS`` characters around the
    polyphonic characters, tokenised one token per character with the Chinese BERT
    vocabulary, and one query per polyphonic character is scored against the readings
    allowed for that character. Characters outside the model's polyphone list take the
    monophonic table, else pypinyin's reading.

    Not yet checked against the real model files (they cannot be obtained offline here);
    the tested path is the post-model pipeline fed by :func:`recorded_pinyin`.
    """

    def __init__(self, folder: Path, tokenizer_dir: Path) -> None:
        try:
            import onnxruntime
            import opencc
            from transformers import AutoTokenizer
        except ImportError as exc:  # pragma: no cover - declared dependencies
            raise G2PWUnavailableError(f"G2PW needs {exc.name}", fix="pip install it") from exc
        onnx_path = folder / "g2pW.onnx"
        if not onnx_path.is_file():
            onnx_path = folder / "g2pw.onnx"
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 2
        self._session = onnxruntime.InferenceSession(str(onnx_path), options,
                                                     providers=["CPUExecutionProvider"])
        self._tokenizer = AutoTokenizer.from_pretrained(str(tokenizer_dir))
        self._to_traditional = opencc.OpenCC("s2tw").convert
        self._labels, self._char_readings = self._read_polyphones(folder)
        self._chars = sorted(self._char_readings)
        self._char_index = {c: i for i, c in enumerate(self._chars)}
        monophonic = {}
        for line in _read_lines(folder / "MONOPHONIC_CHARS.txt"):
            char, bopomofo = line.split("\t")[:2]
            if char not in _NOT_MONOPHONIC:
                monophonic[char] = bopomofo
        self._monophonic = monophonic
        self._bopomofo_to_pinyin = json.loads(
            (folder / "bopomofo_to_pinyin_wo_tune_dict.json").read_text(encoding="utf-8"))

    @staticmethod
    def _read_polyphones(folder: Path) -> tuple[list[str], dict[str, list[str]]]:
        pairs = [line.split("\t")[:2] for line in _read_lines(folder / "POLYPHONIC_CHARS.txt")]
        labels = sorted({reading for _, reading in pairs})
        by_char: dict[str, list[str]] = {}
        for char, reading in pairs:
            if char not in _NOT_PREDICTED:
                by_char.setdefault(char, []).append(reading)
        return labels, by_char

    def _bopomofo_to_tone3(self, bopomofo: str) -> str:
        tone = bopomofo[-1] if bopomofo[-1:] in "12345" else "5"
        base = bopomofo[:-1] if bopomofo[-1:] in "12345" else bopomofo
        return self._bopomofo_to_pinyin.get(base, base) + tone

    def _predict_sentence(self, traditional: str, positions: list[int]) -> dict[int, str]:
        import numpy as np

        first, last = positions[0], positions[-1]
        start = max(0, first - CONTEXT_CHARS)
        end = min(len(traditional), last + CONTEXT_CHARS + 1)
        window = traditional[start:end].lower()
        tokens = ["[CLS]"] + list(window) + ["[SEP]"]
        ids = self._tokenizer.convert_tokens_to_ids(tokens)
        count = len(positions)
        input_ids = np.tile(np.array(ids, dtype=np.int64), (count, 1))
        mask = np.ones_like(input_ids)
        type_ids = np.zeros_like(input_ids)
        phoneme_mask = np.zeros((count, len(self._labels)), dtype=np.float32)
        char_ids = np.zeros(count, dtype=np.int64)
        position_ids = np.zeros(count, dtype=np.int64)
        for row, pos in enumerate(positions):
            char = traditional[pos]
            for reading in self._char_readings[char]:
                phoneme_mask[row, self._labels.index(reading)] = 1.0
            char_ids[row] = self._char_index[char]
            position_ids[row] = pos - start + 1
        (probs,) = self._session.run(None, {
            "input_ids": input_ids, "token_type_ids": type_ids, "attention_mask": mask,
            "phoneme_mask": phoneme_mask, "char_ids": char_ids, "position_ids": position_ids,
        })
        return {pos: self._labels[int(np.argmax(probs[row]))]
                for row, pos in enumerate(positions)}

    def __call__(self, segments: list[str]) -> list[list[str]]:
        out = []
        for segment in segments:
            fallback = pypinyin_sentence_pinyin([segment])[0]
            traditional = self._to_traditional(segment)
            if len(traditional) != len(segment):
                out.append(fallback)
                continue
            positions = [i for i, c in enumerate(traditional) if c in self._char_readings]
            predicted = self._predict_sentence(traditional, positions) if positions else {}
            readings = []
            for i, char in enumerate(traditional):
                if i in predicted:
                    readings.append(self._bopomofo_to_tone3(predicted[i]))
                elif char in self._monophonic:
                    readings.append(self._bopomofo_to_tone3(self._monophonic[char]))
                else:
                    readings.append(fallback[i])
            out.append(readings)
        return out


@lru_cache(maxsize=1)
def installed_model() -> SentencePinyin | None:
    """The G2PW model when its files and the BERT tokenizer are present, else None."""
    folder = model_dir()
    tokenizer_dir = optional("chinese-roberta-wwm-ext-large")
    if folder is None or tokenizer_dir is None:
        return None
    return G2PWModel(folder, tokenizer_dir)
