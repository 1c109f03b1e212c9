"""The work of each formatting step on one item, as the official scripts do it.

A step is a :class:`Step` (what an item's output depends on, whether it is there) and a worker
(models loaded once per process on one device, then ``process(item) -> journal entry``). Workers
never raise for one bad item: they return an entry with ``skip`` and the reason, so one unreadable
clip never stops a batch. Models and torch are imported inside the workers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import GsvError
from ..text.zh_readings import RECORDED, ZhReadings, needs_g2pw
from . import layout
from .items import FormatItem
from .journal import Entry, digest, file_fingerprint

SAMPLE_RATE = 32000
MIN_SECONDS, MAX_SECONDS = 0.6, 54.0  # the SoVITS trainer keeps 0.6 < d < 54 s (GPT drops > 54 s)
MAX_PEAK = 2.2  # the official HuBERT step drops clips louder than this ("filtered")
_WAV_MAX, _WAV_ALPHA, _WAV_SCALE = 0.95, 0.5, 32768.0
_NOT_SPOKEN = {"!", "?", "\u2026", ",", ".", "-", "SP", "SP2", "SP3", "UNK", "_"}


class StepUnavailableError(GsvError):
    """A step cannot run in this installation (a model or its code is missing)."""


@dataclass
class StepConfig:
    """Everything a worker needs, picklable (it crosses into worker processes)."""

    exp: Path
    version: str
    bert_dir: Path | None = None
    hubert_dir: Path | None = None
    s2g_path: Path | None = None
    sv_path: Path | None = None
    half: bool = False  # fp16 on GPU, as the official scripts do when is_half
    threads: int | None = None  # torch CPU threads per worker
    # recorded Chinese polyphone readings [{"sentences": [...], "pinyin": [[...]]}] replayed instead
    # of the model (tests, checks)
    pinyin_calls: list[dict[str, Any]] | None = None
    # v2+ Chinese readings decided once per run (G2PW, or pypinyin when the user allowed it);
    # None when no clip needs them (or recorded calls replace the model)
    zh_readings: ZhReadings | None = None
    ssl_hashes: dict[str, str] = field(default_factory=dict)  # key -> ssl hash (sv/semantic inputs)
    model_ids: dict[str, Any] = field(default_factory=dict)  # role -> file_fingerprint, taken once per run

    def model_id(self, role: str) -> Any:
        if role not in self.model_ids:
            path = {"bert": self.bert_dir, "hubert": self.hubert_dir, "s2G": self.s2g_path, "sv": self.sv_path}[role]
            self.model_ids[role] = file_fingerprint(path)
        return self.model_ids[role]


def wav32k_int16(x: np.ndarray) -> np.ndarray:
    """The official 5-wav32k mix: ``x/peak·(0.95·0.5·32768) + 0.5·32768·x`` in float32, truncated."""
    x = np.asarray(x, dtype=np.float32)
    peak = np.abs(x).max()
    mixed = x / peak * np.float32(_WAV_MAX * _WAV_ALPHA * _WAV_SCALE) + np.float32((1 - _WAV_ALPHA) * _WAV_SCALE) * x
    return mixed.astype(np.int16)


# --- hashes: what each step's output depends on ----------------------------------------------

def readings_source(item: FormatItem, cfg: StepConfig) -> str | None:
    """What the item's Chinese polyphones are read with (None: not v2+ Chinese)."""
    if not needs_g2pw(item.language, layout.text_version(cfg.version)):
        return None
    if cfg.pinyin_calls is not None:
        return RECORDED
    return cfg.zh_readings.source if cfg.zh_readings is not None else None


def text_hash(item: FormatItem, cfg: StepConfig) -> str:
    """Phones change with the readings' source, so text read with pypinyin is redone once G2PW is there."""
    bert = cfg.model_id("bert") if item.language == "zh" else None
    return digest("text", item.language, item.text, layout.text_version(cfg.version), bert,
                  readings_source(item, cfg))


def audio_fingerprint(path: Path) -> list[Any]:
    st = Path(path).stat()
    return [str(Path(path).resolve()), st.st_size, st.st_mtime_ns]


def ssl_hash(item: FormatItem, cfg: StepConfig) -> str:
    return digest("ssl", audio_fingerprint(item.audio), cfg.model_id("hubert"))


def sv_hash(item: FormatItem, cfg: StepConfig) -> str:
    return digest("sv", cfg.ssl_hashes.get(item.key), cfg.model_id("sv"))


