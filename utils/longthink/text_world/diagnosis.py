"""Why a world model's answer is wrong: each wrong answer classified by the first error in its chain.

A world model reasons in step lines (``f+4:3=7``: the question's chunk for label f, the running value read from the
line above, the new value). Parsing a completion back into steps and comparing them with the problem tells apart
four kinds of error, by the *first* faulty place along the chain:

* ``misread``: a step's input copied wrong: the chunk (operator, operand) is not the question's chunk for the label
  written, the label does not exist, or the running value is not the value the line above ended with;
* ``value``: every input right, but the new value is not what the step's own inputs give (or the ``Answer:`` line
  is not the value the chain ended with);
* ``cut_short``: the chain skips a label (``...`` or a jump over an operation) or ends before the last operation
  (the model stopped, or a budget cut it);
* ``format``: no answer, or a line that is neither a step, ``Wait``, nor ``...``.

Re-checks are read as a model would mean them: a step whose label is already in the chain redoes it, and the
chain goes on from there (``Wait`` + the last step again replaces the last step; a whole pass again replaces the
whole chain). Read accuracy per chain position counts every step line written (re-checks too): is the chunk the
question's chunk for its label, and is the running value the line above's value. It is the base skill that must
saturate (>= 0.98 at every position) for the papers' effects to rest on structure (notes/cpu-calibration.md).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from longthink.text_world.tasks import APPLY, Problem, parse_question

KINDS = ("misread", "value", "cut_short", "format")
THINK_OPEN = "<|im_start|>think"
ANSWER_OPEN = "<|im_start|>answer"
SKIP = "..."
WAIT = "Wait"
CHUNK = r"[a-z][-+*]\d"
STEP_LINE = re.compile(rf"^(?P<chunks>{CHUNK}(?:,{CHUNK})*):(?P<x>\d)=(?P<y>\d)$")
CHUNK_RE = re.compile(r"([a-z])([-+*])(\d)")
ANSWER_LINE = re.compile(r"^(?:Final )?Answer:\s*(?P<answer>\S*)")


class DiagnosisError(ValueError):
    """Outputs and problems that do not line up, or an unknown error kind."""


@dataclass(frozen=True)
class Step:
    """One step line: the chunks it copies (label, operator, operand), the running value read and the new value."""

    chunks: tuple[tuple[str, str, int], ...]
    x: int
    y: int

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(c[0] for c in self.chunks)

    def result(self) -> int:
        """The value the step's own inputs give."""
        v = self.x
        for _, op, d in self.chunks:
            v = APPLY[op](v, d)
        return v


@dataclass
class Trace:
    """A parsed completion: every step line in order, the lines that were not steps, and the answer."""

    steps: list[Step] = field(default_factory=list)
    skips: int = 0
    waits: int = 0
    bad_lines: list[str] = field(default_factory=list)
    answer: str | None = None


@dataclass(frozen=True)
class Diagnosis:
    """One output: correct or not, and for a wrong one the kind and chain position (1-based) of its first error."""

    correct: bool
    kind: str | None = None
    position: int | None = None
    detail: str = ""


def split_output(text: str) -> tuple[str, str]:
    """(reasoning, answer part) of an output: s1's ``think`` / ``answer`` phases, or a plain completion."""
    text = text or ""
    if ANSWER_OPEN in text:
        reasoning, answer = text.rsplit(ANSWER_OPEN, 1)
    else:
        reasoning, answer = text, ""
    return reasoning.replace(THINK_OPEN, ""), answer


def parse_step(line: str) -> Step | None:
    m = STEP_LINE.match(line)
    if not m:
        return None
    chunks = tuple((lab, op, int(d)) for lab, op, d in CHUNK_RE.findall(m["chunks"]))
    return Step(chunks, int(m["x"]), int(m["y"]))


def parse_output(text: str) -> Trace:
    """Steps, skips (``...``), re-check markers and the final answer of one output (s1 format or plain)."""
    reasoning, answer_part = split_output(text)
    trace = Trace()
    for raw in reasoning.split("\n"):
        line = raw.strip()
        if line.startswith(WAIT):  # "Wait" on its own line, or the inline surface "Wait, f+4:3=7"
            trace.waits += 1
            line = line[len(WAIT):].lstrip(",").strip()
        if not line:
            continue
        m = ANSWER_LINE.match(line)
        if m:  # a plain completion's answer line (ThinkLogit) or an answer written inside the thinking
            trace.answer = m["answer"] or None
            continue
        if line == SKIP:
            trace.skips += 1
            continue
        step = parse_step(line)
        if step is None:
            trace.bad_lines.append(line)
        else:
            trace.steps.append(step)
    for raw in answer_part.split("\n"):
        m = ANSWER_LINE.match(raw.strip())
        if m:
            trace.answer = m["answer"] or None
    return trace


