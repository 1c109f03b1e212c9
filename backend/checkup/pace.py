"""Runaway and truncated generations, read from how many GPT tokens each phoneme got.

The GPT emits 25 semantic tokens per second of speech, so tokens per phoneme is the speaking
pace as the model chose it. A voice keeps a fairly steady pace; a take far slower than the rest
(the GPT babbling on, repeating, or never emitting its end token) is a **runaway**, one far
faster (the GPT stopping after half the sentence) is **truncated**. A take that stopped at the
token cap is a runaway whatever its pace. "Far" is measured against a centre and a spread: in a
checkup the median and the median absolute deviation of all its takes; for one synthesis the
pace of the reference clip itself (its prompt tokens per prompt phoneme).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

RUNAWAY = "runaway"
TRUNCATED = "truncated"
CAP = "token cap"

FAR = 4.0  # spreads from the centre
MIN_RATIO = 2.0  # and at least this many times slower / faster than the centre
MIN_SPREAD = 0.15  # the spread never counts as less than this share of the centre


@dataclass(frozen=True)
class Pace:
    """Where a set of takes normally lies, in tokens per phoneme."""

    centre: float
    spread: float

    @classmethod
    def of(cls, rates: list[float]) -> Pace:
        """The median and the scaled median absolute deviation of ``rates`` (robust to the outliers
        this is meant to find)."""
        if not rates:
            raise ValueError("no takes to measure a pace from")
        centre = statistics.median(rates)
        mad = statistics.median(abs(r - centre) for r in rates) * 1.4826
        return cls(centre, max(mad, MIN_SPREAD * centre))

    @classmethod
    def around(cls, centre: float) -> Pace:
        """A pace known from one measurement (the reference): the least spread allowed."""
        return cls(centre, MIN_SPREAD * centre)

    def judge(self, tokens: int, phones: int, hit_cap: bool) -> str | None:
        """``None`` for a take at a normal pace, else :data:`CAP`, :data:`RUNAWAY` or :data:`TRUNCATED`."""
        if hit_cap:
            return CAP
        r = rate(tokens, phones)
        if r > self.centre + FAR * self.spread and r > MIN_RATIO * self.centre:
            return RUNAWAY
        if r < self.centre - FAR * self.spread and r < self.centre / MIN_RATIO:
            return TRUNCATED
        return None


def hit_cap(tokens: int, max_tokens: int) -> bool:
    """Whether a piece of ``tokens`` semantic tokens stopped at the step cap: the pipeline hands
    SoVITS the tokens after the stop index, one fewer than the steps taken, as officially."""
    return tokens >= max_tokens - 1


def rate(tokens: int, phones: int) -> float:
    """GPT tokens per phoneme (a take without phonemes has no pace: 0)."""
    return tokens / phones if phones > 0 else 0.0