def semantic_hash(item: FormatItem, cfg: StepConfig) -> str:
    return digest("semantic", cfg.ssl_hashes.get(item.key), cfg.model_id("s2G"))


def outputs_present(step: str, key: str, entry: Entry, exp: Path) -> bool:
    """Whether the files an ok entry stands for are still on disk."""
    if step == "text":
        return not entry.get("bert") or layout.bert_path(exp, key).is_file()
    if step == "ssl":
        return layout.hubert_path(exp, key).is_file() and layout.wav32k_path(exp, key).is_file()
    if step == "sv":
        return layout.sv_path(exp, key).is_file()
    return True


# --- workers -----------------------------------------------------------------------------------

def _torch_setup(cfg: StepConfig, device: str) -> Any:
    import torch

    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    half = cfg.half and device.startswith("cuda")
    return torch.float16 if half else torch.float32


def _skip(item: FormatItem, h: str, reason: str) -> Entry:
    return {"key": item.key, "hash": h, "skip": reason}


class TextWorker:
    """1-get-text: clean_text (after the official ``%``→``-``, ``￥``→``,``) and zh BERT features."""

    def __init__(self, cfg: StepConfig, device: str) -> None:
        self.cfg = cfg
        self.device = device
        self.dtype = _torch_setup(cfg, device)
        self._bert: Any = None
        from ..text.cleaner import REQUIRE_G2PW

        self.pinyin: Any = REQUIRE_G2PW  # never a silent pypinyin fallback
        if cfg.pinyin_calls is not None:
            from ..text.g2pw import recorded_pinyin

            self.pinyin = recorded_pinyin(cfg.pinyin_calls)
        elif cfg.zh_readings is not None:
            self.pinyin = cfg.zh_readings.sentence_pinyin()

    def bert(self) -> Any:
        if self._bert is None:  # loaded on the first Chinese item only
            import torch

            from ..text.bert import ChineseBert

            if self.cfg.bert_dir is None:
                raise StepUnavailableError("no Chinese BERT model given", "run `gsv models fetch` first")
            self._bert = ChineseBert.load(Path(self.cfg.bert_dir), self.device, half=self.dtype == torch.float16)
        return self._bert

    def process(self, item: FormatItem, h: str) -> Entry:
        from ..text.bert import chinese_features
        from ..text.cleaner import clean_text

        text = item.text.replace("%", "-").replace("￥", ",")
        try:
            phones, word2ph, norm = clean_text(text, item.language, layout.text_version(self.cfg.version),
                                               sentence_pinyin=self.pinyin)
        except GsvError as e:
            return _skip(item, h, f"text: {e.message}")
        if not any(p not in _NOT_SPOKEN for p in phones):
            return _skip(item, h, f"empty phones: nothing to pronounce in {item.text!r}")
        has_bert = item.language == "zh"
        if has_bert:
            assert word2ph is not None, "the Chinese frontend always gives word2ph"
            feats = chinese_features(self.bert(), norm, word2ph)
            if feats.shape[-1] != len(phones):
                return _skip(item, h, f"BERT features ({feats.shape[-1]}) do not match the phones ({len(phones)})")
            layout.save_tensor(layout.bert_path(self.cfg.exp, item.key), feats)
        return {"key": item.key, "hash": h, "ok": True, "bert": has_bert,
                "line": layout.name2text_line(item.key, phones, word2ph, norm)}


