"""The programmatic teachers: the short answer style, run drills, and two long-reasoning styles.

A **step** is one line that copies the operation's chunk from the question (label, operator, operand), then the
running value and the new value: ``f+4:3=7`` reads "apply f (+4) to 3, giving 7". Each token finds its inputs by
content (the chunk after its label in the question, a value just written); pretrained with run drills (whole
chains written in the long styles' surfaces), every world model reads each step's inputs right at every chain
position (1.000 at positions 1-5 for all three base models after 2,000 steps in the probe build,
``benchmarks/probe_world_base.py``; not on every build: the skill arrives late and suddenly, at a step that moves
with the seed, so the build checks it on dev chains and trains on until it saturates or a cap comes,
``text_world.pretrain.saturation_check``; each build's result records whether it did). The papers' effects rest on
that saturated skill and on the *structure* of the traces, never on a half-learned skill
(notes/cpu-calibration.md). The styles:

* **short** (what the instruct, target and guider-base models are pretrained on): a *hurried pass*: the first
  ``short_steps`` (3) steps, then ``...`` if the chain is longer, then ``Answer:`` and the value reached. On a
  longer chain that value is wrong unless the skipped operations happen to return to it; every base model answers
  the same way there, so no base model beats another by chance (the world bar "target >= guider base at every
  difficulty" rests on the steps, not on guesses).
* **s1's teacher** (the pool's ``thinking_trajectories``, the Gemini analog): a hurried pass; a chain it cut short
  is, with ``p_rethink``, taken up again after a ``Wait`` line by one more step (then ``...`` again if more remain),
  and after each such step, while the chain is still cut short, ``Wait`` and one more with ``p_continue``. The
  attempt is the value the trace reached, so a trace that stopped early ends wrong (s1K kept 46% incorrect answers
  on purpose). A finished chain is, with ``p_verify`` (geometric, at most ``max_verify`` times), checked by
  ``Wait`` and its last step again, which changes nothing: a forced ``Wait`` after a finished chain is harmless.
* **the guider's teacher** (the pool's ``deepseek_thinking_trajectory``, the R1 analog of s1K-1.1, from which
  ThinkLogit's guider is distilled): the whole chain in one pass, no ``...`` and no ``Wait``; with
  ``distill_p_merged`` a chain longer than ``short_steps`` is written *merged*, two operations a line
  (``f+4,g*3:3=1``: the intermediate value never written, a leap a tiny model makes far less reliably).

Why this shape (figures in recipes/world.yaml and ``benchmarks/probe_world_s1.py``): s1's curation keeps the
longest traces of the hard questions, so the curated 1K holds nearly every trace that took a chain up again after
``...``; the s1 model then always takes it up once (a 4-operation chain is finished) and, like the teacher most of
the time (``1 - p_continue``), stops after that one step: on a 5-operation chain it answers the value after 4.
A forced ``Wait`` (budget forcing) makes it take one more step, which finishes the chain. That step, and the
checks a second or fourth forced ``Wait`` brings, must be read as surely as any other: run drills in s1's surface
(``stepwise_pass``) teach it in pretraining. Without them the s1 model read the forced fifth step 0.55 of the time
(``x-4`` for ``x-8``) and its repeated checks drifted (Wait x 0 / 1 / 2 / 4: 0.595 / 0.55 / 0.39 / 0.145 on the dev
split), although it read steps 1-4 right every time. A model trained on a
random 1K (mostly traces that never took the chain up again, ``1 - p_rethink``) answers after its hurried pass.
Cutting the thinking short (a small budget) stops the chain earlier still. Before this design (main 971527f)
every step was written out and a re-check copied the step above: it fixed nothing, because the tiny models'
errors were misread operands at chain positions 2-5 (the s1 model read 0.93 / 0.87 / 0.87 / 0.66 at positions
2-5; 76 of its 78 wrong answers on the hard set were misreads; Wait x 0 / 1 / 2 / 4: 0.61 / 0.62 / 0.605 / 0.595).

The SFT text follows the s1 card (``data/tokenization.py``): user = question; assistant =
``<|im_start|>think\\n{thinking}\\n<|im_start|>answer\\nAnswer: {attempt}`` then ``<|im_end|>``.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass

from longthink.formats import WAIT, s1_assistant  # noqa: F401 (s1_assistant re-exported for the world's users)
from longthink.text_world.tasks import APPLY, MODULUS, Problem

SHORT_STEPS = 3
SKIP = "..."


# --------------------------------------------------------------------------------------------- trace check
# a step line (``f+4:3=7``, or a merged ``f+4,g*3:3=1``, maybe after an inline "Wait, "), or the line "Wait" that
# starts a re-check
STEP_LINE = re.compile(r"^(?:Wait|(?:Wait, )?[a-z0-9+*:,-]+=\d)$")


def well_formed_trace(thinking: str, attempt: str | None) -> bool:
    """A trace every line of which is a step (``f+4:3=7``, or merged ``f+4,g*3:3=1``) or a re-check's ``Wait``, with
    an attempt (the check a rejection-sampling recipe applies before fine-tuning on teacher traces; garbled rows and
    traces cut short by ``...`` fail it)."""
    lines = (thinking or "").split("\n")
    return attempt is not None and bool(lines) and all(STEP_LINE.match(line) for line in lines)


# ------------------------------------------------------------------------------------------------------- steps
def step_line(label: str, x: int, op: str, d: int, y: int) -> str:
    """One step: the question's chunk ``f+4``, then ``:3=7`` (from running value 3 to 7)."""
    return f"{label}{op}{d}:{x}={y}"


