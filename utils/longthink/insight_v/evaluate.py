"""Evaluation: accuracy by question kind, the summary agent on flawed chains, and where chains go wrong.

* Every system's answers are judged with the same answer filter as data generation (the tiny world: its own
  matcher; boxes at IoU > 0.5) and averaged by question kind, then over the *reasoning* kinds (``acc_*``, the
  MMMU / MathVista analog) and the *perception* kinds (``acc_perception_*``, the Table 2 analog).
* Flawed chains: the world's chain teacher writes, for evaluation questions, chains with exactly one real mistake
  (``error_rate=1``); ``chain_acc_on_flawed`` is how often such a chain's own answer is still right, and
  ``summary_acc_on_flawed`` how often the summary agent, given the chain and the image, answers right. The gap is
  what judging a chain instead of copying it buys.
* The error table classifies each two-agent answer: the chain right or wrong (its first step that disagrees with the
  world's faithful chain, by the step's title), and whether the summary agent kept a right chain's answer or
  rescued a wrong one.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

from longthink.insight_v.inference import Answer
from longthink.insight_v.judge import JudgeItem
from longthink.insight_v.scorer import leading_agreement
from longthink.insight_v.steps import chain_steps, format_chain, steps_of_chain, world_teacher


def grade(answers: Sequence[Answer], questions: dict[str, dict], judge) -> None:
    """Set ``correct`` on every answer (in place)."""
    verdicts = judge.judge([JudgeItem(questions[a.question_id]["question"], questions[a.question_id]["answer"],
                                      a.answer, questions[a.question_id].get("kind")) for a in answers])
    for a, ok in zip(answers, verdicts):
        a.correct = bool(ok)


def by_kind(answers: Sequence[Answer], questions: dict[str, dict]) -> dict[str, float]:
    hits: dict[str, list[bool]] = defaultdict(list)
    for a in answers:
        hits[questions[a.question_id]["kind"]].append(bool(a.correct))
    return {k: sum(v) / len(v) for k, v in hits.items()}


def group_accuracy(answers: Sequence[Answer], questions: dict[str, dict], kinds: Sequence[str]) -> float | None:
    """Accuracy over the answers whose question is of one of ``kinds`` (None when there is none)."""
    picked = [bool(a.correct) for a in answers if questions[a.question_id]["kind"] in kinds]
    return sum(picked) / len(picked) if picked else None


def flawed_chains(questions: Sequence[dict], chains, *, per_kind: int, seed: int,
                  keep_answer_step: bool, plan_step: bool = False) -> list[dict[str, Any]]:
    """Chains with one injected mistake for up to ``per_kind`` questions of each kind (a chain whose mistake never
    happened, e.g. no step where the drawn error kind applies, is skipped)."""
    teacher = world_teacher(chains, error_rate=1.0, seed=seed + 31, plan_step=plan_step)
    taken: Counter = Counter()
    out = []
    for q in questions:
        if taken[q["kind"]] >= per_kind or q.get("example") is None:
            continue
        chain = teacher.chain(q["example"])
        if chain.error is None:
            continue
        taken[q["kind"]] += 1
        out.append({"question_id": q["id"], "kind": q["kind"], "chain": format_chain(
            chain_steps(chain.steps, keep_answer_step=keep_answer_step)), "chain_answer": chain.answer,
            "chain_correct": bool(chain.correct), "error": chain.error["kind"]})
    return out


def flawed_summary(flawed: Sequence[dict], summary_answers: Sequence[str], questions: dict[str, dict],
                   judge) -> dict[str, Any]:
    """Summary-agent vs chain accuracy on flawed chains, overall, by kind and by error kind."""
    verdicts = judge.judge([JudgeItem(questions[f["question_id"]]["question"], questions[f["question_id"]]["answer"],
                                      a, f["kind"]) for f, a in zip(flawed, summary_answers)])
    rows = [{**f, "summary_answer": a, "summary_correct": bool(ok)}
            for f, a, ok in zip(flawed, summary_answers, verdicts)]
    n = max(len(rows), 1)

    def table(key: str) -> dict[str, dict[str, float]]:
        out: dict[str, dict[str, float]] = {}
        for value in sorted({r[key] for r in rows}):
            sub = [r for r in rows if r[key] == value]
            out[value] = {"n": len(sub), "chain": sum(r["chain_correct"] for r in sub) / len(sub),
                          "summary": sum(r["summary_correct"] for r in sub) / len(sub)}
        return out

    return {"n": len(rows), "chain_acc": sum(r["chain_correct"] for r in rows) / n,
            "summary_acc": sum(r["summary_correct"] for r in rows) / n, "by_kind": table("kind"),
            "by_error": table("error"), "rows": rows}


def first_wrong_step(chain: str, gold: Sequence[dict[str, str]]) -> str:
    """Where a chain first departs from the faithful one: that step's title (its first word), ``right`` when it
    never does, ``short`` when it stops early, ``long`` when it runs on."""
    steps = steps_of_chain(chain)
    agree = leading_agreement(steps, gold)
    if agree == len(steps) == len(gold):
        return "right"
    if agree == len(steps):
        return "short"
    if agree == len(gold):
        return "long"
    title = gold[agree].get("title", "") or "?"
    return title.split()[0].lower()


def error_table(answers: Sequence[Answer], questions: dict[str, dict], gold_of) -> list[dict[str, Any]]:
    """Two-agent answers by kind x (where the chain went wrong, whether the final answer is right)."""
    counts: Counter = Counter()
    for a in answers:
        q = questions[a.question_id]
        where = first_wrong_step(a.chain or "", gold_of(q)) if a.chain is not None else "no chain"
        counts[(q["kind"], where, bool(a.correct))] += 1
    return [{"kind": k, "chain": w, "answer": "right" if ok else "wrong", "count": c}
            for (k, w, ok), c in sorted(counts.items())]
