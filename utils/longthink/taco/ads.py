"""Adaptive difficulty sampling (ADS): draw moderate-difficulty samples more often.

What is known (card §2.4): difficulty is a sample's position in the reward distribution; an ECDF over all samples,
recomputed each epoch, with fixed percentile thresholds favours the moderate ones. Why it helps GRPO: a group whose
G completions all earn the same reward (all right or all wrong) has zero advantage and teaches nothing
(``frac_reward_zero_std`` counts them); moderate samples give mixed groups.

Kit algorithm: ``r̄_i`` = the mean reward (``ads_reward``: the task's accuracy by default) of index i's latest group;
``p_i`` = ECDF(r̄_i) over every sample seen, ties at their mid-rank; weight 1 if ``p_lo ≤ p_i ≤ p_hi`` else
``w_min``; a sample not seen yet weighs 1. The first ``warmup_epochs`` are uniform (every sample once, so each gets
a mean). :class:`DifficultyTracker` keeps the means; ``longthink.taco.trainer.AdaptiveDifficultyCallback`` hands
the weights to the sampler at each epoch start.
"""

from __future__ import annotations

from collections.abc import Sequence


def ecdf_midrank(values: Sequence[float]) -> list[float]:
    """``p_i = (#{v < v_i} + ½ #{v = v_i}) / n`` for each value (0.5 for a lone value)."""
    n = len(values)
    if n == 0:
        return []
    ordered = sorted(values)
    import bisect

    return [(bisect.bisect_left(ordered, v) + 0.5 * (bisect.bisect_right(ordered, v) - bisect.bisect_left(ordered, v)))
            / n for v in values]


def band_weights(positions: Sequence[float], *, p_lo: float, p_hi: float, w_min: float) -> list[float]:
    """1 inside ``[p_lo, p_hi]``, ``w_min`` outside."""
    return [1.0 if p_lo <= p <= p_hi else float(w_min) for p in positions]


class DifficultyTracker:
    """The latest group-mean reward of each dataset index, and the sampling weights they give."""

    def __init__(self, n: int, *, p_lo: float = 0.2, p_hi: float = 0.8, w_min: float = 0.1):
        if not 0 <= p_lo <= p_hi <= 1:
            raise ValueError(f"need 0 <= ads_p_lo <= ads_p_hi <= 1, got {p_lo!r}, {p_hi!r}")
        if not 0 <= w_min <= 1:
            raise ValueError(f"ads_w_min must be in [0, 1], got {w_min!r}")
        self.n, self.p_lo, self.p_hi, self.w_min = n, p_lo, p_hi, w_min
        self.mean_reward: dict[int, float] = {}

    def record(self, index: int, group_mean: float) -> None:
        if 0 <= int(index) < self.n and group_mean == group_mean:  # NaN: nothing scored this group
            self.mean_reward[int(index)] = float(group_mean)

    def positions(self) -> dict[int, float]:
        """ECDF position of every seen index."""
        seen = sorted(self.mean_reward)
        return dict(zip(seen, ecdf_midrank([self.mean_reward[i] for i in seen])))

    def weights(self) -> list[float]:
        """One weight per dataset index (unseen: 1)."""
        pos = self.positions()
        inside = band_weights(list(pos.values()), p_lo=self.p_lo, p_hi=self.p_hi, w_min=self.w_min)
        out = [1.0] * self.n
        for i, w in zip(pos, inside):
            out[i] = w
        return out

    def summary(self) -> dict[str, float]:
        w = self.weights()
        return {"seen": len(self.mean_reward), "favoured": sum(x == 1.0 for x in w) / max(1, len(w)),
                "mean_reward": sum(self.mean_reward.values()) / max(1, len(self.mean_reward))}