def merged_line(chunks: tuple[tuple[str, str, int], ...], x: int, y: int) -> str:
    """Several operations in one line: ``f+4,g*3:3=1`` (3 -> 7 -> 1, the 7 never written)."""
    return ",".join(f"{lab}{op}{d}" for lab, op, d in chunks) + f":{x}={y}"


def apply_all(x: int, chunks) -> int:
    for _, op, d in chunks:
        x = APPLY[op](x, d)
    return x


# ------------------------------------------------------------------------------------------------------ passes
def hurried_pass(problem: Problem, *, short_steps: int = SHORT_STEPS) -> tuple[list[str], int]:
    """The first ``short_steps`` steps, then ``...`` if the chain is longer; returns (lines, value reached)."""
    x, lines = problem.start, []
    for label, op, d in problem.ops[:short_steps]:
        y = APPLY[op](x, d)
        lines.append(step_line(label, x, op, d, y))
        x = y
    if problem.difficulty > short_steps:
        lines.append(SKIP)
    return lines, x


def worked_pass(problem: Problem) -> tuple[list[str], int]:
    """Every operation on its own line; returns (lines, final value)."""
    return hurried_pass(problem, short_steps=problem.difficulty)


def merge_groups(n_ops: int, merge_from: int = 1) -> list[tuple[int, ...]]:
    """Operation indices per line of a merged pass: singles before ``merge_from`` (1-based), then pairs."""
    groups: list[tuple[int, ...]] = [(i,) for i in range(min(n_ops, merge_from - 1))]
    i = len(groups)
    while i < n_ops:
        groups.append(tuple(range(i, min(i + 2, n_ops))))
        i += 2
    return groups


def merged_pass(problem: Problem, *, merge_from: int = 1) -> tuple[list[str], int]:
    """Operations merged in pairs from position ``merge_from`` on (``merge_groups``); returns (lines, final value)."""
    x, lines = problem.start, []
    for group in merge_groups(problem.difficulty, merge_from):
        chunks = tuple(problem.ops[i] for i in group)
        y = apply_all(x, chunks)
        lines.append(merged_line(chunks, x, y) if len(chunks) > 1 else step_line(chunks[0][0], x, *chunks[0][1:], y))
        x = y
    return lines, x


# ------------------------------------------------------------------------------------------- short (instruct)
def short_reasoning(problem: Problem, *, short_steps: int = SHORT_STEPS) -> str:
    """The instruct style: the first ``short_steps`` steps, one per line (``f+4:3=7``), then ``...`` if more."""
    return "\n".join(hurried_pass(problem, short_steps=short_steps)[0])


def short_completion(problem: Problem, *, short_steps: int = SHORT_STEPS) -> str:
    """What the instruct / target / guider-base models answer: a hurried pass, then the value it reached."""
    lines, x = hurried_pass(problem, short_steps=short_steps)
    return "\n".join(lines) + f"\nAnswer: {x}"