def effective_chain(steps: Sequence[Step]) -> list[Step]:
    """The chain as the model left it: a step that starts at a label already in the chain redoes it from there."""
    chain: list[Step] = []
    for step in steps:
        first = step.labels[0]
        at = next((i for i, s in enumerate(chain) if first in s.labels), None)
        if at is not None:
            chain = chain[:at]
        chain.append(step)
    return chain


def _label_positions(problem: Problem) -> dict[str, int]:
    return {lab: i for i, (lab, _, _) in enumerate(problem.ops)}


def classify(problem: Problem, text: str, *, correct: bool | None = None) -> Diagnosis:
    """The first error along the chain of ``text`` for ``problem`` (``correct`` given: trust that grade)."""
    trace = parse_output(text)
    chain = effective_chain(trace.steps)
    answer_right = trace.answer is not None and trace.answer.strip().rstrip(".") == problem.answer
    correct = answer_right if correct is None else correct
    if correct:
        return Diagnosis(True)
    pos_of = _label_positions(problem)
    done, value = 0, problem.start  # operations consumed so far; the running value the next step should read
    for step in chain:
        if step.x != value:
            return Diagnosis(False, "misread", done + 1, f"running value {step.x} read, {value} written above")
        for lab, op, d in step.chunks:
            if lab not in pos_of:
                return Diagnosis(False, "misread", done + 1, f"label {lab} is not in the question")
            if pos_of[lab] > done:
                return Diagnosis(False, "cut_short", done + 1, f"jumped from position {done + 1} to {lab}")
            if pos_of[lab] < done:
                return Diagnosis(False, "misread", done + 1, f"label {lab} again at position {done + 1}")
            want = problem.ops[done]
            if (op, d) != want[1:]:
                return Diagnosis(False, "misread", done + 1, f"{lab}{op}{d} for {''.join(map(str, want))}")
            done += 1
        if step.y != step.result():
            return Diagnosis(False, "value", done, f"{step.y} for {step.result()}")
        value = step.y
    if done < problem.difficulty:
        if trace.bad_lines and not trace.skips:  # the chain went on in lines that are not steps
            return Diagnosis(False, "format", done + 1, f"line {trace.bad_lines[0]!r}")
        why = "skipped with ..." if trace.skips else "stopped"
        return Diagnosis(False, "cut_short", done + 1, f"{why} after {done} of {problem.difficulty} operations")
    if trace.answer is None or not trace.answer.strip().isdigit():
        return Diagnosis(False, "format", None, f"answer {trace.answer!r}")
    if chain and trace.answer.strip() != str(chain[-1].y):
        return Diagnosis(False, "value", problem.difficulty, f"answer {trace.answer} after a chain ending {chain[-1].y}")
    if trace.bad_lines:
        return Diagnosis(False, "format", None, f"line {trace.bad_lines[0]!r}")
    return Diagnosis(False, "value", problem.difficulty, "answer differs from a right chain")


def _problems(questions: Iterable[str | Problem]) -> list[Problem]:
    return [q if isinstance(q, Problem) else parse_question(q) for q in questions]


def error_counts(questions: Sequence[str | Problem], texts: Sequence[str],
                 correct: Sequence[bool] | None = None) -> dict:
    """Accuracy, wrong answers and their kinds (counts and shares of the wrong answers) over one set of outputs."""
    if len(questions) != len(texts) or (correct is not None and len(correct) != len(texts)):
        raise DiagnosisError(f"{len(questions)} questions, {len(texts)} outputs"
                             + (f", {len(correct)} grades" if correct is not None else "") + ": they must line up")
    problems = _problems(questions)
    diags = [classify(p, t, correct=None if correct is None else bool(c))
             for p, t, c in zip(problems, texts, correct if correct is not None else [None] * len(texts))]
    wrong = [d for d in diags if not d.correct]
    kinds = Counter(d.kind for d in wrong)
    n_wrong = len(wrong)
    merged = sum(any(len(step.chunks) > 1 for step in parse_output(t).steps) for t in texts)
    return {
        "n": len(diags),
        "accuracy": (len(diags) - n_wrong) / max(1, len(diags)),
        "merged": merged / max(1, len(diags)),  # share of outputs with a merged step (two operations a line)
        "wrong": n_wrong,
        **{kind: kinds.get(kind, 0) for kind in KINDS},
        **{f"{kind}_share": kinds.get(kind, 0) / n_wrong if n_wrong else 0.0 for kind in KINDS},
    }


