"""s1's test-time scaling metrics (§3.2): Control, Scaling and Performance over a set of evaluation runs.

A *run* is one setting of a method (one budget, one number of Waits, one TCC budget ...) evaluated on the whole
set; it has a measured average of thinking tokens and an accuracy. With f the piecewise-linear curve of accuracy
against thinking tokens:

* Control = share of runs whose average thinking tokens lie inside the run's own limits [a_min, a_max];
* Scaling = mean over all pairs of runs a < b (ordered by measured tokens) of the slope (f(b) - f(a)) / (b - a);
* Performance = max f.

The unit of Scaling is not stated in the paper; the card recovers Table 3 with x = log2(average thinking tokens)
and f in accuracy points (0-100), so Scaling here is "points per doubling of thinking". Performance is returned
as a fraction (0-1) like every other accuracy of the kit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class RunPoint:
    """One evaluation run of a method."""

    method: str
    setting: str
    avg_thinking_tokens: float
    accuracy: float
    a_min: float | None = None
    a_max: float | None = None

    @property
    def in_control(self) -> bool:
        lo = self.a_min if self.a_min is not None else -math.inf
        hi = self.a_max if self.a_max is not None else math.inf
        return lo <= self.avg_thinking_tokens <= hi


def control(runs: Sequence[RunPoint]) -> float | None:
    """Share of runs within their limits; None when no run of the method states a limit."""
    limited = [r for r in runs if r.a_min is not None or r.a_max is not None]
    if not limited:
        return None
    return sum(r.in_control for r in limited) / len(limited)


def scaling(runs: Sequence[RunPoint]) -> float | None:
    """Mean pairwise slope in accuracy points per doubling of average thinking tokens (None for < 2 runs)."""
    pts = sorted((math.log2(max(r.avg_thinking_tokens, 1e-9)), 100.0 * r.accuracy) for r in runs)
    slopes = [
        (fb - fa) / (xb - xa)
        for i, (xa, fa) in enumerate(pts)
        for xb, fb in pts[i + 1 :]
        if xb - xa > 1e-12
    ]
    return sum(slopes) / len(slopes) if slopes else None


def performance(runs: Sequence[RunPoint]) -> float | None:
    return max((r.accuracy for r in runs), default=None)


def method_table(runs: Sequence[RunPoint]) -> list[dict]:
    """Table 3: one row per method with Control, Scaling and Performance."""
    methods = list(dict.fromkeys(r.method for r in runs))
    table = []
    for m in methods:
        rs = [r for r in runs if r.method == m]
        table.append({"method": m, "runs": len(rs), "control": control(rs), "scaling": scaling(rs),
                      "performance": performance(rs)})
    return table