# ------------------------------------------------------------------------------------------------------ drills
RUN_DRILL = "Run"


def run_drill(problem: Problem, rng: random.Random, *, x: int | None = None, surface: str | None = None,
              short_steps: int = SHORT_STEPS) -> tuple[str, str]:
    """The whole chain worked, from the question's start or from another value (``Q Run:5.`` -> ``f+4:5=9`` ...).

    This is how every world model learns to read every chain position to saturation, in each surface the long
    styles use (``RUN_SURFACES``, drawn uniformly unless ``surface`` is given); in chat the base models still answer
    in the short style, and long reasoning in chat is what the papers add. The prompt names no label: a drill that
    named its step's label (``Q Apply h to 6.``, ``Q Run:h=6.``) put a second copy of that label after the question,
    and the models copied what followed the wrong copy (probe_world_base.py: a run named by its first label read
    positions 1-3 at 0.84-0.89 and position 5 at 0.98; step drills 0.1-0.2 at positions 2-5).
    """
    if x is None:
        x = problem.start if rng.random() < 0.5 else rng.randrange(MODULUS)
    name = surface or rng.choice(sorted(RUN_SURFACES))
    if name not in RUN_SURFACES:
        raise ValueError(f"unknown run surface {name!r}; known: {sorted(RUN_SURFACES)}")
    shifted = Problem(problem.domain, x, problem.ops, run_values(x, problem.ops))
    lines, value = RUN_SURFACES[name](shifted, rng, short_steps)
    return f"{problem.question} {RUN_DRILL}:{x}.", "\n".join(lines) + f"\nAnswer: {value}"


def run_values(x: int, ops) -> tuple[int, ...]:
    values = []
    for _, op, d in ops:
        x = APPLY[op](x, d)
        values.append(x)
    return tuple(values)


def stepwise_pass(problem: Problem, rng: random.Random, *, short_steps: int = SHORT_STEPS,
                  max_verify: int = 4) -> tuple[list[str], int]:
    """s1's teacher's surface, always to the end: a hurried pass, then ``Wait`` and one step (``...`` while more
    remain) until the chain is finished, then ``Wait`` and its last step again 0 to ``max_verify`` times."""
    settings = TeacherSettings(short_steps=short_steps, p_rethink=1.0, p_continue=1.0, p_verify=0.0)
    trace = long_trace(problem, rng, settings)
    lines = trace["thinking"].split("\n")
    label, op, d = problem.ops[-1]
    before = problem.values[-2] if problem.difficulty > 1 else problem.start
    for _ in range(rng.randint(0, max_verify)):
        lines += [WAIT, step_line(label, before, op, d, problem.values[-1])]
    return lines, problem.values[-1]


# How a run drill is written: the long styles' surfaces (a merged line is never drilled: it stays a leap)
RUN_SURFACES: dict[str, Callable[[Problem, random.Random, int], tuple[list[str], int]]] = {
    "worked": lambda problem, rng, short_steps: worked_pass(problem),
    "stepwise": lambda problem, rng, short_steps: stepwise_pass(problem, rng, short_steps=short_steps),
}


# ------------------------------------------------------------------------------------------------ long traces
@dataclass(frozen=True)
class TeacherSettings:
    """How s1's teacher goes on after a hurried pass (probabilities per trace) and how the guider's teacher writes."""

    short_steps: int = SHORT_STEPS  # the hurried pass: at most this many steps, then "..."
    p_rethink: float = 0.2  # after a cut-short hurried pass: "Wait", then one more step ("..." again if more) ...
    p_continue: float = 0.25  # ... and after each such step, while the chain is still cut short: "Wait", one more
    p_verify: float = 0.3  # after a finished chain: "Wait" and its last step again, geometric ...
    max_verify: int = 6  # ... at most this many times
    p_garbled: float = 0.08  # one of GARBLES applied (for the quality filter)
    distill_p_merged: float = 0.0  # the guider's teacher: a chain longer than short_steps written merged
    merge_from: int = 1  # a merged chain merges operations in pairs from this position (1-based) on

    def __post_init__(self):
        for name in ("p_rethink", "p_continue", "p_verify", "p_garbled", "distill_p_merged"):
            value = getattr(self, name)
            if not 0 <= value <= 1:
                raise ValueError(f"TeacherSettings.{name} must be a probability in [0, 1], got {value!r}")
        for name, low in (("short_steps", 1), ("max_verify", 0), ("merge_from", 1)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"TeacherSettings.{name} must be an int >= {low}, got {value!r}")


