"""Insight-V's exercises (``longthink.exercises``): the routing of scored paths (tiers, then the reasoning set), and
the choice of a DPO preference pair. Each is checked against the function the kit itself runs
(``longthink.insight_v.routing.route`` with ``scorer.tier``, ``longthink.insight_v.dpo.build_pairs``)."""

from __future__ import annotations

import random

from longthink.exercises import Exercise, exact
from longthink.insight_v.dpo import build_pairs
from longthink.insight_v.routing import REASONING, route
from longthink.insight_v.scorer import tier
from longthink.insight_v.steps import Path


# ------------------------------------------------------------------------------------------------- routing
def _route(paths, high, mid, per_question) -> dict:
    """The kit's answer: the tier of every path, and the reasoning set as (question_id, index) pairs."""
    built = [Path(p["question_id"], p["index"], [], correct=p["correct"], score=p["score"],
                  tier=tier(p["score"], high=high, mid=mid)) for p in paths]
    routed = route(built, reasoning_per_question=per_question, summary_per_question=0, summary_wrong_share=None,
                   seed=0)
    return {"tiers": [p.tier for p in built], "reasoning": [(p.question_id, p.index) for p in routed[REASONING]]}


def _path(qid: str, index: int, correct: bool, score: int) -> dict:
    return {"question_id": qid, "index": index, "correct": correct, "score": score}


def _route_cases(rng: random.Random) -> list[tuple]:
    # (paths, high, mid, per_question)
    edge = [
        ([_path("q1", 0, True, 100), _path("q1", 1, True, 60), _path("q1", 2, False, 20)], 80, 50, 1),
        ([_path("q1", 0, True, 80), _path("q1", 1, True, 79)], 80, 50, 1),        # the cut-off itself is High
        ([_path("q1", 0, True, 90), _path("q1", 1, True, 95), _path("q1", 2, True, 95)], 80, 50, 1),  # ties: earlier
        ([_path("q1", 0, False, 100), _path("q1", 1, True, 50)], 80, 50, 1),      # a wrong High path: not reasoning
        ([_path("q2", 0, True, 85), _path("q1", 0, True, 90), _path("q2", 1, True, 99)], 80, 50, 1),  # question order
        ([_path("q1", 0, True, 85), _path("q1", 1, True, 99), _path("q1", 2, True, 90)], 80, 50, 2),  # two per question
        ([_path("q1", 0, True, 49), _path("q1", 1, False, 50)], 80, 50, 1),       # Low and Mid, nothing routed
    ]
    rand = []
    for _ in range(40):
        n_q = rng.randint(1, 4)
        qids = [f"q{rng.randint(0, 99)}" for _ in range(n_q)]
        paths = []
        for qid in dict.fromkeys(qids):
            for i in range(rng.randint(1, 4)):
                paths.append(_path(qid, i, rng.random() < 0.6, rng.choice([1, 30, 49, 50, 66, 79, 80, 90, 100])))
        rng.shuffle(paths)
        high = rng.choice([70, 80, 90])
        rand.append((paths, high, rng.choice([40, 50, high - 1]), rng.choice([1, 1, 2])))
    return edge + rand


# ----------------------------------------------------------------------------------------------- DPO pairs
def _pairs(candidates, pairs_per_question) -> list[tuple]:
    pairs, _ = build_pairs(candidates, pairs_per_question=pairs_per_question)
    return [(p["question_id"], p["chosen"], p["rejected"]) for p in pairs]


def _cand(qid: str, sample: int, correct: bool, score: int, chain: str | None = None) -> dict:
    return {"question_id": qid, "sample": sample, "correct": correct, "score": score,
            "chain": chain if chain is not None else f"chain {qid}/{sample}"}


