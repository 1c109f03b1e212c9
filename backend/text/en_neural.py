"""Neural reading of English words missing from every dictionary.

The official frontend reads out-of-vocabulary words with g2p_en's small GRU
encoder-decoder (``checkpoint20.npz``, shipped in the g2p_en wheel). We run the same weights
with our own numpy code: greedy decoding, at most 20 phonemes, float32 throughout so that
the argmax picks match the reference implementation.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from backend.text.en_data import g2p_en_asset

GRAPHEMES: tuple[str, ...] = ("<pad>", "<unk>", "</s>", *"abcdefghijklmnopqrstuvwxyz")
PHONEMES: tuple[str, ...] = (
    "<pad>", "<unk>", "<s>", "</s>",
    "AA0", "AA1", "AA2", "AE0", "AE1", "AE2", "AH0", "AH1", "AH2", "AO0", "AO1", "AO2",
    "AW0", "AW1", "AW2", "AY0", "AY1", "AY2", "B", "CH", "D", "DH", "EH0", "EH1", "EH2",
    "ER0", "ER1", "ER2", "EY0", "EY1", "EY2", "F", "G", "HH", "IH0", "IH1", "IH2", "IY0",
    "IY1", "IY2", "JH", "K", "L", "M", "N", "NG", "OW0", "OW1", "OW2", "OY0", "OY1", "OY2",
    "P", "R", "S", "SH", "T", "TH", "UH0", "UH1", "UH2", "UW", "UW0", "UW1", "UW2", "V", "W",
    "Y", "Z", "ZH",
)
_GRAPHEME_INDEX = {g: i for i, g in enumerate(GRAPHEMES)}
_UNKNOWN_GRAPHEME = _GRAPHEME_INDEX["<unk>"]
_START, _END = PHONEMES.index("<s>"), PHONEMES.index("</s>")
MAX_PHONEMES = 20


@dataclass(frozen=True)
class _Gru:
    w_ih: np.ndarray  # (3H, in)  gates r, z, n
    w_hh: np.ndarray  # (3H, H)
    b_ih: np.ndarray
    b_hh: np.ndarray

    def step(self, x: np.ndarray, h: np.ndarray) -> np.ndarray:
        gi = x @ self.w_ih.T + self.b_ih
        gh = h @ self.w_hh.T + self.b_hh
        split = gi.shape[-1] * 2 // 3
        rz = 1 / (1 + np.exp(-(gi[:, :split] + gh[:, :split])))
        r, z = np.split(rz, 2, -1)
        n = np.tanh(gi[:, split:] + r * gh[:, split:])
        return (1 - z) * n + z * h


@dataclass(frozen=True)
class NeuralG2p:
    enc_emb: np.ndarray
    encoder: _Gru
    dec_emb: np.ndarray
    decoder: _Gru
    fc_w: np.ndarray
    fc_b: np.ndarray

    def predict(self, word: str) -> list[str]:
        """ARPAbet phonemes for a lower-case word (no stress-less filtering here)."""
        ids = [_GRAPHEME_INDEX.get(char, _UNKNOWN_GRAPHEME) for char in word] + [
            _GRAPHEME_INDEX["</s>"]
        ]
        h = np.zeros((1, self.encoder.w_hh.shape[1]), np.float32)
        for index in ids:
            h = self.encoder.step(self.enc_emb[[index]], h).astype(np.float32)
        previous = _START
        out: list[str] = []
        for _ in range(MAX_PHONEMES):
            h = self.decoder.step(self.dec_emb[[previous]], h)
            logits = h @ self.fc_w.T + self.fc_b
            previous = int(logits.argmax())
            if previous == _END:
                break
            out.append(PHONEMES[previous] if previous < len(PHONEMES) else "<unk>")
        return out


@lru_cache(maxsize=1)
def neural_g2p() -> NeuralG2p:
    with np.load(g2p_en_asset("checkpoint20.npz")) as weights:
        w = {key: weights[key] for key in weights.files}
    return NeuralG2p(
        enc_emb=w["enc_emb"],
        encoder=_Gru(w["enc_w_ih"], w["enc_w_hh"], w["enc_b_ih"], w["enc_b_hh"]),
        dec_emb=w["dec_emb"],
        decoder=_Gru(w["dec_w_ih"], w["dec_w_hh"], w["dec_b_ih"], w["dec_b_hh"]),
        fc_w=w["fc_w"],
        fc_b=w["fc_b"],
    )
