"""The checkup report: every take's scores, one summary per export, and the recommended pair.

On disk in the project: ``checkups/<time>.json`` (everything, for the Training screen and for
scripts), ``checkups/<time>.md`` (a short summary a person reads) and ``checkups/<time>/`` (the
takes, one folder per scored pair, so any of them can be played). Written atomically.

How the recommendation is made: each pair gets a problem score — its median error rate plus
the share of its takes with a skip, with a repeat, and with a runaway or truncation (each share
weighs as much as a 100 % error rate on one take in a hundred) — and the lowest wins. Pairs
whose problem scores differ by less than :data:`TIE` are a tie, and the tie goes to the higher
likeness to the training voice, then to the later export.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..fsutil import atomic_write_text

TIE = 0.02
REPORT_DIR = "checkups"


@dataclass
class Take:
    """One evaluation sentence spoken by one pair."""

    sentence: int  # index in the report's sentence list
    seed: int
    wav: str  # relative to the report's folder
    transcript: str
    scores: dict[str, Any]  # Intelligibility.to_json()
    tokens: int
    phones: int
    hit_cap: bool
    pace: str | None = None  # None, "runaway", "truncated", "token cap"
    likeness_ref: float | None = None
    likeness_train: float | None = None

    @property
    def error_rate(self) -> float:
        return float(self.scores["error_rate"])


@dataclass
class PairResult:
    """One GPT/SoVITS pair and its takes."""

    label: str  # "SoVITS e8 + GPT e12"
    sweep: str  # "sovits" (each SoVITS export with the latest GPT) | "gpt" (each GPT with the best SoVITS)
    gpt: str
    sovits: str
    takes: list[Take] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)  # synthesis_s, asr_s, likeness_s

    def summary(self) -> dict[str, Any]:
        n = len(self.takes)
        likeness_ref = [t.likeness_ref for t in self.takes if t.likeness_ref is not None]
        likeness_train = [t.likeness_train for t in self.takes if t.likeness_train is not None]
        return {
            "takes": n,
            "median_error": round(statistics.median(t.error_rate for t in self.takes), 4) if n else None,
            "skip_share": round(sum(t.scores["skips"] > 0 for t in self.takes) / n, 4) if n else None,
            "repeat_share": round(sum(t.scores["repeats"] > 0 for t in self.takes) / n, 4) if n else None,
            "runaways": sum(t.pace in ("runaway", "token cap") for t in self.takes),
            "truncations": sum(t.pace == "truncated" for t in self.takes),
            "likeness_ref": round(statistics.median(likeness_ref), 4) if likeness_ref else None,
            "likeness_train": round(statistics.median(likeness_train), 4) if likeness_train else None,
        }


def problem_score(s: dict[str, Any]) -> float:
    """Lower is better: median error + shares of takes with a skip, a repeat, a runaway/truncation."""
    n = max(1, s["takes"])
    return float(s["median_error"] + s["skip_share"] + s["repeat_share"] + (s["runaways"] + s["truncations"]) / n)


def _epoch_key(pair: PairResult) -> tuple[int, int]:
    from ..infer.weights_choice import epoch_of

    return (epoch_of("sovits", Path(pair.sovits).name) or -1, epoch_of("gpt", Path(pair.gpt).name) or -1)


def ranking(pairs: list[PairResult]) -> list[int]:
    """Indices of ``pairs``, best first (see the module docstring)."""
    summaries = [p.summary() for p in pairs]
    scored = [i for i, s in enumerate(summaries) if s["takes"]]
    if not scored:
        return list(range(len(pairs)))
    best = min(problem_score(summaries[i]) for i in scored)

    def key(i: int) -> tuple[Any, ...]:
        score = problem_score(summaries[i])
        tied = score - best < TIE
        like = summaries[i]["likeness_train"]
        like = summaries[i]["likeness_ref"] if like is None else like
        return (not tied, score if not tied else 0.0, -(like if like is not None else -1.0),
                tuple(-e for e in _epoch_key(pairs[i])))

    return sorted(scored, key=key) + [i for i in range(len(pairs)) if i not in scored]


def reason(pairs: list[PairResult], order: list[int], unit: str) -> str:
    """One sentence saying why the first of ``order`` was recommended."""
    best = pairs[order[0]].summary()
    rate = unit.upper()
    text = (f"lowest problem score: median {rate} {best['median_error']:.1%}, "
            f"{best['skip_share']:.0%} of takes with a skip, {best['repeat_share']:.0%} with a repeat, "
            f"{best['runaways']} runaway(s), {best['truncations']} truncation(s)")
    if len(order) > 1:
        nxt = pairs[order[1]].summary()
        gap = problem_score(nxt) - problem_score(best)
        if gap < TIE:
            like = best["likeness_train"] if best["likeness_train"] is not None else best["likeness_ref"]
            text += (f"; tied with {pairs[order[1]].label} on intelligibility, chosen for its likeness"
                     f" {like:.3f}" if like is not None else f"; tied with {pairs[order[1]].label}, the later export")
        else:
            text += f"; next best {pairs[order[1]].label} scores {gap:.2f} worse"
    return text


@dataclass
class CheckupReport:
    """Everything one checkup measured, as stored in ``checkups/<time>.json``."""

    project: str
    language: str
    unit: str  # "cer" | "wer"
    created: str
    reference: dict[str, str]
    sentences: list[str]
    pairs: list[PairResult]
    recommended: int | None = None  # index into pairs
    reason: str = ""
    pace: dict[str, float] = field(default_factory=dict)  # centre/spread of tokens per phoneme
    asr: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None  # where it was read from / written to (not stored)

    def rows(self) -> list[tuple[PairResult, dict[str, Any]]]:
        """Each pair with its summary, sorted by the recommendation (best first)."""
        return [(self.pairs[i], self.pairs[i].summary()) for i in ranking(self.pairs)]

    @property
    def best(self) -> PairResult | None:
        return self.pairs[self.recommended] if self.recommended is not None else None

    def take_path(self, take: Take) -> Path:
        """The take's wav on disk (``path`` must be set: a loaded or saved report)."""
        assert self.path is not None
        return self.path.with_suffix("") / take.wav

    def to_json(self) -> dict[str, Any]:
        data = {k: v for k, v in asdict(self).items() if k != "path"}
        for p, d in zip(self.pairs, data["pairs"]):
            d["summary"] = p.summary()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any], path: Path | None = None) -> CheckupReport:
        pairs = []
        for d in data["pairs"]:
            d = {k: v for k, v in d.items() if k != "summary"}
            d["takes"] = [Take(**t) for t in d.get("takes", [])]
            pairs.append(PairResult(**d))
        fields = {k: v for k, v in data.items() if k not in ("pairs", "path")}
        return cls(pairs=pairs, path=path, **fields)

    def markdown(self) -> str:
        rate = self.unit.upper()
        lines = [f"# Checkup of {self.project} — {self.created}", ""]
        if self.best is not None:
            lines += [(f"**Recommended:** {self.best.label} — `{Path(self.best.gpt).name}` + "
                      f"`{Path(self.best.sovits).name}`"), "", f"Why: {self.reason}.", ""]
        lines += [f"{len(self.sentences)} sentences per pair, reference `{Path(self.reference.get('audio_path', '')).name}`.",
                  "", f"| pair | median {rate} | skips | repeats | runaways | truncations | likeness (ref / training) |",
                  "|---|---|---|---|---|---|---|"]

        def f(v: float | None, fmt: str) -> str:
            return "–" if v is None else format(v, fmt)

        for pair, s in self.rows():
            lines.append(f"| {pair.label} | {f(s['median_error'], '.1%')} | {f(s['skip_share'], '.0%')} | "
                         f"{f(s['repeat_share'], '.0%')} | {s['runaways']} | {s['truncations']} | "
                         f"{f(s['likeness_ref'], '.3f')} / {f(s['likeness_train'], '.3f')} |")
        lines += ["", "Skips and repeats are shares of takes; see docs/checkup.md for what each number means."]
        return "\n".join(lines) + "\n"

    def save(self, path: Path) -> None:
        """Write ``path`` (JSON) and the markdown summary beside it (``.md``)."""
        self.path = Path(path)
        atomic_write_text(self.path, json.dumps(self.to_json(), ensure_ascii=False, indent=1))
        atomic_write_text(self.path.with_suffix(".md"), self.markdown())


class ReportError(ValueError):
    """A checkup report file that cannot be read."""


def load_report(path: Path) -> CheckupReport:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return CheckupReport.from_json(data, Path(path))
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ReportError(f"{path}: not a readable checkup report ({e})") from e


def report_paths(project_root: Path) -> list[Path]:
    """The project's checkup reports, oldest first (names are sortable times)."""
    folder = Path(project_root) / REPORT_DIR
    return sorted(folder.glob("*.json")) if folder.is_dir() else []


def latest_report(project_root: Path) -> CheckupReport | None:
    """The newest readable report of the project, or None when it has none."""
    for path in reversed(report_paths(project_root)):
        try:
            return load_report(path)
        except ReportError:
            continue
    return None
