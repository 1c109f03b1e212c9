"""Inference mode's requests: what to synthesise (→ ``infer`` Params), the weights and reference
clips to choose from, the takes made so far.

Unit conversions (the form's "max s" ↔ the stage's GPT tokens) come from the stage; the rules
from :meth:`backend.infer.params.SynthesisParams.problems` — the screen and ``gsv infer`` agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import GsvError
from ..infer.params import (
    CUT_LABELS,
    LANGUAGE_OPTIONS,
    MAX_PIECE_S,
    MAX_REF_S,
    MIN_REF_S,
    TRIM_CHOICES,
    SynthesisParams,
    seconds_to_tokens,
    tokens_to_seconds,
)
from ..infer.params import lang_option as lang_option  # for the screens, which see only this layer
from ..infer.weights_choice import WEIGHTS_SUFFIX
from ..stages.base import param_default, param_info
from .forms import FieldSpec, field_spec

if TYPE_CHECKING:
    from ..infer.history import Take
    from ..stages import infer
    from .core import Application

NUMBER_FIELDS = ("top_k", "top_p", "temperature", "repetition_penalty", "speed", "pause", "seed")
LANG_OPTIONS = [(f"{name} ({code})", code) for code, name in LANGUAGE_OPTIONS.items()]
CUT_OPTIONS = [(f"{code} {label}", code) for code, label in CUT_LABELS.items()]
TRIM_OPTIONS = [(f"ref >10 s: {t}", t) for t in TRIM_CHOICES]
DEFAULT_CUT = SynthesisParams(text="", lang="").cut
DEFAULT_TRIM = SynthesisParams(text="", lang="").trim_ref


def number_fields() -> tuple[FieldSpec, ...]:
    """The form's numbers (defaults from the ``infer`` Params), then the longest piece in seconds."""
    from ..stages import infer

    max_s = FieldSpec("max_s", "max s", float, tokens_to_seconds(param_default(infer.Params, "max_tokens")))
    return tuple(field_spec(infer.Params, name) for name in NUMBER_FIELDS) + (max_s,)


@dataclass
class InferSettings:
    """Everything the Inference form holds (paths as typed or chosen)."""

    text: str
    lang: str
    ref: str | None
    ref_text: str | None = None
    ref_lang: str = "all_zh"
    aux_refs: list[str] = field(default_factory=list)  # more clips for the voice's timbre (SoVITS)
    gpt: str | None = None
    sovits: str | None = None
    cut: str = DEFAULT_CUT
    trim_ref: str = DEFAULT_TRIM
    numbers: dict[str, Any] = field(default_factory=dict)  # NUMBER_FIELDS and max_s
    allow_pypinyin: bool = False  # v2+ Chinese without G2PW: pypinyin readings instead of a refusal
    verify: bool = False  # hear each piece and regenerate a bad one (``gsv infer --verify``)
    max_tries: int | None = None  # tries per piece when verifying; None: the stage's default


def max_tries_field() -> FieldSpec:
    """The form's "tries" field (default and limits from the ``infer`` Params)."""
    from ..stages import infer

    return field_spec(infer.Params, "max_tries")


def settings_problems(s: InferSettings) -> list[str]:
    """Every reason the form cannot generate yet, one sentence each."""
    from ..stages import infer

    problems: list[str] = []
    numbers = dict(s.numbers)
    max_s = numbers.pop("max_s", MAX_PIECE_S)
    if not 0.5 <= max_s <= MAX_PIECE_S:
        problems.append(f"max s (longest piece) must be between 0.5 and {MAX_PIECE_S:g}")
    problems += SynthesisParams(text=s.text, lang=s.lang, ref=s.ref, cut=s.cut, trim_ref=s.trim_ref,
                                **numbers).problems()
    if s.verify and s.max_tries is not None:
        info = param_info(infer.Params, "max_tries")
        low, high = int(info.low or 1), int(info.high or s.max_tries)
        if not low <= s.max_tries <= high:
            problems.append(f"tries (with verify) must be between {low} and {high}")
    if not s.ref:
        problems.append("choose a reference clip")
    if not s.gpt:
        problems.append("choose GPT weights")
    if not s.sovits:
        problems.append("choose SoVITS weights")
    return problems


def infer_request(app: "Application", s: InferSettings) -> "infer.Params":
    """The ``infer`` Params for the open project (the take goes to its outputs/), or GsvError."""
    from ..stages import infer

    project = app.require_project()
    problems = settings_problems(s)
    if problems:
        raise GsvError("; ".join(problems), "change the values named")
    numbers = dict(s.numbers)
    max_s = numbers.pop("max_s", MAX_PIECE_S)
    refs = [Path(r) for r in ([s.ref] if s.ref else []) + list(s.aux_refs)]
    return infer.Params(text=s.text, lang=s.lang, refs=refs,
                        out=infer.default_out(project), ref_text=s.ref_text, ref_lang=s.ref_lang,
                        gpt=Path(s.gpt) if s.gpt else None, sovits=Path(s.sovits) if s.sovits else None,
                        cut=s.cut, trim_ref=s.trim_ref, allow_pypinyin=s.allow_pypinyin,
                        project=project.name, version=project.version,
                        precision=app.config.precision, max_tokens=seconds_to_tokens(max_s),
                        verify=s.verify,
                        max_tries=s.max_tries if s.max_tries is not None else param_default(infer.Params, "max_tries"),
                        **numbers)


