"""The programmatic teacher: short answers (the instruct style) and long s1-format traces with re-checks.

Every step is one line that copies the operation's chunk from the question (label, operator, operand), then the
running value and the new value: ``f+4:3=7`` reads "apply f (+4) to 3, giving 7". Each token finds its inputs by
content (the chunk after its label in the question, a value just written), which tiny models learn in minutes;
computing a value in one token without restating its inputs stays near chance (notes/cpu-calibration.md). Two reasoning styles use these steps:

* **short** (what the instruct, target and guider-base models are pretrained on): no thinking block, no
  re-checks, and at most ``short_steps`` (3) explicit steps; a longer chain gets its first steps, then ``...``
  and a jump to the answer (the way a non-reasoning model "reasons briefly" and then guesses). These models read
  questions of every length but never see a long chain written out, so they fail on long ones.
* **long** (the teacher's thinking, s1 / R1 style): the chain at every difficulty inside s1's thinking block.
  Some traces slip, say ``Wait``, redo the step and go on; some re-check the last step before answering; some
  slip without noticing and end wrong (s1K kept 46% incorrect answers on purpose); a share are garbled the ways
  s1's quality filter looks for.

A re-check is ``Wait`` on a line of its own, then the step redone in the ordinary step surface (``RECHECK_SURFACES``),
and a final re-check repeats a geometric number of times (``final_check_count``). Both are what s1's budget forcing
needs from the data; measured with s1's model on the hard set (``longthink run s1``):

* The first surface, ``Wait, f+4:3=7``, put a space before the label, and the world's byte-level BPE then reads the
  label as another token (``Ġf``, not ``f``) that no ordinary step and no question uses; a tiny model learns it from
  the re-check lines of a 1K set only, and a forced ``Wait`` made the model invent labels (Wait x 0 / 1 / 2:
  0.56 / 0.52 / 0.14). On its own line the re-check reuses the tokens of every other step.
* With exactly one final re-check the model learned "re-check once or twice, then answer": a forced ``Wait`` beyond
  that count was followed by the delimiter at once, or by "Answer:" inside the thinking (0.61 / 0.39 / 0.18 with
  one; 0.91 / 0.91 / 0.78 with 1-4 equally likely, failing past the fourth). A geometric count with a long tail
  (decay 0.4, chosen on the by-difficulty set, not the hard set) keeps the model's own count low while training
  re-checks far past it, and the Wait curve goes flat (0.61 / 0.62 / 0.605).
* A re-check copies the line above, so it fixes a slipped *value* but not a misread *operand*, and misread operands
  are all the errors the tiny s1 model makes. Teaching the re-check to read the operand again with misread slips
  anywhere in the chain taught the model to misread (accuracy 0.345). ``p_final_misread`` misreads only the last
  step before a final re-check: re-checks then read the question again and a forced Wait fixes some answers,
  but on by_difficulty d4-5 it breaks as many and lowers accuracy, so the world keeps it off
  (recipes/world.yaml has the figures).

The SFT text follows the s1 card (``data/tokenization.py``): user = question; assistant =
``<|im_start|>think\\n{thinking}\\n<|im_start|>answer\\nAnswer: {attempt}`` then ``<|im_end|>``.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass

from longthink.formats import WAIT, s1_assistant
from longthink.text_world.tasks import APPLY, MODULUS, OPERAND_DIGITS, Problem



# ------------------------------------------------------------------------------------------- short (instruct)
SHORT_STEPS = 3
SKIP = "..."


def short_reasoning(problem: Problem, *, short_steps: int = SHORT_STEPS) -> str:
    """The instruct style: the first ``short_steps`` steps, one per line (``f+4:3=7``), then ``...`` if more."""
    x, lines = problem.start, []
    for (label, op, d), y in list(zip(problem.ops, problem.values, strict=True))[:short_steps]:
        lines.append(step_line(label, x, op, d, y))
        x = y
    if problem.difficulty > short_steps:
        lines.append(SKIP)
    return "\n".join(lines)


def short_completion(problem: Problem, *, short_steps: int = SHORT_STEPS) -> str:
    """What the instruct / target / guider-base models answer: short reasoning then an ``Answer:`` line."""
    return f"{short_reasoning(problem, short_steps=short_steps)}\nAnswer: {problem.answer}"


def step_drill(problem: Problem, rng: random.Random) -> tuple[str, str]:
    """One step of ``problem`` at a random position, from a random value (``... Apply h to 6.`` -> ``h-2:6=4``).

    Pretraining on these makes every world model "strong at single steps" at every position of a question of any
    length, in the very surface chains use; what the base models never see is a chain longer than
    ``short_steps`` written out. A long-reasoning fine-tune (s1's SFT, ThinkLogit's guider) then only has to learn
    to keep chaining, not how to read the question or do the arithmetic.
    """
    label, op, d = rng.choice(problem.ops)
    x = rng.randrange(MODULUS)
    y = APPLY[op](x, d)
    return f"{problem.question} Apply {label} to {x}.", f"{step_line(label, x, op, d, y)}\nAnswer: {y}"


# ------------------------------------------------------------------------------------------------ long traces
@dataclass(frozen=True)
class TeacherSettings:
    """How often the teacher slips and re-checks; probabilities per trace (wrong grows with difficulty)."""

    p_recheck: float = 0.35  # slip on one step, say "Wait", redo it correctly
    p_final_check: float = 0.25  # after the last step, "Wait" and redo the last step (same value) ...
    max_final_checks: int = 1  # ... 1 to this many times, n with weight final_check_decay ** (n - 1)
    final_check_decay: float = 1.0  # 1 = every count equally likely; < 1 = a geometric tail
    p_final_misread: float = 0.0  # of the traces with a final re-check: the last step's operand misread at first
    p_wrong_base: float = 0.05  # an unnoticed slip: the trace ends in a wrong answer ...
    p_wrong_per_step: float = 0.06  # ... with probability base + per_step * difficulty
    p_garbled: float = 0.08  # one of GARBLES applied (for the quality filter)
    recheck_surface: str = "own_line"  # how a re-check line reads: a key of RECHECK_SURFACES

    def __post_init__(self):
        if not isinstance(self.max_final_checks, int) or self.max_final_checks < 1:
            raise ValueError(f"TeacherSettings.max_final_checks must be an int >= 1, got {self.max_final_checks!r}")
        if not 0 < self.final_check_decay <= 1:
            raise ValueError(f"TeacherSettings.final_check_decay must be in (0, 1], got {self.final_check_decay!r}")
        if self.recheck_surface not in RECHECK_SURFACES:
            raise ValueError(f"TeacherSettings.recheck_surface {self.recheck_surface!r} is unknown; "
                             f"known: {sorted(RECHECK_SURFACES)}")


RECHECK_SURFACES: dict[str, Callable[[str], str]] = {
    "own_line": lambda step: f"{WAIT}\n{step}",  # Wait, then the step redone on the next line
    "inline": lambda step: f"{WAIT}, {step}",  # the first surface: the label becomes a space-prefixed token
}


def recheck(step: str, surface: str = "own_line") -> str:
    """A re-check: ``Wait`` and the step ``step`` redone, in ``surface`` (a key of ``RECHECK_SURFACES``)."""
    return RECHECK_SURFACES[surface](step)


# a step line (``f+4:3=7``, maybe after an inline "Wait, "), or the line "Wait" that starts a re-check
STEP_LINE = re.compile(r"^(?:Wait|(?:Wait, )?[a-z0-9+*:-]+=\d)$")


def well_formed_trace(thinking: str, attempt: str | None) -> bool:
    """A trace every line of which is a step (``f+4:3=7``) or a re-check's ``Wait``, with an attempt (the check a
    rejection-sampling recipe applies before fine-tuning on teacher traces; garbled rows fail it)."""
    lines = (thinking or "").split("\n")
    return attempt is not None and bool(lines) and all(STEP_LINE.match(line) for line in lines)


def step_line(label: str, x: int, op: str, d: int, y: int) -> str:
    """One step: the question's chunk ``f+4``, then ``:3=7`` (from running value 3 to 7)."""
    return f"{label}{op}{d}:{x}={y}"