def long_trace(problem: Problem, rng: random.Random, settings: TeacherSettings = TeacherSettings()) -> dict:
    """s1's teacher: a hurried pass; after ``...``, maybe ``Wait`` and one more step at a time; after a finished
    chain, maybe ``Wait`` and its last step again. The attempt is the value the trace reached.

    ``steps`` counts the operations worked, ``rechecks`` the ``Wait`` lines (continuations and verifications).
    Every random draw comes from ``rng`` in a fixed order (one per possible ``Wait``), whatever the outcome.
    """
    s = settings
    k = problem.difficulty
    draws = [rng.random() for _ in range(max(0, k - s.short_steps) + s.max_verify)]
    lines, x = hurried_pass(problem, short_steps=s.short_steps)
    done, waits = min(k, s.short_steps), 0
    for i, u in enumerate(draws[: k - done]):  # continuations: one operation after each "Wait"
        if u >= (s.p_rethink if i == 0 else s.p_continue):
            break
        label, op, d = problem.ops[done]
        y = APPLY[op](x, d)
        lines += [WAIT, step_line(label, x, op, d, y)] + ([SKIP] if done + 1 < k else [])
        done, waits, x = done + 1, waits + 1, y
    if done == k:  # a finished chain: verifications repeat its last step
        label, op, d = problem.ops[-1]
        before = problem.values[-2] if k > 1 else problem.start
        for u in draws[max(0, k - s.short_steps):]:
            if u >= s.p_verify:
                break
            lines += [WAIT, step_line(label, before, op, d, x)]
            waits += 1
    attempt = str(x)
    return {"thinking": "\n".join(lines), "attempt": attempt, "correct": attempt == problem.answer,
            "rechecks": waits, "steps": done}


def distill_trace(problem: Problem, rng: random.Random, settings: TeacherSettings = TeacherSettings()) -> dict:
    """The guider's teacher (R1 analog): the whole chain in one pass, merged with ``distill_p_merged`` when longer
    than ``short_steps``, else worked."""
    merged = problem.difficulty > settings.short_steps and rng.random() < settings.distill_p_merged
    lines, value = (merged_pass(problem, merge_from=settings.merge_from) if merged else worked_pass(problem))
    attempt = str(value)
    return {"thinking": "\n".join(lines), "attempt": attempt, "correct": attempt == problem.answer,
            "pass": "merged" if merged else "worked"}


def s1_messages(question: str, thinking: str, attempt: str) -> list[dict]:
    return [{"role": "user", "content": question}, {"role": "assistant", "content": s1_assistant(thinking, attempt)}]


# ------------------------------------------------------------------------------------------------ garbling
def _image(q: str, t: str, a: str | None, rng: random.Random):
    return f"![Image](fig{rng.randrange(100)}.png) {q}", t, a


def _asy(q: str, t: str, a: str | None, rng: random.Random):
    return f"{q} [asy]draw((0,0)--(1,{rng.randrange(9)}));[/asy]", t, a


def _bold_digit(q: str, t: str, a: str | None, rng: random.Random):
    return q, f"**Step**{rng.randrange(1, 10)} " + t, a


def _p_label(q: str, t: str, a: str | None, rng: random.Random):
    return f"p{rng.randrange(1, 999)}. {q}", t, a


def _missing_attempt(q: str, t: str, a: str | None, rng: random.Random):
    return q, t, None


def _truncated(q: str, t: str, a: str | None, rng: random.Random):
    lines = t.split("\n")
    return q, "\n".join(lines[: max(1, len(lines) // 2)]) + "\n**", a


GARBLES: dict[str, Callable] = {
    "image": _image,
    "asy": _asy,
    "bold_digit": _bold_digit,
    "p_label": _p_label,
    "missing_attempt": _missing_attempt,
    "truncated": _truncated,
}