def form_values(params: dict[str, Any]) -> dict[str, Any]:
    """A take's recorded parameters as the form shows them (GPT tokens → max s)."""

    out = dict(params)
    if out.get("max_tokens"):
        out["max_s"] = tokens_to_seconds(int(out["max_tokens"]))
    return out


def infer_gpus(app: "Application") -> list[str]:
    return app.default_gpus()[:1]  # one GPU is all synthesis uses


def parse_paths(text: str) -> list[str]:
    """Paths typed in one field, separated by ``;`` (paths may hold spaces and commas), ``~`` expanded."""
    return [str(Path(p.strip()).expanduser()) for p in text.split(";") if p.strip()]


# --- what to choose from ------------------------------------------------------------------------


def weights_path_problem(kind: str, path: str) -> str | None:
    """Why ``path`` cannot be the ``kind`` weights (one sentence with the fix), or None."""
    p = Path(path).expanduser()
    name = "GPT" if kind == "gpt" else "SoVITS"
    if p.suffix.lower() != WEIGHTS_SUFFIX[kind]:
        return f"{p.name} is not {name} weights: {name} weights end in {WEIGHTS_SUFFIX[kind]}"
    if not p.is_file():
        return f"{p} does not exist: check the path"
    return None


def weights_label(path: str) -> str:
    """How a weights file typed in (or a take's) is listed: its name first, then where it lives."""
    p = Path(path)
    return f"{p.name} — {p.parent}"


def weights(app: "Application", kind: str) -> list[tuple[str, str]]:
    """(label, path) of the GPT (``kind="gpt"``) or SoVITS weights to offer, best first."""
    from ..infer.weights_choice import choices

    return [(o.label, str(o.path)) for o in choices(app.project, kind)]


@dataclass(frozen=True)
class ExportedWeights:
    kind: str  # gpt | sovits
    path: Path
    epoch: int | None


def exported_weights(app: "Application") -> list[ExportedWeights]:
    """The open project's own exports (newest epoch first per kind)."""
    from ..infer.weights_choice import project_weights

    if app.project is None:
        return []
    return [ExportedWeights(kind, o.path, o.epoch) for kind in ("gpt", "sovits")
            for o in project_weights(app.project, kind)]


@dataclass(frozen=True)
class ClipChoice:
    audio_path: str
    label: str
    text: str
    language: str | None


def reference_clips(app: "Application") -> list[ClipChoice]:
    """Clips of the project's transcript to use as a reference: the reviewed ones, else all."""
    from ..transcripts import Transcript

    project = app.project
    if project is None or not project.transcript_path.is_file():
        return []
    out: list[ClipChoice] = []
    try:
        t = Transcript.open(project.transcript_path, project_root=project.root)
        n_clips = len(t.clip_rows())
        order = [n for n in range(n_clips) if t.is_reviewed(n)] or list(range(n_clips))
        for n in order:
            try:
                ref = t.reference_for(n)
            except GsvError:
                continue
            out.append(ClipChoice(ref["audio_path"], f"{Path(ref['audio_path']).name} — {ref['text'][:40]}",
                                  ref["text"], ref.get("language")))
    except (GsvError, OSError):
        pass
    return out


def reference_note(path: str) -> str:
    """The clip's length against the 3–10 s rule, in one line (soundfile only: no decoding)."""
    import soundfile as sf

    try:
        seconds = sf.info(path).duration
    except Exception:  # noqa: BLE001 - not readable by libsndfile: the job will decode it or say why
        return "" if Path(path).is_file() else "file not found"
    if seconds < MIN_REF_S:
        return f"{seconds:.1f} s — too short: references must be {MIN_REF_S:g}–{MAX_REF_S:g} s"
    if seconds > MAX_REF_S:
        return f"{seconds:.1f} s — over {MAX_REF_S:g} s: set 'ref >10 s' to first or best, or pick another clip"
    return f"{seconds:.1f} s ✓"


# --- takes ----------------------------------------------------------------------------------------
def takes(app: "Application") -> "list[Take]":
    """The project's recent takes, newest first."""
    from ..infer.history import recent_takes

    return recent_takes(app.project.outputs_dir) if app.project is not None else []


def save_take(take: "Take", target: str | Path) -> Path:
    from ..infer.history import save_copy

    return save_copy(take, target)