class SslWorker:
    """2-get-hubert-wav32k: the 32 kHz training wav and HuBERT features of the same mix."""

    def __init__(self, cfg: StepConfig, device: str) -> None:
        from ..models.ssl import ContentEncoder

        self.cfg = cfg
        dtype = _torch_setup(cfg, device)
        if cfg.hubert_dir is None:
            raise StepUnavailableError("no HuBERT model given", "run `gsv models fetch` first")
        self.encoder = ContentEncoder.from_pretrained(cfg.hubert_dir, device, dtype)

    def process(self, item: FormatItem, h: str) -> Entry:
        import torch

        from ..audio.io import AudioError, load_audio, save_wav_int16
        from ..models.ssl import training_input

        try:
            x = load_audio(item.audio, SAMPLE_RATE).samples
        except AudioError as e:
            return _skip(item, h, f"audio unreadable: {e.why}")
        seconds = len(x) / SAMPLE_RATE
        if not MIN_SECONDS < seconds < MAX_SECONDS:
            return _skip(item, h, f"{'too short' if seconds <= MIN_SECONDS else 'too long'} for training "
                                  f"({seconds:.2f} s; the trainers keep {MIN_SECONDS}–{MAX_SECONDS:g} s)")
        peak = float(np.abs(x).max())
        if peak == 0:
            return _skip(item, h, "silent audio")
        if peak > MAX_PEAK:
            return _skip(item, h, f"audio peak {peak:.2f} above {MAX_PEAK} (the official filter)")
        feats = self.encoder(training_input(x))
        if torch.isnan(feats).any():
            return _skip(item, h, "HuBERT features are NaN")
        if self.encoder.dtype == torch.float16:
            feats = feats.half()
        layout.save_tensor(layout.hubert_path(self.cfg.exp, item.key), feats)
        layout.wav32k_path(self.cfg.exp, item.key).parent.mkdir(parents=True, exist_ok=True)
        save_wav_int16(layout.wav32k_path(self.cfg.exp, item.key), wav32k_int16(x), SAMPLE_RATE, durable=False)
        return {"key": item.key, "hash": h, "ok": True, "seconds": round(seconds, 4)}


class SvWorker:
    """2-get-sv (v2Pro/v2ProPlus): ERes2NetV2 speaker embedding ``[1, 20480]`` of the 5-wav32k clip
    (read as int16/32768 like torchaudio, resampled to 16 kHz inside the encoder)."""

    def __init__(self, cfg: StepConfig, device: str) -> None:
        from ..models.sv import SpeakerEncoder

        self.cfg = cfg
        self.dtype = _torch_setup(cfg, device)
        if cfg.sv_path is None:
            raise StepUnavailableError("no speaker-verification model given", "run `gsv models fetch v2Pro` first")
        self.encoder = SpeakerEncoder.from_checkpoint(cfg.sv_path, device, self.dtype)

    def process(self, item: FormatItem, h: str) -> Entry:
        import soundfile as sf
        import torch

        path = layout.wav32k_path(self.cfg.exp, item.key)
        try:
            data, sr = sf.read(str(path), dtype="int16")
        except (OSError, RuntimeError) as e:  # soundfile raises LibsndfileError (a RuntimeError)
            return _skip(item, h, f"5-wav32k unreadable (run the ssl step): {e}")
        if sr != SAMPLE_RATE:
            return _skip(item, h, f"5-wav32k is {sr} Hz, not {SAMPLE_RATE}")
        wav = torch.from_numpy(data.astype(np.float32) / 32768.0)
        emb = self.encoder(wav, sample_rate=SAMPLE_RATE)
        layout.save_tensor(layout.sv_path(self.cfg.exp, item.key), emb.to(self.dtype))
        return {"key": item.key, "hash": h, "ok": True}


class SemanticWorker:
    """3-get-semantic: tokens of the base SoVITS model's quantizer on the 4-cnhubert features."""

    def __init__(self, cfg: StepConfig, device: str) -> None:
        from ..models import load_sovits

        self.cfg = cfg
        self.device = device
        self.dtype = _torch_setup(cfg, device)
        if cfg.s2g_path is None:
            raise StepUnavailableError("no base SoVITS model given", "run `gsv models fetch` first")
        self.model = load_sovits(cfg.s2g_path, device=device, dtype=self.dtype)

    def process(self, item: FormatItem, h: str) -> Entry:
        import torch

        from ..models.safe_pickle import load_checkpoint

        path = layout.hubert_path(self.cfg.exp, item.key)
        if not path.is_file():
            return _skip(item, h, "no HuBERT features (run the ssl step)")
        ssl = load_checkpoint(path)
        with torch.inference_mode():
            codes = self.model.extract_latent(ssl.to(self.device, self.dtype))
        return {"key": item.key, "hash": h, "ok": True,
                "line": layout.semantic_line(item.key, codes[0, 0].tolist())}


@dataclass(frozen=True)
class Step:
    name: str
    worker: type
    hash_fn: Any
    unit: str = "clips"


STEPS: dict[str, Step] = {
    "text": Step("text", TextWorker, text_hash),
    "ssl": Step("ssl", SslWorker, ssl_hash),
    "sv": Step("sv", SvWorker, sv_hash),
    "semantic": Step("semantic", SemanticWorker, semantic_hash),
}
