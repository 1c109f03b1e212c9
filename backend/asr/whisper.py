"""faster-whisper (CTranslate2) engine.

Two paths, chosen per run:

- **batched** (language fixed, ``batch_size > 1``): clips are laid end to end and handed to
  faster-whisper's batched pipeline with one clip per chunk (``clip_timestamps``), so the encoder
  and the beam search run on ``batch_size`` clips at once. Sliced clips are short (one 30 s window
  each), which is exactly the case where batching across files pays.
- **one at a time** (language ``auto``, or ``batch_size == 1``): the official path — each clip
  transcribed alone with the VAD filter (700 ms minimum silence, as the official script), and its
  language detected. Needed for auto because the batched pipeline does not report per-chunk languages.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ..infer.device import resolve_device
from .base import AsrError, AsrOptions, ClipResult, DownloadCallback
from .hub import hf_snapshot

SAMPLE_RATE = 16000
MODEL_REPOS = {
    "medium": "Systran/faster-whisper-medium",
    "medium.en": "Systran/faster-whisper-medium.en",
    "large-v2": "Systran/faster-whisper-large-v2",
    "large-v3": "Systran/faster-whisper-large-v3",
    "large-v3-turbo": "mobiuslabsgmbh/faster-whisper-large-v3-turbo",
}
DEFAULT_MODEL = "large-v3"
PRECISIONS = ("float16", "float32", "int8")
MAX_CHUNK_S = 30.0


def default_precision(device: str) -> str:
    """float16 on a GPU; int8 on the CPU (CTranslate2's int8 is ~3x faster there at no real loss)."""
    return "float16" if device.startswith("cuda") else "int8"


def model_folder(model: str | None, progress: DownloadCallback | None = None) -> Path:
    name = model or DEFAULT_MODEL
    path = Path(name).expanduser()
    if path.is_dir():
        if not (path / "model.bin").is_file():
            raise AsrError(f"{path} is not a CTranslate2 Whisper model folder (no model.bin)",
                           "give a folder converted with ct2-transformers-converter, or a size like large-v3")
        return path
    if name not in MODEL_REPOS:
        raise AsrError(f"unknown faster-whisper model {name!r}",
                       f"use one of {', '.join(MODEL_REPOS)} or the path of a local model folder")
    return hf_snapshot(MODEL_REPOS[name], f"faster-whisper model {name}", progress)


class WhisperEngine:
    name = "faster-whisper"

    def __init__(self, opts: AsrOptions, on_download: DownloadCallback | None = None) -> None:
        from faster_whisper import WhisperModel

        self.opts = opts
        if opts.precision is not None and opts.precision not in PRECISIONS:
            raise AsrError(f"unknown precision {opts.precision!r}", f"use one of {', '.join(PRECISIONS)}")
        folder = model_folder(opts.model, on_download)
        self.device = resolve_device(opts.device)
        compute = opts.precision or default_precision(self.device)
        try:
            self.model = WhisperModel(str(folder), device=self.device, compute_type=compute)
        except ValueError as e:  # e.g. float16 requested on a CPU without fp16 support
            raise AsrError(f"cannot load {folder} as {compute} on {self.device}: {e}",
                           "choose another --precision (int8 or float32 on the CPU)") from None
        if opts.language not in ("auto", "en") and not self.model.model.is_multilingual:
            raise AsrError(f"{folder.name} is an English-only model; it cannot transcribe {opts.language!r}",
                           "use a multilingual model such as large-v3")

    # ------------------------------------------------------------------------------------
    def transcribe(self, paths: list[Path]) -> Iterator[ClipResult]:
        if self.opts.language != "auto" and self.opts.batch_size > 1:
            for start in range(0, len(paths), self.opts.batch_size):
                yield from self._batch(paths[start:start + self.opts.batch_size])
        else:
            for p in paths:
                yield self._one(p)

    def _one(self, path: Path) -> ClipResult:
        from faster_whisper.audio import decode_audio

        try:
            audio = decode_audio(str(path), sampling_rate=SAMPLE_RATE)
        except Exception as e:
            return ClipResult(path, error=f"cannot read audio: {e}")
        language = None if self.opts.language == "auto" else self.opts.language
        segments, info = self.model.transcribe(
            audio, language=language, beam_size=self.opts.beam_size, vad_filter=self.opts.vad,
            vad_parameters={"min_silence_duration_ms": 700} if self.opts.vad else None)
        segs = list(segments)
        return _combine(path, segs, info.language)

    def _batch(self, paths: list[Path]) -> Iterator[ClipResult]:
        import numpy as np
        from faster_whisper import BatchedInferencePipeline
        from faster_whisper.audio import decode_audio

        pieces, spans, results = [], [], {}
        offset = 0
        for p in paths:
            try:
                audio = decode_audio(str(p), sampling_rate=SAMPLE_RATE)
            except Exception as e:
                results[p] = ClipResult(p, error=f"cannot read audio: {e}")
                continue
            if len(audio) == 0:
                results[p] = ClipResult(p, error="empty audio")
                continue
            # a clip longer than one window is split into 30 s pieces, each its own chunk
            step = int(MAX_CHUNK_S * SAMPLE_RATE)
            for s in range(0, len(audio), step):
                part = audio[s:s + step]
                spans.append((p, (offset + s) / SAMPLE_RATE, (offset + s + len(part)) / SAMPLE_RATE))
            pieces.append(audio)
            offset += len(audio)
        if pieces:
            pipeline = BatchedInferencePipeline(self.model)
            segments, _ = pipeline.transcribe(
                np.concatenate(pieces), language=self.opts.language, beam_size=self.opts.beam_size,
                vad_filter=False, batch_size=self.opts.batch_size,
                clip_timestamps=[{"start": s, "end": e} for _, s, e in spans])
            by_clip: dict[Path, list] = {}
            for seg in segments:
                owner = min(spans, key=lambda sp: abs(sp[1] - seg.start))[0]
                by_clip.setdefault(owner, []).append(seg)
            for p in dict.fromkeys(sp[0] for sp in spans):
                results[p] = _combine(p, by_clip.get(p, []), self.opts.language)
        for p in paths:
            yield results[p]


def _combine(path: Path, segs: list, language: str | None) -> ClipResult:
    """One clip's segments as one transcript line: texts joined without separators (as official),
    the mean log-probability weighted by segment length, the worst no-speech and compression."""
    if not segs:
        return ClipResult(path, text="", language=language, no_speech_prob=1.0)
    weights = [max(s.end - s.start, 1e-3) for s in segs]
    total = sum(weights)
    return ClipResult(
        path,
        text="".join(s.text for s in segs).strip(),
        language=language,
        avg_logprob=sum(s.avg_logprob * w for s, w in zip(segs, weights)) / total,
        no_speech_prob=max(s.no_speech_prob for s in segs),
        compression_ratio=max(s.compression_ratio for s in segs),
    )
