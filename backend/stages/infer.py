"""Stage ``infer``: a reference clip, its text and new text → speech in that voice (16-bit wav).

``gsv infer [--project NAME] [--gpt PATH] [--sovits PATH] --ref WAV [--ref WAV …] [--ref-text TEXT]
--ref-lang L (--text TEXT | --text-file F) --lang L [--cut cut0…cut5] [--top-k --top-p
--temperature --repetition-penalty --speed --pause --seed --batch-size] [--trim-ref no|first|best] [--allow-pypinyin]
[--out OUT.wav] [--verify [--max-tries N] [--verify-max-error E]]``

GPT/SoVITS default to the project's latest exports, else the pretrained base models of the
project's version (v2 without a project). The first ``--ref`` is the main reference (prompt and
timbre); further ones only add timbre (averaged, as officially). Without ``--ref-text`` the run
is ref-free (lower quality; a warning says so). Besides the wav, ``OUT.json`` records every
parameter, the seed actually used, the pieces and the timings — the Inference screen's
history reads it, and a take can be regenerated exactly from it. With ``--verify`` each piece is
transcribed and regenerated with another seed when it went wrong (:mod:`backend.checkup.verify`);
the record's ``verify`` lists every try of every piece and which one was kept.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..checkup.options import VERIFY_MAX_ERROR, VERIFY_MAX_ERROR_RANGE, VERIFY_MAX_TRIES, VERIFY_MAX_TRIES_RANGE
from ..config import load_config
from ..errors import GsvError
from ..fsutil import atomic_write_text
from ..infer.device import PRECISIONS
from ..infer.params import (
    CUT_METHODS,
    LANGUAGE_OPTIONS,
    MAX_PIECE_S,
    MAX_SECONDS_PROBLEM,
    MAX_TOKENS,
    TRIM_CHOICES,
    SynthesisParams,
    lang_option,
    seconds_to_tokens,
)
from ..progress import Reporter
from .base import StageSpec, add_param_option, param

STAGE = StageSpec(name="infer", help="speak new text in a voice (reference clip + GPT + SoVITS) to a wav",
                  uses_gpu=True)

RESULT_SUFFIX = ".json"


class InferStageError(GsvError):
    """``gsv infer`` was asked something it cannot do."""


_DEFAULTS = SynthesisParams(text="", lang="")
_GENERATION_FIELDS = ("ref_text", "ref_lang", "cut", "top_k", "top_p", "temperature", "repetition_penalty",
                      "speed", "pause", "seed", "batch_size", "trim_ref", "allow_pypinyin")


@dataclass
class Params:
    text: str
    lang: str
    refs: list[Path]
    out: Path
    # generation settings: the defaults are the pipeline's own (SynthesisParams)
    ref_text: str | None = None
    ref_lang: str = _DEFAULTS.ref_lang
    gpt: Path | None = None
    sovits: Path | None = None
    cut: str = param(_DEFAULTS.cut, choices=CUT_METHODS,
                     help="how to cut the text: cut0 none, cut1 every 4 sentences, cut2 every 50 characters, "
                          "cut3 at 。, cut4 at '.', cut5 at every punctuation mark")
    top_k: int = param(_DEFAULTS.top_k, help="sample among the k likeliest tokens")
    top_p: float = param(_DEFAULTS.top_p, help="sample within this probability mass")
    temperature: float = param(_DEFAULTS.temperature, label="temp", help="sampling temperature")
    repetition_penalty: float = param(_DEFAULTS.repetition_penalty, label="rep pen",
                                      help="penalty on tokens already spoken")
    speed: float = param(_DEFAULTS.speed, help="speaking rate")
    pause: float = param(_DEFAULTS.pause, label="pause s", help="seconds of silence after each piece")
    seed: int = param(_DEFAULTS.seed, help="-1 draws one (it is reported)")
    batch_size: int = param(_DEFAULTS.batch_size, help="pieces generated together by the GPT")
    trim_ref: str = _DEFAULTS.trim_ref
    allow_pypinyin: bool = param(_DEFAULTS.allow_pypinyin,
                                 help="without the G2PW model (offline), read v2+ Chinese polyphones with pypinyin "
                                      "instead of refusing (differs from the official WebUI; recorded in the take)")
    project: str | None = None
    version: str = "v2"  # which pretrained base models to fall back to
    hubert: Path | None = None
    bert: Path | None = None
    sv: Path | None = None
    device: str = "auto"
    precision: str = "auto"
    max_tokens: int = MAX_TOKENS  # GPT steps per piece; the official cap (≈ 60 s)
    # verified synthesis (backend.checkup.verify): hear each piece, retry a bad one
    verify: bool = param(False, help="transcribe each piece and regenerate it with another seed when a word is "
                                     "skipped or repeated, the error rate is too high, or the generation ran away")
    max_tries: int = param(VERIFY_MAX_TRIES, low=VERIFY_MAX_TRIES_RANGE[0], high=VERIFY_MAX_TRIES_RANGE[1],
                           help="tries per piece with --verify")
    verify_max_error: float = param(VERIFY_MAX_ERROR, low=VERIFY_MAX_ERROR_RANGE[0], high=VERIFY_MAX_ERROR_RANGE[1],
                                    help="CER/WER above which a piece counts as bad")
    asr_engine: str | None = param(None, choices=("faster-whisper", "funasr"), none="config.toml asr_engine",
                                   help="ASR engine for --verify")
    asr_model: str | None = param(None, none="the engine's default", help="ASR model name or local folder for --verify")
    asr_device: str = param("auto", choices=("auto", "cpu", "cuda"), help="ASR device for --verify")

    def synthesis(self) -> SynthesisParams:
        return SynthesisParams(text=self.text, lang=self.lang, ref=str(self.refs[0]) if self.refs else None,
                               aux_refs=[str(r) for r in self.refs[1:]],
                               **{name: getattr(self, name) for name in _GENERATION_FIELDS})


def result_path(out: Path) -> Path:
    """The JSON record written beside ``out`` (``take.wav`` → ``take.json``)."""
    return Path(out).with_suffix(RESULT_SUFFIX)


def default_out(project: Any) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = Path(project.outputs_dir) / f"tts-{stamp}.wav"
    n = 1
    while out.exists():
        n += 1
        out = Path(project.outputs_dir) / f"tts-{stamp}-{n}.wav"
    return out


# --- CLI ----------------------------------------------------------------------------------------

def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--project", help="use this project's weights (latest export) and write into its outputs/")
    parser.add_argument("--gpt", type=Path, help="GPT weights (.ckpt); default: the latest export, else pretrained")
    parser.add_argument("--sovits", type=Path, help="SoVITS weights (.pth); default: the latest export, else pretrained")
    parser.add_argument("--ref", type=Path, action="append", default=[], metavar="WAV",
                        help="reference clip, 3–10 s (repeat to add clips that only add timbre)")
    parser.add_argument("--ref-text", default=None, help="what the main reference says (omit: ref-free mode)")
    parser.add_argument("--ref-lang", default=None, choices=sorted(LANGUAGE_OPTIONS),
                        help="language of the reference text (default: the project's language)")
    src = parser.add_mutually_exclusive_group()
    src.add_argument("--text", help="the text to speak")
    src.add_argument("--text-file", type=Path, help="read the text to speak from this UTF-8 file")
    parser.add_argument("--lang", default=None, choices=sorted(LANGUAGE_OPTIONS),
                        help="language option of the text (default: the project's language)")
    for name in ("cut", "top_k", "top_p", "temperature", "repetition_penalty", "speed", "pause", "seed",
                 "batch_size", "allow_pypinyin"):
        add_param_option(parser, Params, name)
    parser.add_argument("--trim-ref", choices=TRIM_CHOICES, default="no",
                        help="a reference over 10 s: refuse (no, default), use its first 10 s, or its best 3–10 s window")
    parser.add_argument("--max-seconds", type=float, default=MAX_PIECE_S,
                        help="longest speech per piece, seconds (the official cap is 60 = 1500 tokens)")
    parser.add_argument("--out", type=Path, help="output wav (default with --project: outputs/tts-<time>.wav)")
    parser.add_argument("--device", default="auto", help="auto (CUDA if present), cpu, cuda, cuda:N")
    parser.add_argument("--precision", choices=PRECISIONS, default=None,
                        help="auto (default: config.toml `precision`, else auto) = fp16 on a GPU, fp32 on the CPU; "
                        "bf16 on a CPU with native bfloat16 runs the SoVITS vocoder about 2x faster "
                        "(not bit-identical)")
    parser.add_argument("--hubert", type=Path, help="chinese-hubert-base folder (default: the pretrained one)")
    parser.add_argument("--bert", type=Path, help="chinese-roberta-wwm-ext-large folder (default: the pretrained one)")
    parser.add_argument("--sv", type=Path, help="speaker-verification checkpoint for v2Pro/v2ProPlus "
                        "(default: the pretrained one)")
    parser.add_argument("--version", default=None, choices=("v1", "v2", "v2Pro", "v2ProPlus"),
                        help="pretrained base models to fall back to (default: the project's version, else v2)")
    v = parser.add_argument_group("verified synthesis (see docs/checkup.md)")
    add_param_option(v, Params, "verify", action="store_true")
    for name in ("max_tries", "verify_max_error", "asr_engine", "asr_model", "asr_device"):
        add_param_option(v, Params, name)


def params_from_args(args: argparse.Namespace, workspace: Any) -> Params:
    from ..infer.weights_choice import default_weights

    project = workspace.open_project(args.project) if args.project else None
    version = args.version or (project.version if project else "v2")
    if args.text_file is not None:
        try:
            text = Path(args.text_file).expanduser().read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise InferStageError(f"cannot read --text-file {args.text_file}: {e}", "give a UTF-8 text file") from e
    elif args.text is not None:
        text = args.text
    else:
        raise InferStageError("no text to speak", "pass --text TEXT or --text-file FILE")
    lang = args.lang or lang_option(project.language if project else None)
    if lang is None:
        raise InferStageError("no language for the text", "pass --lang (e.g. all_zh, en, all_ja, zh, auto)")
    ref_lang = args.ref_lang or lang_option(project.language if project else None) or lang
    if not args.ref:
        raise InferStageError("no reference clip", "pass --ref WAV (3–10 s of the voice)")
    if args.out is not None:
        out = Path(args.out).expanduser().absolute()
    elif project is not None:
        out = default_out(project)
    else:
        raise InferStageError("no output file", "pass --out OUT.wav (or --project NAME to write into its outputs/)")
    gpt = args.gpt or default_weights(project, "gpt", version)
    sovits = args.sovits or default_weights(project, "sovits", version)
    params = Params(
        text=text, lang=lang, refs=[Path(r).expanduser().absolute() for r in args.ref], out=out,
        ref_text=args.ref_text, ref_lang=ref_lang,
        gpt=Path(gpt).expanduser().absolute() if gpt else None,
        sovits=Path(sovits).expanduser().absolute() if sovits else None,
        cut=args.cut, top_k=args.top_k, top_p=args.top_p, temperature=args.temperature,
        repetition_penalty=args.repetition_penalty, speed=args.speed, pause=args.pause, seed=args.seed,
        batch_size=args.batch_size, trim_ref=args.trim_ref, allow_pypinyin=args.allow_pypinyin, project=project.name if project else None,
        version=version, device=args.device, precision=args.precision or load_config().precision,
        hubert=Path(args.hubert).expanduser().absolute() if args.hubert else None,
        bert=Path(args.bert).expanduser().absolute() if args.bert else None,
        sv=Path(args.sv).expanduser().absolute() if args.sv else None,
        max_tokens=seconds_to_tokens(args.max_seconds),
        verify=args.verify, max_tries=args.max_tries, verify_max_error=args.verify_max_error,
        asr_engine=args.asr_engine, asr_model=args.asr_model, asr_device=args.asr_device)
    check(params)
    return params


def check(params: Params) -> None:
    """Cheap checks before any model is loaded (named errors)."""
    from ..infer.errors import ReferenceAudioError, require_weight_files

    problems = params.synthesis().problems()
    if not 1 <= params.max_tokens <= MAX_TOKENS:
        problems.append(MAX_SECONDS_PROBLEM)
    if params.verify:
        from ..checkup.verify import scoring_language

        problems += verify_settings(params).problems()
        scoring_language(params.lang)
    if problems:
        raise InferStageError("invalid parameters: " + "; ".join(problems), "change the values named")
    require_weight_files(params.gpt, params.sovits, params.version)
    for r in params.refs:
        if not Path(r).is_file():
            raise ReferenceAudioError(f"reference clip {r} does not exist", fix="check the path")
    if params.refs:  # the 3–10 s rule and an audible voice, before a job is queued or a model loads
        from ..infer.reference import check_reference

        check_reference(params.refs[0], params.trim_ref)
        for aux in params.refs[1:]:
            check_reference(aux, check=False)


def verify_settings(params: Params) -> Any:
    """The :class:`~backend.checkup.verify.VerifySettings` of a ``--verify`` run."""
    from ..checkup.verify import VerifySettings, scoring_language

    engine = params.asr_engine or load_config().asr_engine_for(scoring_language(params.lang))
    return VerifySettings(max_tries=params.max_tries, max_error=params.verify_max_error, asr_engine=engine,
                          asr_model=params.asr_model, asr_device=params.asr_device)


def project_of(params: Params) -> str | None:
    return params.project


def expected_outputs(params: Params) -> list[Path]:
    return [Path(params.out), result_path(params.out)]


def record(params: Params, result: Any, models: Any, wall_s: float) -> dict[str, Any]:
    """What ``OUT.json`` holds: the request, the seed used, the pieces, timings, warnings."""
    from .base import params_to_json

    t = result.timings
    return {
        "params": params_to_json(params),
        "seed": result.seed,
        "out": str(params.out),
        "sample_rate": result.sample_rate,
        "duration": round(result.duration, 3),
        "version": models.version,
        "device": models.placement.label,
        "ref_window": list(result.ref_window) if result.ref_window else None,
        "pieces": [asdict(p) for p in result.pieces],
        "warnings": list(result.warnings),
        "zh_readings": result.zh_readings,  # g2pw, pypinyin (allowed), or None: no v2+ Chinese in the take
        "timings": {"wall_s": round(wall_s, 3), "text_s": round(t.text_s, 3), "reference_s": round(t.reference_s, 3),
                    "gpt_s": round(t.gpt_s, 3), "gpt_tokens": t.gpt_tokens, "sovits_s": round(t.sovits_s, 3)},
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def keep_previous(out: Path) -> None:
    """An existing ``out`` (and its record) is moved to ``<name>.prev<ext>``, never overwritten."""
    for p in (out, result_path(out)):
        if p.exists():
            p.replace(p.with_name(f"{p.stem}.prev{p.suffix}"))


def run(params: Params, report: Reporter) -> None:
    from ..infer.models import load_models
    from ..infer.pipeline import Synthesizer
    from ..pretrained import progress_to

    check(params)
    started = time.perf_counter()
    report.info(f"loading {Path(params.gpt).name} + {Path(params.sovits).name}")  # type: ignore[arg-type]
    models = load_models(params.gpt, params.sovits, hubert_dir=params.hubert, bert_dir=params.bert,
                         sv_path=params.sv, device=params.device, precision=params.precision)
    report.info(f"{models.version} on {models.placement.label}")
    synth = Synthesizer(models, max_tokens=params.max_tokens, fetch_progress=progress_to(report))

    def progress(done: int, total: int, label: str) -> None:
        report.progress(done, total, unit="pieces", label=label)

    verified = None
    if params.verify:
        from ..checkup.verify import verified_synthesis

        settings = verify_settings(params)
        result, tries = verified_synthesis(synth, params.synthesis(), settings, progress=progress)
        verified = {"max_tries": settings.max_tries, "max_error": settings.max_error,
                    "asr": {"engine": settings.asr_engine, "model": settings.asr_model}, "pieces": tries}
    else:
        result = synth.synthesize(params.synthesis(), progress=progress)
    for w in result.warnings:
        report.warning(w)
    out = Path(params.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    keep_previous(out)
    result.save(out)
    rec = record(params, result, models, time.perf_counter() - started)
    if verified is not None:
        rec["verify"] = verified
    atomic_write_text(result_path(out), json.dumps(rec, ensure_ascii=False, indent=1))
    report.artifact(out, role="audio")
    report.artifact(result_path(out), role="record")
    report.summary({"out": str(out), "seed": result.seed, "duration": rec["duration"], "pieces": len(result.pieces)})
    report.info(f"{out} — {result.duration:.1f} s, seed {result.seed}")