def _pair_cases(rng: random.Random) -> list[tuple]:
    # (candidates, pairs_per_question)
    edge = [
        ([_cand("q1", 0, True, 100), _cand("q1", 1, False, 40), _cand("q1", 2, False, 10)], 1),  # wrong: lowest first
        ([_cand("q1", 0, True, 70), _cand("q1", 1, True, 100), _cand("q1", 2, False, 90)], 1),   # best correct chosen
        ([_cand("q1", 0, True, 100), _cand("q1", 1, True, 60), _cand("q1", 2, True, 80)], 1),    # all right: lowest
        ([_cand("q1", 0, True, 90), _cand("q1", 1, True, 90)], 1),                               # no contrast: skipped
        ([_cand("q1", 0, False, 30), _cand("q1", 1, False, 80)], 1),                             # nothing correct
        ([_cand("q1", 0, True, 100, "same"), _cand("q1", 1, False, 20, "same")], 1),             # same chain: skipped
        ([_cand("q1", 0, True, 100), _cand("q1", 1, True, 80), _cand("q1", 2, False, 5),
          _cand("q1", 3, False, 50)], 2),                                                         # two pairs
        ([_cand("q2", 0, True, 90), _cand("q2", 1, False, 9), _cand("q1", 0, True, 50), _cand("q1", 1, False, 1)], 1),
    ]
    rand = []
    for _ in range(40):
        cands = []
        for qid in dict.fromkeys(f"q{rng.randint(0, 99)}" for _ in range(rng.randint(1, 4))):
            for s in range(rng.randint(1, 5)):
                chain = "dup" if rng.random() < 0.1 else None
                cands.append(_cand(qid, s, rng.random() < 0.5, rng.choice([1, 20, 50, 80, 100]), chain))
        rand.append((cands, rng.choice([1, 1, 2])))
    return edge + rand


EXERCISES: dict[str, Exercise] = {
    "insight_v.route": Exercise(
        name="insight_v.route",
        signature="route(paths, high, mid, per_question)",
        task=("paths is a list of assessed paths, dicts with question_id, index (which of the question's runs), "
              "correct (the answer filter) and score (1-100, the path scorer). Return a dict with 'tiers': the tier "
              "of every path in order ('High' if score >= high, 'Mid' if score >= mid, else 'Low'), and 'reasoning': "
              "the reasoning set as (question_id, index) tuples: per question (in the order questions first appear), "
              "the best per_question paths that are correct AND High, by highest score, ties to the lower index. (The "
              "summary set takes paths of every tier and wrong answers too, drawn at random: not part of this one.)"),
        reference=_route,
        cases=_route_cases,
        compare=exact,
        hint=("group the paths by question_id keeping first-seen order; in each group keep correct and High paths, "
              "sort them by (-score, index) and take the first per_question."),
        solution=(route, tier),
    ),
    "insight_v.dpo_pair": Exercise(
        name="insight_v.dpo_pair",
        signature="dpo_pairs(candidates, pairs_per_question)",
        task=("candidates are the chains one DPO round sampled, dicts with question_id, sample, chain, correct "
              "(the summary agent's answer judged right) and score (the path scorer's 1-100). Return the preference "
              "pairs as (question_id, chosen_chain, rejected_chain) tuples, questions in first-seen order. Per "
              "question: chosen chains are the correct ones, best first (highest score, ties to the lower sample); "
              "rejected chains are the wrong ones, lowest score first (ties to the lower sample), then the correct "
              "ones other than the best that score strictly below the best, lowest first. Pair them in order "
              "(1st chosen with 1st rejected, ...), skip a pair whose two chains are the same text, and stop at "
              "pairs_per_question. A question without a correct chain, or without contrast, gives no pair."),
        reference=_pairs,
        cases=_pair_cases,
        compare=exact,
        hint=("right = correct sorted by (-score, sample); wrong = not correct sorted by (score, sample); lows = "
              "right[1:] with score < right[0]['score'] sorted by (score, sample); zip(right, wrong + lows)."),
        solution=(build_pairs,),
    ),
}