def read_accuracy(questions: Sequence[str | Problem], texts: Sequence[str]) -> dict[int, dict]:
    """Per chain position (1-based): how often a step line written for that position reads its inputs right.

    ``operand`` = the chunk is the question's chunk for the label written; ``value`` = the running value is the
    value the chain's previous step ended with (the start value for the first step; for a re-check, the step
    before the one it redoes); ``inputs`` = both; ``n`` = chunks seen.
    """
    counts: dict[int, Counter] = defaultdict(Counter)
    for p, text in zip(_problems(questions), texts, strict=True):
        pos_of, chunk_of = _label_positions(p), {lab: (op, d) for lab, op, d in p.ops}
        chain: list[Step] = []
        for step in parse_output(text).steps:
            at = next((i for i, s in enumerate(chain) if step.labels[0] in s.labels), len(chain))
            chain = chain[:at]  # a re-check reads the value from the line before the step it redoes
            value_ok = step.x == (chain[-1].y if chain else p.start)
            chain.append(step)
            for j, (lab, op, d) in enumerate(step.chunks):
                if lab not in pos_of:
                    continue
                c = counts[pos_of[lab] + 1]
                operand_ok = chunk_of[lab] == (op, d)
                c["n"] += 1
                c["operand"] += operand_ok
                c["value"] += value_ok if j == 0 else True
                c["inputs"] += operand_ok and (value_ok or j > 0)
    return {k: {"n": c["n"], **{m: c[m] / c["n"] for m in ("operand", "value", "inputs")}}
            for k, c in sorted(counts.items())}


def input_read_acc_min(read: Mapping[int, dict], *, min_count: int = 20) -> float | None:
    """The worst position's input-reading accuracy (positions with at least ``min_count`` chunks)."""
    values = [r["inputs"] for r in read.values() if r["n"] >= min_count]
    return min(values) if values else None


# ------------------------------------------------------------------------------------------------- tables
def error_table(runs: Mapping[str, tuple[Sequence, Sequence[str], Sequence[bool] | None]]):
    """One row per run (a Wait x k setting, a system): accuracy, wrong answers, the count of each kind, and the share
    of outputs that wrote a merged step (two operations in one line)."""
    import pandas as pd

    rows = []
    for name, (questions, texts, correct) in runs.items():
        c = error_counts(questions, texts, correct)
        rows.append({"run": name, "n": c["n"], "accuracy": round(c["accuracy"], 3), "wrong": c["wrong"],
                     **{kind: c[kind] for kind in KINDS}, "merged": round(c["merged"], 3)})
    return pd.DataFrame(rows).set_index("run")


def read_table(questions: Sequence[str | Problem], texts: Sequence[str]):
    """Read accuracy per chain position (rows: position; columns: operand, running value, both, chunks seen)."""
    import pandas as pd

    columns = ["operand", "value", "inputs", "n"]
    read = read_accuracy(questions, texts)
    if not read:  # no output wrote a step (an untrained model): an empty table with the same columns
        return pd.DataFrame(columns=columns, dtype=float).rename_axis("position")
    return pd.DataFrame(read).T.rename_axis("position")[columns].round(3)


def error_metrics(questions: Sequence[str | Problem], texts: Sequence[str], correct: Sequence[bool] | None = None,
                  *, prefix: str = "") -> dict[str, float]:
    """``<prefix>wrong_<kind>_share`` for each kind and ``<prefix>input_read_acc_min`` (flat metrics)."""
    c = error_counts(questions, texts, correct)
    out = {f"{prefix}wrong_{kind}_share": float(c[f"{kind}_share"]) for kind in KINDS}
    worst = input_read_acc_min(read_accuracy(questions, texts))
    if worst is not None:
        out[f"{prefix}input_read_acc_min"] = float(worst)
    return out


def examples(questions: Sequence[str | Problem], texts: Sequence[str], *, kind: str, n: int = 3,
             correct: Sequence[bool] | None = None) -> list[dict]:
    """Up to ``n`` wrong outputs of one kind, with where and why (for reading in a notebook)."""
    if kind not in KINDS:
        raise DiagnosisError(f"unknown error kind {kind!r}; known: {list(KINDS)}")
    out = []
    grades = correct if correct is not None else [None] * len(texts)
    for p, text, c in zip(_problems(questions), texts, grades, strict=True):
        d = classify(p, text, correct=c)
        if not d.correct and d.kind == kind:
            out.append({"question": p.question, "gold": p.answer, "position": d.position, "why": d.detail,
                        "output": text})
            if len(out) == n:
                break
    return out
