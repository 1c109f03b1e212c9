"""A tiny G2PW model folder with the real model's interface (files, six ONNX inputs), run by onnxruntime.

The 400 MB G2PW model cannot be obtained offline. :func:`build_tiny_g2pw` writes a model folder
with the same files (polyphone/monophone tables, bopomofo→pinyin table, config.py, an ONNX graph
whose "network" is a per-character score table) and a BERT tokenizer folder beside it, in the
layout of the frontend data folder. The table reads 行 as xing2 and 長 as chang2.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import transformers
from onnx import TensorProto, helper

POLYPHONES = [("一", "ㄧ1"), ("一", "ㄧ2"), ("行", "ㄏㄤ2"), ("行", "ㄒㄧㄥ2"),
              ("長", "ㄓㄤ3"), ("長", "ㄔㄤ2")]
BOPOMOFO = {"ㄧ": "yi", "ㄏㄤ": "hang", "ㄒㄧㄥ": "xing", "ㄓㄤ": "zhang", "ㄔㄤ": "chang",
            "ㄧㄣ": "yin", "ㄙ": "si"}


def _graph(path: Path, scores: np.ndarray) -> None:
    long_inputs = ["input_ids", "token_type_ids", "attention_mask"]
    inputs = [helper.make_tensor_value_info(n, TensorProto.INT64, ["N", "L"]) for n in long_inputs]
    inputs += [
        helper.make_tensor_value_info("phoneme_mask", TensorProto.FLOAT, ["N", scores.shape[1]]),
        helper.make_tensor_value_info("char_ids", TensorProto.INT64, ["N"]),
        helper.make_tensor_value_info("position_ids", TensorProto.INT64, ["N"]),
    ]
    table = helper.make_tensor("scores", TensorProto.FLOAT, scores.shape, scores.flatten())
    nodes = [
        helper.make_node("Gather", ["scores", "char_ids"], ["per_char"], axis=0),
        helper.make_node("Mul", ["per_char", "phoneme_mask"], ["probs"]),
    ]
    out = helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["N", scores.shape[1]])
    model = helper.make_model(helper.make_graph(nodes, "g2pw_like", inputs, [out], [table]),
                              opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(path))


def build_tiny_g2pw(root: Path) -> Path:
    """``root/G2PWModel`` and ``root/chinese-roberta-wwm-ext-large`` (its tokenizer); returns ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    folder = root / "G2PWModel"
    folder.mkdir()
    (folder / "POLYPHONIC_CHARS.txt").write_text(
        "\n".join(f"{c}\t{r}" for c, r in POLYPHONES) + "\n", encoding="utf-8")
    (folder / "MONOPHONIC_CHARS.txt").write_text("銀\tㄧㄣ2\n似\tㄙ4\n", encoding="utf-8")
    (folder / "bopomofo_to_pinyin_wo_tune_dict.json").write_text(
        json.dumps(BOPOMOFO, ensure_ascii=False), encoding="utf-8")
    (folder / "config.py").write_text("use_mask = True\nuse_char_phoneme = False\n"
                                      "model_source = 'bert-base-chinese'\n", encoding="utf-8")
    labels = sorted({r for _, r in POLYPHONES})  # the adapter's label order
    chars = sorted({c for c, _ in POLYPHONES})  # 一 counts, though it is never queried
    scores = np.full((len(chars), len(labels)), 0.1, dtype=np.float32)
    scores[chars.index("行"), labels.index("ㄒㄧㄥ2")] = 0.9  # model says xing2
    scores[chars.index("長"), labels.index("ㄔㄤ2")] = 0.8  # model says chang2 ...
    scores[chars.index("長"), labels.index("ㄒㄧㄥ2")] = 5.0  # ... a reading 長 lacks: masked
    _graph(folder / "g2pW.onnx", scores)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *"銀行長很好.,似乎一個"]
    tok = root / "chinese-roberta-wwm-ext-large"
    tok.mkdir()
    (tok / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    transformers.BertTokenizerFast(vocab_file=str(tok / "vocab.txt")).save_pretrained(str(tok))
    return root
