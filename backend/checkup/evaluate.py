"""Running a checkup: synthesise the evaluation set with each pair of exports, transcribe and
score every take, and rank the pairs.

Which pairs: each SoVITS export with the latest GPT export, then each other GPT export with the
SoVITS export that did best. Every pair would be the full grid (10 SoVITS × 10 GPT exports = 100
pairs, hours of synthesis); the two sweeps cost one pass per export, and the two models' faults
are mostly their own — SoVITS decides how the tokens sound, the GPT which tokens (skips, repeats,
runaways) — so the best SoVITS found with one GPT stays a good partner for the others.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import GsvError
from .likeness import Likeness, cosine
from .options import CheckupOptions
from .pace import Pace, hit_cap, rate
from .report import CheckupReport, PairResult, Take, ranking, reason
from .scoring import score

ProgressFn = Callable[[int, int, str], None]


class CheckupError(GsvError):
    """The checkup cannot run for this project."""


@dataclass
class Evaluation(CheckupOptions):
    """What one checkup speaks and how it listens (resolved from the project before it starts)."""

    project_root: Path
    language: str  # the project's language: zh, en, ja, ko, yue
    sentences: list[str]
    reference: dict[str, str]  # audio_path, text, language (as project.toml settings.reference)
    out: Path  # checkups/<time>.json


@dataclass(frozen=True)
class Pair:
    gpt: Path
    sovits: Path
    sweep: str

    @property
    def label(self) -> str:
        from ..infer.weights_choice import epoch_of

        def name(kind: str, p: Path) -> str:
            e = epoch_of(kind, p.name)
            return f"e{e}" if e is not None else p.stem

        return f"SoVITS {name('sovits', self.sovits)} + GPT {name('gpt', self.gpt)}"


def exports(project: Any) -> tuple[list[Path], list[Path]]:
    """The project's SoVITS and GPT exports, oldest epoch first; a kind with no export falls back
    to the pretrained base model (so a checkup can compare SoVITS exports before GPT training)."""
    from ..infer.weights_choice import default_weights, project_weights

    sovits = [o.path for o in reversed(project_weights(project, "sovits"))]
    gpt = [o.path for o in reversed(project_weights(project, "gpt"))]
    if not sovits and not gpt:
        raise CheckupError(f"project {project.name!r} has no exported weights to check",
                           "train it first (gsv train-sovits / gsv train-gpt), then run the checkup")
    for kind, found in (("sovits", sovits), ("gpt", gpt)):
        if not found:
            base = default_weights(project, kind)
            if base is None:
                raise CheckupError(f"project {project.name!r} has no {kind.upper()} export and no pretrained one",
                                   f"train {kind.upper()} or run `gsv models fetch {project.version}`")
            found.append(base)
    return sovits, gpt


class Checkup:
    """One checkup run; models, ASR and the speaker encoder are loaded once and reused."""

    def __init__(self, ev: Evaluation, info: Callable[[str], None] = print,
                 progress: ProgressFn | None = None) -> None:
        self.ev = ev
        self.info = info
        self.progress = progress
        self.folder = ev.out.with_suffix("")
        self._asr: Any = None
        self._likeness: Likeness | None = None
        self._shared: dict[str, Any] = {}
        self.ref_vec: np.ndarray | None = None
        self.train_vec: np.ndarray | None = None
        self.done = 0
        self.total = 0

    # --- parts ---------------------------------------------------------------------------
    def asr(self) -> Any:
        if self._asr is None:
            from ..asr import make_engine
            from ..asr.base import AsrOptions

            self._asr = make_engine(AsrOptions(engine=self.ev.asr_engine, model=self.ev.asr_model,
                                               language=self.ev.language, device=self.ev.asr_device,
                                               precision=self.ev.asr_precision, vad=False))
        return self._asr

    def prepare_likeness(self, training_clips: list[Path]) -> None:
        from .likeness import speaker_model_path

        if not self.ev.likeness:
            return
        from ..infer.device import resolve_device

        # on the synthesis device: the full-size ERes2NetV2 takes about twice real time on one CPU core
        self._likeness = Likeness(speaker_model_path(self.ev.sv), resolve_device(self.ev.device))
        self.ref_vec = self._likeness.embed_file(Path(self.ev.reference["audio_path"]))
        self.train_vec = self._likeness.centroid(training_clips)

    def _load(self, pair: Pair) -> Any:
        from ..infer.models import load_models

        models = load_models(pair.gpt, pair.sovits, hubert_dir=self.ev.hubert, bert_dir=self.ev.bert,
                             sv_path=None, device=self.ev.device, precision=self.ev.precision)
        for name in ("_hubert", "_bert"):  # the same encoders serve every pair
            if name in self._shared:
                setattr(models, name, self._shared[name])
        return models

    def _keep_shared(self, models: Any) -> None:
        for name in ("_hubert", "_bert"):
            if getattr(models, name) is not None:
                self._shared[name] = getattr(models, name)

    # --- one pair ------------------------------------------------------------------------
    def evaluate(self, pair: Pair, index: int) -> PairResult:
        from ..infer.params import SynthesisParams, lang_option
        from ..infer.pipeline import Synthesizer

        ev = self.ev
        result = PairResult(pair.label, pair.sweep, str(pair.gpt), str(pair.sovits))
        sub = f"{index:02d}"
        (self.folder / sub).mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        models = self._load(pair)
        synth = Synthesizer(models, max_tokens=ev.max_tokens)
        lang = lang_option(ev.language) or ev.language
        ref_lang = lang_option(ev.reference.get("language") or ev.language) or lang
        wavs: list[Path] = []
        for i, sentence in enumerate(ev.sentences):
            p = SynthesisParams(text=sentence, lang=lang, ref=ev.reference["audio_path"],
                                ref_text=ev.reference.get("text") or None, ref_lang=ref_lang, seed=ev.seed + i)
            out = synth.synthesize(p)
            wav = self.folder / sub / f"{i:03d}.wav"
            out.save(wav)
            wavs.append(wav)
            result.takes.append(Take(sentence=i, seed=out.seed, wav=f"{sub}/{wav.name}", transcript="", scores={},
                                     tokens=sum(x.tokens for x in out.pieces), phones=sum(x.phones for x in out.pieces),
                                     hit_cap=any(hit_cap(x.tokens, ev.max_tokens) for x in out.pieces)))
            self.done += 1
            if self.progress:
                self.progress(self.done, self.total, f"{pair.label}: synthesis {i + 1}/{len(ev.sentences)}")
        self._keep_shared(models)
        del synth, models
        t1 = time.perf_counter()
        for take, heard in zip(result.takes, self.asr().transcribe(wavs)):
            take.transcript = heard.text or ""
            take.scores = score(ev.sentences[take.sentence], take.transcript, ev.language).to_json()
        t2 = time.perf_counter()
        if self._likeness is not None:
            for take, wav in zip(result.takes, wavs):
                v = self._likeness.embed_file(wav)
                take.likeness_ref = _rounded(cosine(v, self.ref_vec))
                take.likeness_train = _rounded(cosine(v, self.train_vec))
        t3 = time.perf_counter()
        result.timings = {"synthesis_s": round(t1 - t0, 3), "asr_s": round(t2 - t1, 3),
                          "likeness_s": round(t3 - t2, 3)}
        self.info(f"{pair.label}: median {score_unit(ev.language)} {result.summary()['median_error']:.1%}")
        return result

    # --- the whole checkup ---------------------------------------------------------------
    def run(self, project: Any, training_clips: list[Path]) -> CheckupReport:
        from .normalize import unit

        sovits, gpt = exports(project)
        self.total = (len(sovits) + len(gpt) - 1) * len(self.ev.sentences)
        self.prepare_likeness(training_clips)
        pairs: list[PairResult] = []
        for s in sovits:
            pairs.append(self.evaluate(Pair(gpt[-1], s, "sovits"), len(pairs)))
        judge_pace(pairs)
        best_sovits = Path(pairs[ranking(pairs)[0]].sovits)
        for g in gpt[:-1]:
            pairs.append(self.evaluate(Pair(g, best_sovits, "gpt"), len(pairs)))
        pace = judge_pace(pairs)
        order = ranking(pairs)
        kind = unit(self.ev.language)
        return CheckupReport(
            project=project.name, language=self.ev.language, unit=kind,
            created=time.strftime("%Y-%m-%dT%H:%M:%S%z"), reference=dict(self.ev.reference),
            sentences=list(self.ev.sentences), pairs=pairs, recommended=order[0], reason=reason(pairs, order, kind),
            pace={"centre": round(pace.centre, 4), "spread": round(pace.spread, 4)},
            asr={"engine": self.ev.asr_engine, "model": self.ev.asr_model})


def score_unit(language: str) -> str:
    from .normalize import unit

    return unit(language).upper()


def judge_pace(pairs: list[PairResult]) -> Pace:
    """Mark each take's pace against the spread of every take so far."""
    takes = [t for p in pairs for t in p.takes]
    pace = Pace.of([rate(t.tokens, t.phones) for t in takes])
    for t in takes:
        t.pace = pace.judge(t.tokens, t.phones, t.hit_cap)
    return pace


def _rounded(v: float | None) -> float | None:
    return None if v is None else round(v, 4)
