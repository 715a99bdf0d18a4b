"""The tiny world's reasoning tasks: labelled operation chains on one digit, with a difficulty knob.

A problem gives a start digit and ``k`` labelled operations; the answer is the value after applying them in
label order, modulo 10::

    Mix 3:f+4,g*3,h-2.         ->  f+4:3=7  g*3:7=1  h-2:1=9  ->  answer 9

``k`` (the number of operations) is the difficulty, 1 = easiest. Labels are consecutive letters from a random
first letter, so every label (and every "next label" pair) shows up in short chains too. Every operation is a bijection on 0..9
(``+d`` and ``-d`` for d in 1..9, ``*d`` for d in {3, 7, 9}), so answers are uniform over 0..9 and no shortcut
beats 10% without working through the chain. Domains play the role of s1's sources and subjects: each has its
own header word and its own set of operations. Why this shape (notes/cpu-calibration.md): a step that finds its
inputs by content (a label to match, a value just written) is learned in minutes on a CPU, while carries and
positional lookups are not; answering directly stays at chance beyond one step, so reasoning is decisive.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

LABELS = "abcdefghijklmnopqrstuvwxyz"
MODULUS = 10
MAX_DIFFICULTY = len(LABELS)
OPERAND_DIGITS = {"+": tuple(range(1, 10)), "-": tuple(range(1, 10)), "*": (3, 7, 9)}
APPLY = {
    "+": lambda x, d: (x + d) % MODULUS,
    "-": lambda x, d: (x - d) % MODULUS,
    "*": lambda x, d: (x * d) % MODULUS,
}


@dataclass(frozen=True)
class Domain:
    """A source of problems: a header word and the operations it draws from."""

    name: str
    header: str
    ops: str
    subject: str  # the s1 "domain" analog (MSC code name)


DOMAINS: dict[str, Domain] = {
    d.name: d
    for d in (
        Domain("tally", "Tally", "+", "counting"),
        Domain("ledger", "Ledger", "+-", "accounting"),
        Domain("scale", "Scale", "*+", "scaling"),
        Domain("drift", "Drift", "-*", "dynamics"),
        Domain("mix", "Mix", "+-*", "algebra"),
    )
}


class TaskError(ValueError):
    """Bad task settings (unknown domain, difficulty out of range, unparsable question)."""


@dataclass(frozen=True)
class Problem:
    """One chain problem and its programmatic solution."""

    domain: str
    start: int
    ops: tuple[tuple[str, str, int], ...]  # (label, op symbol, operand)
    values: tuple[int, ...] = field(default=())  # running value after each op (filled by make_problem)

    @property
    def difficulty(self) -> int:
        return len(self.ops)

    @property
    def answer(self) -> str:
        return str(self.values[-1])

    @property
    def question(self) -> str:
        ops = ",".join(f"{label}{op}{d}" for label, op, d in self.ops)
        return f"{DOMAINS[self.domain].header} {self.start}:{ops}."


def check_difficulty(difficulty: int, *, max_difficulty: int = MAX_DIFFICULTY) -> int:
    """Return ``difficulty`` if it is an int in 1..max_difficulty, else raise a TaskError saying so."""
    if isinstance(difficulty, bool) or not isinstance(difficulty, int) or not 1 <= difficulty <= max_difficulty:
        raise TaskError(
            f"difficulty must be an integer in 1..{max_difficulty} (the number of operations), got {difficulty!r}"
        )
    return difficulty


def check_domain(name: str) -> Domain:
    if name not in DOMAINS:
        raise TaskError(f"unknown domain {name!r}; known domains: {sorted(DOMAINS)}")
    return DOMAINS[name]


def run_chain(start: int, ops: Iterable[tuple[str, str, int]]) -> tuple[int, ...]:
    """The running values of a chain (the solver)."""
    values, x = [], start
    for _, op, d in ops:
        x = APPLY[op](x, d)
        values.append(x)
    return tuple(values)


def make_problem(rng: random.Random, *, domain: str, difficulty: int) -> Problem:
    """A random problem of ``difficulty`` operations from ``domain``."""
    dom = check_domain(domain)
    check_difficulty(difficulty)
    start = rng.randrange(MODULUS)
    first = rng.randrange(len(LABELS) - difficulty + 1)
    ops = []
    for i in range(difficulty):
        op = rng.choice(dom.ops)
        ops.append((LABELS[first + i], op, rng.choice(OPERAND_DIGITS[op])))
    return Problem(domain, start, tuple(ops), run_chain(start, ops))


def sample_problems(
    n: int,
    *,
    seed: int,
    difficulties: Sequence[int],
    domains: Sequence[str] | None = None,
    exclude: Iterable[str] = (),
) -> list[Problem]:
    """``n`` problems, difficulty and domain drawn uniformly from the lists, skipping ``exclude``d questions."""
    if n < 0:
        raise TaskError(f"n must be >= 0, got {n}")
    if not difficulties:
        raise TaskError("difficulties must not be empty")
    for k in difficulties:
        check_difficulty(k)
    domains = list(domains or DOMAINS)
    for name in domains:
        check_domain(name)
    banned = set(exclude)
    rng = random.Random(seed)
    out: list[Problem] = []
    tries = 0
    while len(out) < n:
        tries += 1
        if tries > 50 * n + 1000:
            raise TaskError(f"could not draw {n} problems outside the excluded set (too few distinct questions)")
        p = make_problem(rng, domain=rng.choice(domains), difficulty=rng.choice(list(difficulties)))
        if p.question in banned:
            continue
        out.append(p)
    return out


QUESTION_RE = re.compile(r"(?P<header>[A-Za-z]+) (?P<start>\d): ?(?P<ops>(?:[a-z][-+*]\d,?)+)\.")
OP_RE = re.compile(r"([a-z])([-+*])(\d)")


def parse_question(question: str) -> Problem:
    """Parse a world question back into a Problem (so any question text can be solved)."""
    match = QUESTION_RE.search(question or "")
    if not match:
        raise TaskError(f"not a world question: {question!r}")
    headers = {d.header: d.name for d in DOMAINS.values()}
    if match["header"] not in headers:
        raise TaskError(f"unknown header {match['header']!r} in {question!r}; known: {sorted(headers)}")
    ops = tuple((lab, op, int(d)) for lab, op, d in OP_RE.findall(match["ops"]))
    start = int(match["start"])
    return Problem(headers[match["header"]], start, ops, run_chain(start, ops))


def solve(question: str) -> str:
    """The gold answer of a world question, as a plain integer string."""
    return parse_question(question).answer
