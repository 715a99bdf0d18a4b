"""The s1-style pool and the held-out evaluation sets of the tiny world, as ``datasets.Dataset``.

The pool has s1K-1.1's columns (``question``, ``solution``, ``cot_type``, ``source_type``, ``metadata``,
``thinking_trajectories`` [one string] and ``attempt`` from s1's teacher, the Gemini analog;
``deepseek_thinking_trajectory`` and ``deepseek_attempt`` from the guider's teacher, the R1 analog) so that the same
curation and fine-tuning code reads the real s1K-1.1 at paper scale, plus world columns: ``difficulty``, ``domain``,
``answer`` (the gold, a plain integer string), ``teacher_correct``, ``rechecks`` and ``steps`` (of s1's trace) and
``flaw`` (the garble applied, "" if none; for checking a filter, not for filtering).
Evaluation questions never appear in the pool (exact match); s1's 8-gram decontamination is the s1 code's job.
"""

from __future__ import annotations

import dataclasses
import json
import random
from collections.abc import Sequence

from longthink.text_world.tasks import DOMAINS, Problem, TaskError, check_difficulty, sample_problems
from longthink.text_world.teacher import GARBLES, TeacherSettings, distill_trace, long_trace

POOL_SEED_OFFSET = 101
EVAL_SEED_OFFSET = 202
HARD_SEED_OFFSET = 303
POOL_COLUMNS = ["question", "solution", "cot_type", "source_type", "metadata", "thinking_trajectories", "attempt"]


def _solution(problem: Problem) -> str:
    steps = ", ".join(f"{lab}: {v}" for (lab, _, _), v in zip(problem.ops, problem.values, strict=True))
    return f"Running values {steps}. The final value is $\\boxed{{{problem.answer}}}$."


def problem_row(problem: Problem) -> dict:
    """The columns every world row shares (pool and eval sets)."""
    return {
        "question": problem.question,
        "solution": _solution(problem),
        "answer": problem.answer,
        "difficulty": problem.difficulty,
        "domain": problem.domain,
        "cot_type": "math",
        "source_type": f"world/{problem.domain}",
        "metadata": json.dumps(
            {"subject": DOMAINS[problem.domain].subject, "difficulty": problem.difficulty, "start": problem.start,
             "ops": [f"{a}{b}{c}" for a, b, c in problem.ops]}
        ),
    }


def eval_problems(*, seed: int, difficulties: Sequence[int], n_per_difficulty: int,
                  domains: Sequence[str] | None = None) -> list[Problem]:
    out = []
    for k in difficulties:
        check_difficulty(k)
        out += sample_problems(n_per_difficulty, seed=seed * 1000 + EVAL_SEED_OFFSET + k, difficulties=[k],
                               domains=domains)
    return out


def hard_problems(*, seed: int, difficulties: Sequence[int], n: int, domains: Sequence[str] | None = None):
    return sample_problems(n, seed=seed * 1000 + HARD_SEED_OFFSET, difficulties=list(difficulties), domains=domains)


def build_eval_set(*, seed: int, difficulties: Sequence[int], n_per_difficulty: int,
                   domains: Sequence[str] | None = None):
    """The MATH500 analog: ``n_per_difficulty`` held-out problems at each difficulty."""
    from datasets import Dataset

    probs = eval_problems(seed=seed, difficulties=difficulties, n_per_difficulty=n_per_difficulty, domains=domains)
    return Dataset.from_list([problem_row(p) for p in probs])


def build_hard_set(*, seed: int, difficulties: Sequence[int], n: int, domains: Sequence[str] | None = None):
    """The AIME analog: ``n`` held-out problems at the hardest difficulties."""
    from datasets import Dataset

    return Dataset.from_list([problem_row(p) for p in hard_problems(seed=seed, difficulties=difficulties, n=n,
                                                                     domains=domains)])


def pool_rows(*, size: int, seed: int, difficulties: Sequence[int], domains: Sequence[str] | None = None,
              teacher: TeacherSettings = TeacherSettings(), exclude: Sequence[str] = ()) -> list[dict]:
    """``size`` pool rows: a problem, a teacher trace, and sometimes a garble."""
    if size < 1:
        raise TaskError(f"pool size must be >= 1, got {size}")
    problems = sample_problems(size, seed=seed * 1000 + POOL_SEED_OFFSET, difficulties=difficulties,
                               domains=domains, exclude=exclude)
    rng = random.Random(seed * 1000 + POOL_SEED_OFFSET + 1)
    garble_names = sorted(GARBLES)
    rows = []
    for p in problems:
        trace = long_trace(p, rng, teacher)
        # the guider's teacher draws from its own stream, so its settings never change s1's traces
        distill = distill_trace(p, random.Random(f"distill-{seed}-{p.question}"), teacher)
        row = problem_row(p)
        question, thinking, attempt, flaw = row["question"], trace["thinking"], trace["attempt"], ""
        if rng.random() < teacher.p_garbled:
            flaw = rng.choice(garble_names)
            question, thinking, attempt = GARBLES[flaw](question, thinking, attempt, rng)
        row.update(question=question, thinking_trajectories=[thinking], attempt=attempt,
                   teacher_correct=bool(trace["correct"] and attempt is not None), rechecks=trace["rechecks"],
                   steps=trace["steps"], flaw=flaw,
                   deepseek_thinking_trajectory=distill["thinking"], deepseek_attempt=distill["attempt"])
        rows.append(row)
    return rows


def build_pool(size: int | None = None, *, profile: str = "tiny", seed: int | None = None):
    """The pool as a ``datasets.Dataset`` (settings from recipes/world.yaml + the profile; ``size`` overrides)."""
    from datasets import Dataset

    from longthink.text_world.settings import world_settings

    s = world_settings(profile, seed)
    seed = s.seed
    pool = s.stage("pool").kit
    tasks = s.stage("tasks").kit
    held_out = [r["question"] for rows in eval_sets(profile=profile, seed=seed, as_rows=True).values() for r in rows]
    teacher = TeacherSettings(**{f.name: getattr(pool, f.name) for f in dataclasses.fields(TeacherSettings)})
    rows = pool_rows(size=size or pool.pool_size, seed=seed, difficulties=range(1, tasks.max_difficulty + 1),
                     domains=tasks.domains, teacher=teacher, exclude=held_out)
    return Dataset.from_list(rows)


def eval_sets(*, profile: str = "tiny", seed: int | None = None, as_rows: bool = False) -> dict:
    """``{"by_difficulty": Dataset, "hard": Dataset}``: the MATH500 and AIME analogs for ``profile``."""
    from datasets import Dataset

    from longthink.text_world.settings import world_settings

    s = world_settings(profile, seed)
    seed = s.seed
    ev, tasks = s.stage("eval").kit, s.stage("tasks").kit
    for k in ev.hard_difficulties:
        check_difficulty(k, max_difficulty=tasks.max_difficulty)
    by_k = eval_problems(seed=seed, difficulties=range(1, tasks.max_difficulty + 1),
                         n_per_difficulty=ev.n_per_difficulty, domains=tasks.domains)
    hard = hard_problems(seed=seed, difficulties=ev.hard_difficulties, n=ev.n_hard, domains=tasks.domains)
    rows = {"by_difficulty": [problem_row(p) for p in by_k], "hard": [problem_row(p) for p in hard]}
    return rows if as_rows else {name: Dataset.from_list(r) for name, r in rows.items()}
