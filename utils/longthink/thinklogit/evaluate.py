"""Scores of sampled systems: pass@1 over k samples, maj@k, pass@k, mean tokens, behaviour counts, relative gains.

pass@1 is the unbiased estimator with n = k, k = 1, i.e. the mean accuracy over the k samples of a question,
then over questions; a benchmark average is the mean over benchmarks (the card's relative improvement is the
relative gain of that average over the target alone: (m - t) / t). Behaviour counts follow upstream
``eval/behaviour_analysis.py`` (keyword counts per output; lower-cased words instead of spaCy lemmas), plus the
re-check word "wait" that the tiny world's traces use.
"""

from __future__ import annotations

import re
from collections import defaultdict
from statistics import mean

BEHAVIOURS: dict[str, tuple[str, ...]] = {
    "recheck": ("wait",),
    "branching": ("alternatively", "another", "try", "suppose", "consider", "different", "assume", "also", "option"),
    "backtracking": ("however", "but", "mistake", "error", "contradiction", "wrong", "revisit", "actually", "again",
                     "flawed"),
    "self_verification": ("check", "verify", "confirm", "satisfy", "plug", "back", "substitute", "ensure", "validate",
                          "test"),
}
WORD = re.compile(r"[a-z]+")


def behaviour_counts(text: str) -> dict[str, int]:
    """Keyword counts per behaviour in one output (upstream's three lists plus "recheck")."""
    words = WORD.findall(text.lower())
    return {name: sum(words.count(w) for w in keywords) for name, keywords in BEHAVIOURS.items()}


def _per_question(samples) -> dict[str, list]:
    groups: dict[str, list] = defaultdict(list)
    for s in samples:
        groups[s.question_id].append(s)
    return groups


def summarize(samples) -> dict:
    """Scores of one system's samples (every question must have the same number of samples)."""
    from longthink.grading import majority_vote, pass_at_k

    if not samples:
        raise ValueError("no samples to score")
    groups = _per_question(samples)
    sizes = {len(g) for g in groups.values()}
    if len(sizes) != 1:
        raise ValueError(f"every question needs the same number of samples, got sizes {sorted(sizes)}")
    k = sizes.pop()
    per_bench: dict[str, list[float]] = defaultdict(list)
    per_diff: dict[int, list[float]] = defaultdict(list)
    maj, any_correct = [], []
    for group in groups.values():
        acc = mean(float(s.correct) for s in group)
        per_bench[group[0].benchmark].append(acc)
        if group[0].difficulty is not None:
            per_diff[int(group[0].difficulty)].append(acc)
        voted = majority_vote([s.answer for s in group])
        maj.append(float(voted is not None and any(s.correct and s.answer == voted for s in group)))
        any_correct.append(pass_at_k(k, sum(s.correct for s in group), k))
    bench_acc = {b: mean(v) for b, v in per_bench.items()}
    behaviours = [behaviour_counts(s.text) for s in samples]
    stops = defaultdict(int)
    for s in samples:
        stops[s.stop] += 1
    return {
        "k": k,
        "n_questions": len(groups),
        "accuracy": mean(bench_acc.values()),  # benchmark average of pass@1
        "by_benchmark": bench_acc,
        "by_difficulty": {d: mean(v) for d, v in sorted(per_diff.items())},
        f"maj@{k}": mean(maj),
        f"pass@{k}": mean(any_correct),
        "mean_tokens": mean(s.n_tokens for s in samples),
        "behaviour": {name: mean(b[name] for b in behaviours) for name in BEHAVIOURS},
        "stops": dict(stops),
    }


def relative_gain(value: float, baseline: float) -> float:
    """(value - baseline) / baseline; inf when the baseline is 0 and the value is not."""
    if baseline == 0:
        return 0.0 if value == 0 else float("inf")
    return (value - baseline) / baseline


def table(summaries: dict[str, dict], *, baseline: str = "target"):
    """A tidy per-system table (accuracy, relative gain over ``baseline``, tokens, behaviours)."""
    import pandas as pd

    rows = []
    base = summaries.get(baseline, {}).get("accuracy")
    for name, s in summaries.items():
        row = {"system": name, "pass@1": s["accuracy"], "mean_tokens": s["mean_tokens"]}
        if base is not None:
            row[f"rel_gain_vs_{baseline}"] = relative_gain(s["accuracy"], base)
        row.update({f"maj@{s['k']}": s[f"maj@{s['k']}"], f"pass@{s['k']}": s[f"pass@{s['k']}"]})
        row.update({f"{b}_per_output": v for b, v in s["behaviour"].items()})
        rows.append(row)
    return pd.DataFrame(rows).set_index("system")
