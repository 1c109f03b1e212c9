"""FunASR engine: Paraformer-zh with VAD and punctuation (the official "达摩 ASR"), the official
Cantonese UniASR model, SenseVoice (zh/en/ja/ko/yue) or Fun-ASR-Nano with VAD (the official
script's default; zh/en/ja/ko/yue, see :mod:`backend.asr.nano`).

The model follows the language when none is named: Paraformer-zh only knows Mandarin, so a
Cantonese run gets UniASR, as in the official script.

FunASR prints progress bars and download notices on stdout; as a job those land in the job's
log, and ``disable_update``/``disable_pbar`` keep the rest quiet.

Confidence: FunASR's ``generate`` returns text only, so Chinese clips had no score and the review
screen's "worst first" order was file order in disguise. Paraformer decodes greedily from the
log-probabilities its decoder computes (``cal_decoder_with_predictor``); :class:`TokenScores`
listens to that call and gives each clip the mean log-probability of its chosen tokens — the
same measure as Whisper's ``avg_logprob``, so the same flag threshold and sort apply. Fun-ASR-Nano
gets the same measure from its language model's step scores. SenseVoice (a CTC model) has no
such call; its clips stay without a score.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..infer.device import resolve_device
from . import nano
from .base import AsrError, AsrOptions, ClipResult, DownloadCallback
from .hub import hf_snapshots, modelscope_model

# name -> (ModelScope repo, revision); the revisions the official script pins
MODELS = {
    "paraformer-zh": ("iic/speech_paraformer-large_asr_nat-zh-cn-16k-common-vocab8404-pytorch", "v2.0.4"),
    "sensevoice": ("iic/SenseVoiceSmall", "master"),
    "uniasr-yue": ("iic/speech_UniASR_asr_2pass-cantonese-CHS-16k-common-vocab1468-tensorflow1-online",
                   "master"),
}

VAD_MODEL = ("iic/speech_fsmn_vad_zh-cn-16k-common-pytorch", "v2.0.4")
PUNC_MODEL = ("iic/punc_ct-transformer_zh-cn-common-vocab272727-pytorch", "v2.0.4")
DEFAULT_MODEL = "paraformer-zh"
DEFAULT_MODEL_FOR = {"yue": "uniasr-yue"}
SENSEVOICE_LANGS = ("zh", "en", "ja", "ko", "yue")
_TAG = re.compile(r"<\|([^|]*)\|>")


def model_languages(name: str) -> tuple[str, ...]:
    """Languages a FunASR model (a name of :data:`MODELS` or a local folder) transcribes."""
    lowered = name.lower()
    if "sensevoice" in lowered:
        return SENSEVOICE_LANGS
    if nano.is_nano(name):
        return nano.LANGUAGES
    if "uniasr" in lowered and "cantonese" in lowered or name == "uniasr-yue":
        return ("yue",)
    return ("zh",)  # Paraformer-zh


class TokenScores:
    """Per-utterance mean log-probability of the greedy tokens, recorded as Paraformer decodes."""

    def __init__(self, model: Any) -> None:
        self.calls: list[list[float | None]] = []  # one list per decoder call, one value per item
        inner: Any = getattr(model, "model", None)
        original: Any = getattr(inner, "cal_decoder_with_predictor", None)
        self.attached = callable(original)
        if not self.attached:
            self.attached = nano.attach_llm_scores(model, lambda values: self.calls.append(values))
            return

        def recording(encoder_out: Any, encoder_out_lens: Any, embeds: Any, token_lens: Any) -> Any:
            out = original(encoder_out, encoder_out_lens, embeds, token_lens)
            try:
                self.calls.append(_mean_best(out[0], token_lens))
            except Exception:  # noqa: BLE001 - a score is a nicety: never break recognition for it
                self.calls.append([])
            return out

        inner.cal_decoder_with_predictor = recording

    def reset(self) -> None:
        self.calls = []

    def per_clip(self, n: int) -> list[float | None]:
        """Scores for the ``n`` clips of the last generate call, in order, where they can be told
        apart: one clip (every decoder call was about it: VAD segments) or one value per clip."""
        if n == 1:
            pairs = [v for call in self.calls for v in call if v is not None]
            return [sum(pairs) / len(pairs) if pairs else None]
        flat = [v for call in self.calls for v in call]
        return flat if len(flat) == n else [None] * n


def _mean_best(log_probs: Any, token_lens: Any) -> list[float | None]:
    best = log_probs.max(dim=-1)[0]  # (batch, tokens): the greedy token's log-probability
    out: list[float | None] = []
    for i, length in enumerate(token_lens.tolist()):
        length = int(length)
        out.append(float(best[i, :length].mean()) if length > 0 else None)
    return out


class FunAsrEngine:
    name = "funasr"

    def __init__(self, opts: AsrOptions, on_download: DownloadCallback | None = None) -> None:
        self.opts = opts
        name = opts.model or DEFAULT_MODEL_FOR.get(opts.language, DEFAULT_MODEL)
        local = Path(name).expanduser()
        self.sensevoice = "sensevoice" in name.lower()
        self.nano = nano.is_nano(name)
        languages = model_languages(name)
        self.only_language = languages[0] if len(languages) == 1 else None
        if opts.language not in ("auto", *languages):
            raise AsrError(f"{Path(name).name} transcribes {'/'.join(languages)} only, not {opts.language!r}",
                           "use --engine faster-whisper, or --model sensevoice or fun-asr-nano (zh/en/ja/ko/yue), "
                           "or --model uniasr-yue (Cantonese)")
        kwargs: dict[str, Any] = {"disable_update": True, "device": resolve_device(opts.device),
                                  "log_level": "ERROR"}
        if self.nano:
            kwargs.update(self._nano_kwargs(local if local.is_dir() else None, on_download))
        elif local.is_dir():
            if not (local / "config.yaml").is_file() and not (local / "configuration.json").is_file():
                raise AsrError(f"{local} is not a FunASR model folder (no config.yaml)",
                               "give a folder downloaded from ModelScope, or a name like paraformer-zh")
            kwargs["model"] = str(local)
        elif name in MODELS:
            kwargs["model"] = modelscope_model(*MODELS[name], what=f"FunASR model {name}")
            if opts.vad:
                kwargs["vad_model"] = modelscope_model(*VAD_MODEL, what="FunASR VAD model")
            if name == DEFAULT_MODEL:
                kwargs["punc_model"] = modelscope_model(*PUNC_MODEL, what="FunASR punctuation model")
        else:
            raise AsrError(f"unknown FunASR model {name!r}",
                           f"use one of {', '.join((*MODELS, nano.NAME))} or the path of a local model folder")
        self.batched = "vad_model" not in kwargs and "punc_model" not in kwargs
        from funasr import AutoModel

        try:
            self.model = AutoModel(**kwargs)
        except (AssertionError, OSError) as e:  # FunASR's (and transformers') way of saying files are not there
            raise AsrError(f"FunASR could not load {kwargs['model']}: {e}",
                           "check the model folder, or download the model again") from None
        self.scores = TokenScores(self.model)

    def _nano_kwargs(self, folder: Path | None, on_download: DownloadCallback | None) -> dict[str, Any]:
        """Fun-ASR-Nano from a local folder, or the published model (+ FunASR's VAD, as the
        official loads them) through the Hugging Face cache; the folder's paths made absolute."""
        kwargs: dict[str, Any] = {"hub": "hf"}
        if folder is None:
            wanted = [(nano.REPO, f"FunASR model {nano.NAME}")]
            if self.opts.vad:
                wanted.append((nano.VAD_REPO, "FunASR VAD model"))
            folders = hf_snapshots(wanted, on_download)
            folder = folders[0]
            if self.opts.vad:
                kwargs["vad_model"] = str(folders[1])
        kwargs["model"] = str(folder)
        kwargs.update(nano.load_overrides(folder, on_download))
        return kwargs

    def transcribe(self, paths: list[Path]) -> Iterator[ClipResult]:
        size = max(1, self.opts.batch_size) if self.batched else 1
        for start in range(0, len(paths), size):
            batch = paths[start:start + size]
            try:
                outs = self._generate(batch)
            except Exception as e:
                if len(batch) == 1:
                    yield ClipResult(batch[0], error=f"recognition failed: {e}")
                    continue
                for p in batch:  # find the clip that broke the batch; the rest go on
                    try:
                        out = self._generate([p])[0]
                        yield self._result(p, out, self.scores.per_clip(1)[0])
                    except Exception as e1:
                        yield ClipResult(p, error=f"recognition failed: {e1}")
                continue
            scores = self.scores.per_clip(len(batch))
            for p, out, score in zip(batch, outs, scores):
                yield self._result(p, out, score)

    def _generate(self, batch: list[Path]) -> list[dict]:
        extra: dict[str, Any] = {"disable_pbar": True}
        if self.sensevoice:
            extra.update(language=self.opts.language, use_itn=True)
        inputs: Any = [str(p) for p in batch] if len(batch) > 1 else str(batch[0])
        self.scores.reset()
        outs = self.model.generate(input=inputs, batch_size=len(batch), **extra)
        if len(outs) != len(batch):
            raise RuntimeError(f"FunASR returned {len(outs)} results for {len(batch)} clips")
        return outs

    def _result(self, path: Path, out: dict, score: float | None = None) -> ClipResult:
        text = str(out.get("text", ""))
        language = self.opts.language
        if language == "auto" and self.only_language:
            language = self.only_language
        if self.nano and language == "auto":
            language = nano.AUTO_LANGUAGE  # the model reports no language
        if self.sensevoice:
            tags = _TAG.findall(text)
            if self.opts.language == "auto":
                language = next((t for t in tags if t in SENSEVOICE_LANGS), None) or "zh"
            text = _TAG.sub("", text)
        return ClipResult(path, text=text.strip(), language=language, avg_logprob=score)