def _wrong_value(rng: random.Random, right: int) -> int:
    return rng.choice([v for v in range(MODULUS) if v != right])


def long_trace(problem: Problem, rng: random.Random, settings: TeacherSettings = TeacherSettings()) -> dict:
    """A long thinking trace and attempt for ``problem``; ``correct`` says whether the attempt is right."""
    k = problem.difficulty
    recheck_at = rng.randrange(k) if rng.random() < settings.p_recheck else None
    wrong = rng.random() < settings.p_wrong_base + settings.p_wrong_per_step * k
    wrong_at = rng.randrange(k) if wrong else None
    lines, x = [], problem.start
    for i, (label, op, d) in enumerate(problem.ops):
        y = APPLY[op](x, d)
        if i == recheck_at and i != wrong_at:
            lines.append(step_line(label, x, op, d, _wrong_value(rng, y)))
            lines.append(recheck(step_line(label, x, op, d, y), settings.recheck_surface))
        elif i == wrong_at:
            y = _wrong_value(rng, y)  # unnoticed: the chain goes on from the wrong value
            lines.append(step_line(label, x, op, d, y))
        else:
            lines.append(step_line(label, x, op, d, y))
        last = (label, x, op, d, y)
        x = y
    u = rng.random()
    if u < settings.p_final_check:  # the count comes from the same draw: the random stream stays the same
        if settings.p_final_misread and k - 1 not in (recheck_at, wrong_at):
            lines[-1] = _maybe_misread(problem, last, settings.p_final_misread)
        for _ in range(final_check_count(u / settings.p_final_check, settings)):
            lines.append(recheck(step_line(*last), settings.recheck_surface))
    attempt = str(x)
    return {
        "thinking": "\n".join(lines),
        "attempt": attempt,
        "correct": attempt == problem.answer,
        "rechecks": sum(line.startswith(WAIT) for line in "\n".join(lines).split("\n")),
    }


def _maybe_misread(problem: Problem, last: tuple, p: float) -> str:
    """The last step's line, with probability ``p`` its operand misread (the result right for the misread operand;
    the re-checks after it read the chunk again). Its own random stream per question: no other trace changes."""
    label, x, op, d, y = last
    rng = random.Random(f"misread-{problem.question}")
    if rng.random() >= p:
        return step_line(label, x, op, d, y)
    bad = rng.choice([o for o in OPERAND_DIGITS[op] if o != d])
    return step_line(label, x, op, bad, APPLY[op](x, bad))


def final_check_count(v: float, settings: TeacherSettings) -> int:
    """How many times the last step is re-checked, for a uniform ``v`` in [0, 1) (inverse CDF of n = 1..max with
    weight ``final_check_decay ** (n - 1)``)."""
    weights = [settings.final_check_decay ** i for i in range(settings.max_final_checks)]
    target, acc = v * sum(weights), 0.0
    for n, w in enumerate(weights, start=1):
        acc += w
        if target < acc:
            return n
    return settings.max_final_checks


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
