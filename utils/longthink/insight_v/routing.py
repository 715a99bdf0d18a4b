"""Assessment and routing (card §2.2): judge every path, score it, bucket it, route it.

* The answer filter marks each path correct or wrong (``judge``); every path is scored and given a tier
  (``scorer``, High / Mid / Low).
* Reasoning set: correct **and** High paths, the best ``reasoning_per_question`` per question (highest score, then
  the earliest run). These become the reasoning agent's chains.
* Summary set: High, Mid and Low paths **and** the wrong-answer paths, at most ``summary_per_question`` per question,
  drawn as produced or, with ``summary_wrong_share``, preferring wrong-answer paths with that probability per
  slot (a knob of the card's section 5). The summary agent learns from them to judge a chain, not to copy it.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from longthink.insight_v.judge import JudgeItem
from longthink.insight_v.scorer import TIERS, ScoreItem, tier
from longthink.insight_v.steps import Path

REASONING, SUMMARY = "reasoning", "summary"


def assess(paths: Sequence[Path], questions: dict[str, dict[str, Any]], *, judge, scorer, high: int,
           mid: int) -> None:
    """Fill in ``correct``, ``score`` and ``tier`` of every path (in place)."""
    missing = sorted({p.question_id for p in paths} - set(questions))
    if missing:
        raise KeyError(f"paths name questions that are not in the question set: {missing[:5]}")
    verdicts = judge.judge([JudgeItem(questions[p.question_id]["question"], questions[p.question_id]["answer"],
                                      p.answer, questions[p.question_id].get("kind")) for p in paths])
    scores = scorer.score([ScoreItem(questions[p.question_id], p.steps) for p in paths])
    for p, ok, s in zip(paths, verdicts, scores):
        p.correct, p.score, p.tier = bool(ok), int(s), tier(int(s), high=high, mid=mid)


def route(paths: Sequence[Path], *, reasoning_per_question: int, summary_per_question: int,
          summary_wrong_share: float | None, seed: int) -> dict[str, list[Path]]:
    """The reasoning set and the summary set (each path's ``routes`` records where it went)."""
    by_q: dict[str, list[Path]] = defaultdict(list)
    for p in paths:
        if p.correct is None or p.tier is None:
            raise ValueError(f"path {p.question_id}/{p.index} is not assessed yet: call assess() first")
        p.routes = []
        by_q[p.question_id].append(p)
    reasoning, summary = [], []
    for qid in by_q:  # question order as given
        group = by_q[qid]
        good = sorted((p for p in group if p.correct and p.tier == "High"), key=lambda p: (-p.score, p.index))
        for p in good[:reasoning_per_question]:
            p.routes.append(REASONING)
            reasoning.append(p)
        rng = random.Random(f"summary-{seed}-{qid}")
        pool = list(group)
        rng.shuffle(pool)
        picked = []
        for _ in range(min(summary_per_question, len(pool))):
            wrong = [p for p in pool if not p.correct]
            right = [p for p in pool if p.correct]
            if summary_wrong_share is None or not wrong or not right:
                choice = pool[0]
            else:
                choice = wrong[0] if rng.random() < summary_wrong_share else right[0]
            pool.remove(choice)
            picked.append(choice)
        for p in sorted(picked, key=lambda p: p.index):
            p.routes.append(SUMMARY)
            summary.append(p)
    return {REASONING: reasoning, SUMMARY: summary}


def filter_table(paths: Sequence[Path], routed: dict[str, list[Path]]) -> list[dict[str, Any]]:
    """How many paths each filter keeps: generated, answer-correct, by tier, routed to each set."""
    rows = [{"filter": "generated", "paths": len(paths)},
            {"filter": "answer correct", "paths": sum(bool(p.correct) for p in paths)},
            {"filter": "answer wrong", "paths": sum(p.correct is False for p in paths)}]
    rows += [{"filter": f"tier {t}", "paths": sum(p.tier == t for p in paths)} for t in TIERS]
    rows += [{"filter": "correct and High", "paths": sum(bool(p.correct) and p.tier == "High" for p in paths)},
             {"filter": "reasoning set", "paths": len(routed[REASONING])},
             {"filter": "summary set", "paths": len(routed[SUMMARY])},
             {"filter": "summary set, wrong answer", "paths": sum(not p.correct for p in routed[SUMMARY])}]
    return rows


def tier_counts(paths: Sequence[Path]) -> list[dict[str, Any]]:
    """Paths by tier and verdict (the notebook's plot)."""
    return [{"tier": t, "answer": "correct" if ok else "wrong",
             "paths": sum(p.tier == t and bool(p.correct) == ok for p in paths)} for t in TIERS for ok in (True, False)]
