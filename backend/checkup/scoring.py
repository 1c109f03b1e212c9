"""One take's intelligibility: the edit distance between what was asked and what the ASR heard.

The alignment (jiwer's) gives the error rate and two counts people care about more than the
rate itself: **skips** — units of the sentence missing from the take (deletions; 吞字) — and
**repeats** — extra units that duplicate their neighbour in the take (an insertion equal to the
units right before or after it, e.g. "the the" or "你好你好"). Other insertions and
substitutions count in the rate only: they are usually the ASR mishearing, not the voice.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from .normalize import tokens, unit


@dataclass(frozen=True)
class Intelligibility:
    """Scores of one transcript against its sentence (units: characters/kana or words)."""

    unit: str  # "cer" | "wer"
    error_rate: float  # (substitutions + deletions + insertions) / reference length
    reference_units: int
    hits: int
    substitutions: int
    deletions: int
    insertions: int
    skips: int  # deleted units
    repeats: int  # inserted units that duplicate a neighbour
    hypothesis: str  # the transcript as scored (normalised units joined)

    @property
    def has_skip(self) -> bool:
        return self.skips > 0

    @property
    def has_repeat(self) -> bool:
        return self.repeats > 0

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "error_rate": round(self.error_rate, 4)}


def _repeated_units(hyp: list[str], start: int, end: int) -> int:
    """How many of the inserted ``hyp[start:end]`` duplicate what stands beside them."""
    run = hyp[start:end]
    n = len(run)
    if hyp[max(0, start - n):start] == run or hyp[end:end + n] == run:
        return n
    count = 0
    for i in range(start, end):
        if (i > 0 and hyp[i - 1] == hyp[i]) or (i + 1 < len(hyp) and hyp[i + 1] == hyp[i]):
            count += 1
    return count


def align(reference: list[str], hypothesis: list[str], kind: str) -> Intelligibility:
    """Score already-normalised units (``kind`` = "cer" or "wer", for the record)."""
    import jiwer

    if not reference:
        raise ValueError("the sentence has no scorable units after normalisation")
    sep = " " if kind == "wer" else ""
    if not hypothesis:
        n = len(reference)
        return Intelligibility(kind, 1.0, n, 0, 0, n, 0, n, 0, "")
    # units may hold no spaces (they come from a whitespace split or single characters), so a
    # space-joined string is split back into exactly these units by jiwer
    out = jiwer.process_words(" ".join(reference), " ".join(hypothesis))
    repeats = 0
    for chunk in out.alignments[0]:
        if chunk.type == "insert":
            repeats += _repeated_units(hypothesis, chunk.hyp_start_idx, chunk.hyp_end_idx)
    errors = out.substitutions + out.deletions + out.insertions
    return Intelligibility(kind, errors / len(reference), len(reference), out.hits, out.substitutions,
                           out.deletions, out.insertions, out.deletions, repeats, sep.join(hypothesis))


def score(sentence: str, transcript: str, language: str) -> Intelligibility:
    """Normalise both sides the same way for ``language``, then align (see :func:`align`)."""
    return align(tokens(sentence, language), tokens(transcript, language), unit(language))
