"""The TTS pipeline: reference + text in, speech out (the official classic/fast inference flow).

1. Reference: the main clip (3–10 s rule) gives the GPT prompt — HuBERT features of the
   16 kHz clip plus 0.6 s of zeros, quantised by the SoVITS ``extract_latent`` — and, with any
   extra clips, the reference spectrograms whose timbre vectors SoVITS averages (v2Pro and
   v2ProPlus add each clip's speaker-verification embedding to its timbre vector).
2. Text: the reference text becomes the prompt phones (none: ref-free mode); the target text
   is cut by the chosen method into pieces, each with per-segment phones and BERT features.
3. GPT: for each piece, prompt phones + piece phones and the prompt tokens → new semantic
   tokens, with the official sampler (top_k 15, top_p 1, temperature 1, repetition penalty
   1.35). Pieces are generated in batches sharing the prompt (``batch_size``); one piece at a
   time when there is no prompt, as officially.
4. SoVITS: each piece's tokens + its own phones + the reference spectrogram(s) → waveform at
   ``speed``; peak-limited to 1; followed by ``pause`` seconds of silence.
5. Concatenation at the version's sample rate; :meth:`SynthesisResult.int16` gives the
   official ×32767 16-bit samples.

Finished pieces are handed to ``on_piece`` as soon as they are decoded (in order), so a
caller can stream them. The random seed is set once before generation (``-1`` draws one and
reports it), so a result can be regenerated exactly on the same device.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .errors import InferenceError, ReferenceAudioError
from .models import ModelSet
from .params import MAX_TOKENS, SynthesisParams
from .reference import Reference, load_reference, spectrogram_input
from .text import TextPiece, prompt_piece, target_pieces

EARLY_STOP_NUM = 50 * 54  # the official hz · max_sec; in practice only EOS or the step cap stop
PYPINYIN_WARNING = ("Chinese polyphones were read with pypinyin (allowed): without the G2PW model they can differ "
                    "from the official WebUI — `gsv models fetch v2` gets it")
REF_FREE_WARNING = ("no reference text: ref-free mode. The official guide warns that quality is clearly "
                    "lower without it — give the reference clip's exact text for the best result.")

ProgressFn = Callable[[int, int, str], None]
PieceFn = Callable[[int, np.ndarray, int], None]


@dataclass
class PieceInfo:
    index: int
    text: str
    langs: list[str]
    phones: int
    tokens: int
    seconds: float


@dataclass
class Timings:
    text_s: float = 0.0
    reference_s: float = 0.0
    gpt_s: float = 0.0
    gpt_tokens: int = 0
    sovits_s: float = 0.0

    @property
    def gpt_tokens_per_s(self) -> float:
        return self.gpt_tokens / self.gpt_s if self.gpt_s > 0 else 0.0


@dataclass
class Prepared:
    """What :meth:`Synthesizer.prepare` gives every renderer."""

    prompt: Any  # the reference prompt (_Prompt)
    pieces: list[TextPiece]
    readings: str | None  # what v2+ Chinese was read with (g2pw, pypinyin); None: no Chinese


@dataclass
class SynthesisResult:
    audio: np.ndarray  # float32 mono in [-1, 1]
    sample_rate: int
    seed: int
    pieces: list[PieceInfo] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    timings: Timings = field(default_factory=Timings)
    ref_window: tuple[float, float] | None = None
    zh_readings: str | None = None  # what v2+ Chinese was read with (g2pw, pypinyin); None: no Chinese

    @property
    def duration(self) -> float:
        return len(self.audio) / self.sample_rate

    def int16(self) -> np.ndarray:
        """The official output conversion: ×32767, clipped, 16-bit."""
        return (np.clip(self.audio, -1.0, 1.0) * 32767).astype(np.int16)

    def save(self, path: Any) -> None:
        from backend.audio.io import save_wav_int16

        save_wav_int16(path, self.int16(), self.sample_rate)


@dataclass
class _Prompt:
    tokens: Any | None  # [1, Tp] long, None in ref-free mode
    piece: TextPiece | None
    refer: list[Any]  # spectrograms [1, 1025, T] in the model dtype
    main: Reference
    sv: list[Any] | None = None  # v2Pro: one [1, 20480] speaker embedding per reference


def _seed_everything(seed: int) -> int:
    import torch

    if seed < 0:
        seed = random.randint(0, 2**32 - 1)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
    return seed


class Synthesizer:
    """Runs :class:`SynthesisParams` on a loaded :class:`ModelSet` (reuse it for many requests)."""

    batched_single_piece = False
    """True: a batch of one piece also goes through the batched decoder, as the official
    ``TTS.run`` (api_v2, the fast UI) does with ``parallel_infer``; False: the classic UI's path."""

    def __init__(self, models: ModelSet, max_tokens: int = MAX_TOKENS,
                 fetch_progress: Callable[[str, int, int | None], None] | None = None) -> None:
        self.models = models
        self.max_tokens = max_tokens
        self.fetch_progress = fetch_progress  # bytes of a G2PW download (v2+ Chinese, model missing, online)

    def cleaner(self, p: SynthesisParams) -> Any:
        """The text frontend for one request: G2PW for v2+ Chinese (fetched when missing and online),
        pypinyin only when ``p.allow_pypinyin``; otherwise a named error with the fetch command."""
        from backend.text.zh_readings import ReadingsCleaner

        return ReadingsCleaner(p.allow_pypinyin, on_progress=self.fetch_progress)

    # --- parts ----------------------------------------------------------------------------
    def spectrogram(self, ref: Reference) -> Any:
        import torch

        from backend.models.mel import spectrogram

        m = self.models
        y = torch.from_numpy(np.ascontiguousarray(spectrogram_input(ref.wav32k), dtype=np.float32))[None]
        return spectrogram(y.to(m.placement.device)).to(m.placement.dtype)

    def speaker_embedding(self, ref: Reference) -> Any:
        """v2Pro/v2ProPlus: the ERes2NetV2 embedding of the reference as SoVITS hears it (32 kHz → 16 kHz)."""
        import torch

        m = self.models
        wav = torch.from_numpy(np.ascontiguousarray(spectrogram_input(ref.wav32k), dtype=np.float32))
        return m.speaker()(wav, sample_rate=32000).to(m.placement.device, m.placement.dtype)

    def prompt_tokens(self, ref: Reference) -> Any:
        """HuBERT features of the reference (+ the official tail of zeros) → semantic codes ``[1, Tp]``."""
        from backend.models.ssl import inference_input

        m = self.models
        ssl = m.hubert()(inference_input(ref.wav16k))
        codes = m.sovits.extract_latent(ssl.to(m.placement.device, m.placement.dtype))
        return codes[0, 0][None].long()

    def text_pieces(self, p: SynthesisParams, clean: Any = None) -> list[TextPiece]:
        m = self.models
        return target_pieces(p.text, p.lang, p.cut, m.symbol_version, m.bert, m.placement.dtype, m.placement.device,
                             clean if clean is not None else self.cleaner(p))

    def _prompt(self, p: SynthesisParams, warnings: list[str], clean: Any) -> _Prompt:
        m = self.models
        if not p.ref:
            raise ReferenceAudioError("no reference clip given", fix="give a 3–10 s recording of the voice (--ref)")
        main = load_reference(p.ref, p.trim_ref)
        refs = [main] + [load_reference(a, check=False) for a in p.aux_refs]
        refer = [self.spectrogram(r) for r in refs]
        sv = [self.speaker_embedding(r) for r in refs] if m.needs_speaker else None
        piece = prompt_piece(p.ref_text, p.ref_lang, m.symbol_version, m.bert, m.placement.dtype,
                             m.placement.device, clean)
        if piece is None:
            warnings.append(REF_FREE_WARNING)
            return _Prompt(None, None, refer, main, sv)
        return _Prompt(self.prompt_tokens(main), piece, refer, main, sv)

    def _generate(self, prompt: _Prompt, batch: list[TextPiece], p: SynthesisParams) -> list[Any]:
        """Semantic tokens (1-D, prompt removed as the official callers do) per piece of ``batch``."""
        import torch

        from backend.models.gpt import SamplingParams
        from backend.models.gpt.inference import generate, generate_batch

        m = self.models
        dev = m.placement.device
        sampling = SamplingParams(top_k=p.top_k, top_p=p.top_p, temperature=p.temperature,
                                  repetition_penalty=p.repetition_penalty)
        head_ids = prompt.piece.ids if prompt.piece else []
        head_bert = prompt.piece.bert if prompt.piece else None

        def inputs(piece: TextPiece) -> tuple[Any, Any]:
            ids = torch.tensor(head_ids + piece.ids, dtype=torch.long, device=dev)
            bert = piece.bert if head_bert is None else torch.cat([head_bert, piece.bert], dim=1)
            return ids, bert

        with torch.inference_mode():
            if prompt.tokens is None or (len(batch) == 1 and not self.batched_single_piece):
                out = []
                for piece in batch:
                    ids, bert = inputs(piece)
                    g = generate(m.gpt, ids[None], prompt.tokens, bert[None], sampling, EARLY_STOP_NUM,
                                 max_steps=self.max_tokens)
                    out.append(g.decoder_tokens[0])
                return out
            pairs = [inputs(piece) for piece in batch]
            g = generate_batch(m.gpt, [a for a, _ in pairs], prompt.tokens, [b for _, b in pairs], sampling,
                               EARLY_STOP_NUM, max_steps=self.max_tokens)
            return [t[-i:] if i else t for t, i in zip(g.tokens, g.idx)]

    def _decode(self, tokens: Any, piece: TextPiece, prompt: _Prompt, p: SynthesisParams) -> np.ndarray:
        import torch

        m = self.models
        dev = m.placement.device
        codes = tokens.reshape(1, 1, -1).to(dev)
        text = torch.tensor(piece.ids, dtype=torch.long, device=dev)[None]
        with torch.inference_mode():
            wav = m.sovits.decode(codes, text, prompt.refer, noise_scale=p.noise_scale, speed=p.speed,
                                  sv_emb=prompt.sv)
        audio = wav[0, 0].float().cpu().numpy()
        peak = float(np.abs(audio).max()) if len(audio) else 0.0
        return audio / peak if peak > 1.0 else audio

    def prepare(self, p: SynthesisParams, warnings: list[str], timings: Timings | None = None) -> Prepared:
        """Everything before the first GPT step, the same for every way of rendering: ``p`` checked,
        the reference prompt, the text pieces, and the warnings they give (a trimmed reference,
        Chinese read with pypinyin) added to ``warnings``; ``timings`` gets the two steps' times."""
        from backend.text.zh_readings import PYPINYIN

        problems = p.problems()
        if problems:
            raise InferenceError("invalid synthesis parameters: " + "; ".join(problems),
                                 fix="change the values named")
        t0 = time.perf_counter()
        clean = self.cleaner(p)
        prompt = self._prompt(p, warnings, clean)
        if prompt.main.window is not None:
            a, b = prompt.main.window
            warnings.append(f"reference trimmed to {a:.1f}–{b:.1f} s")
        t1 = time.perf_counter()
        pieces = self.text_pieces(p, clean)
        if clean.source == PYPINYIN:
            warnings.append(PYPINYIN_WARNING)
        if timings is not None:
            timings.reference_s, timings.text_s = t1 - t0, time.perf_counter() - t1
        return Prepared(prompt, pieces, clean.source)

    def render_piece(self, prompt: _Prompt, piece: TextPiece, p: SynthesisParams, seed: int) -> tuple[np.ndarray, int]:
        """One piece on its own with its own seed → (audio, GPT tokens). Verified synthesis
        regenerates a bad piece this way without touching the others."""
        _seed_everything(seed)
        tokens = self._generate(prompt, [piece], p)[0]
        return self._decode(tokens, piece, prompt, p), int(tokens.numel())

    # --- the whole thing ------------------------------------------------------------------
    def synthesize(self, p: SynthesisParams, progress: ProgressFn | None = None,
                   on_piece: PieceFn | None = None) -> SynthesisResult:
        sr = self.models.sample_rate
        warnings: list[str] = []
        timings = Timings()
        ready = self.prepare(p, warnings, timings)
        prompt, pieces = ready.prompt, ready.pieces
        total = len(pieces)
        if progress:
            progress(0, total, "pieces")
        seed = _seed_everything(p.seed)
        pause = np.zeros(int(round(sr * p.pause)), dtype=np.float32)
        chunks: list[np.ndarray] = []
        infos: list[PieceInfo] = []
        for start in range(0, total, p.batch_size):
            batch = pieces[start:start + p.batch_size]
            t0 = time.perf_counter()
            tokens = self._generate(prompt, batch, p)
            timings.gpt_s += time.perf_counter() - t0
            timings.gpt_tokens += sum(int(t.numel()) for t in tokens)
            for offset, (piece, toks) in enumerate(zip(batch, tokens)):
                index = start + offset
                t0 = time.perf_counter()
                audio = self._decode(toks, piece, prompt, p)
                timings.sovits_s += time.perf_counter() - t0
                chunks += [audio.astype(np.float32), pause]
                infos.append(PieceInfo(index, piece.text, piece.langs, len(piece.ids), int(toks.numel()),
                                       len(audio) / sr))
                if on_piece:
                    on_piece(index, audio, sr)
                if progress:
                    progress(index + 1, total, piece.text[:40])
        audio = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)
        return SynthesisResult(audio, sr, seed, infos, warnings, timings, prompt.main.window, ready.readings)
