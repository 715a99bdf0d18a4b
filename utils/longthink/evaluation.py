"""Accuracy of a model on an evaluation set, overall and by difficulty, graded with ``longthink.grading.grade``.

An evaluation set is any ``datasets.Dataset`` (or list of dicts) with ``question`` and ``answer`` columns and,
for the breakdown, ``difficulty`` (the tiny world's eval sets have all three). Generation is greedy by default
and batched (``longthink.generation``). The result keeps every completion, so a notebook can show samples.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field


@dataclass
class EvalResult:
    accuracy: float
    by_difficulty: dict[int, float]
    mean_tokens: float
    rows: list[dict] = field(default_factory=list)  # question, answer, difficulty, completion, correct, tokens

    def metrics(self, prefix: str) -> dict[str, float]:
        """Flat metrics: ``<prefix>_acc`` and ``<prefix>_acc_d<k>`` for every difficulty."""
        out = {f"{prefix}_acc": self.accuracy}
        out.update({f"{prefix}_acc_d{k}": v for k, v in sorted(self.by_difficulty.items())})
        return out


def _rows(dataset) -> list[dict]:
    rows = [dict(r) for r in dataset]
    for i, r in enumerate(rows):
        missing = [c for c in ("question", "answer") if c not in r]
        if missing:
            raise ValueError(f"evaluation row {i} lacks column(s) {missing}; it has {sorted(r)}")
    return rows


def score(completions: list[str], golds: list[str]) -> list[bool]:
    from longthink.grading import grade

    return [bool(grade(c, g)) for c, g in zip(completions, golds, strict=True)]


def evaluate(model, tokenizer, dataset, *, max_new_tokens: int = 48, batch_size: int = 128, prefill: str = "",
             do_sample: bool = False, temperature: float = 1.0, seed: int | None = None,
             progress: bool = False) -> EvalResult:
    """Generate an answer to every question, grade it, and break accuracy down by difficulty."""
    from longthink.generation import generate

    rows = _rows(dataset)
    if not rows:
        raise ValueError("the evaluation set is empty")
    gen = generate(model, tokenizer, [r["question"] for r in rows], max_new_tokens=max_new_tokens,
                   batch_size=batch_size, prefill=prefill, do_sample=do_sample, temperature=temperature, seed=seed,
                   progress=progress)
    correct = score(gen.texts, [str(r["answer"]) for r in rows])
    buckets: dict[int, list[bool]] = defaultdict(list)
    out_rows = []
    for r, text, ok, n in zip(rows, gen.texts, correct, gen.num_tokens, strict=True):
        k = int(r.get("difficulty", 0))
        buckets[k].append(ok)
        out_rows.append({"question": r["question"], "answer": str(r["answer"]), "difficulty": k,
                         "completion": text, "correct": ok, "tokens": n})
    return EvalResult(
        accuracy=sum(correct) / len(correct),
        by_difficulty={k: sum(v) / len(v) for k, v in sorted(buckets.items())},
        mean_tokens=sum(gen.num_tokens) / len(gen.num_tokens),
        rows=out_rows,
    )
