"""Exercises with checked solutions: a student writes a small piece of a paper's method, the kit checks it.

``check("s1.diversity", fn)`` calls the student's ``fn`` and the kit's own implementation (the *solution*, which
lives here in the library, never in a notebook) on the same generated cases, edge cases first, and returns a
:class:`Verdict` that says what was right or, for the first cases that differ, what was given, what came back and
what was expected. A student function that raises is a verdict too, never an exception, so a notebook always runs
to its end; ``strict=True`` turns a wrong answer into an ``AssertionError`` for a grader.

Each paper room defines its exercises in ``longthink/<paper>/exercises.py`` (``EXERCISES``: name -> Exercise); this
module finds them through :data:`MODULES`. ``tests/test_exercises.py`` runs every checker against the reference
solution (which must pass) and against deliberately wrong ones (which must fail).

**How an exercise cell looks, and why.** The notebook's cell (tagged ``exercise``) holds a stub::

    my_weights = exercises.stub("s1.diversity")   # replace with your own function
    exercises.check("s1.diversity", my_weights)

The stub raises ``NotImplementedError``, and the check prints "not attempted yet" with the signature, the task
and one worked example; it never raises. We chose this over wiring the reference in through a ``solution(...)``
call because of what each does in a class: with the solution wired in, "Run All" shows every exercise as passed
and a student scrolls past without noticing there was something to do; with the stub, every exercise shows up as
open work, the notebook still runs to its end under papermill (``make test`` executes each exercise cell and its
checker), and a student who is stuck has the solution one call away (``solution_source(name)``, the kit's own
code) rather than in front of them. Notebooks define no functions (the kit's rule), so the student's ``def`` lives
in their own copy only.
"""

from __future__ import annotations

import copy
import importlib
import inspect
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

# paper -> the module holding its EXERCISES (a paper without the module yet is skipped)
MODULES: dict[str, str] = {
    "s1": "longthink.s1.exercises",
    "thinklogit": "longthink.thinklogit.exercises",
    "insight_v": "longthink.insight_v.exercises",
    "taco": "longthink.taco.exercises",
}
SHOWN_FAILURES = 3  # how many differing cases a verdict spells out


class ExerciseError(ValueError):
    """An unknown exercise name, or an exercise whose definition is broken (the message names it)."""


# ------------------------------------------------------------------------------------------------ comparisons
def exact(expected, got) -> str | None:
    """None when ``got == expected``, else the reason."""
    return None if got == expected else "not the expected value"


def _floats(value) -> list[float] | None:
    if hasattr(value, "tolist"):  # numpy arrays, torch tensors
        value = value.tolist()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return [float(value)]
    try:
        return [float(v) for v in value]
    except (TypeError, ValueError):
        return None


def close(tol: float = 1e-6) -> Callable[[Any, Any], str | None]:
    """Numbers or sequences of numbers equal within ``tol`` (absolute and relative); None must match None."""

    def compare(expected, got) -> str | None:
        if expected is None or got is None:
            return None if expected is got else "expected None" if expected is None else "returned None"
        e, g = _floats(expected), _floats(got)
        if g is None:
            return f"returned a {type(got).__name__}, not a number or a list of numbers"
        if len(e) != len(g):
            return f"returned {len(g)} value(s), expected {len(e)}"
        for i, (a, b) in enumerate(zip(e, g)):
            if not math.isclose(a, b, rel_tol=tol, abs_tol=tol):
                return f"differs at position {i}: {b:.6g} instead of {a:.6g}" if len(e) > 1 else \
                    f"{b:.6g} instead of {a:.6g}"
        return None

    return compare


def proportional(tol: float = 1e-9) -> Callable[[Any, Any], str | None]:
    """Positive weights equal up to a common factor (compared after dividing each list by its largest value)."""

    def compare(expected, got) -> str | None:
        e, g = _floats(expected), _floats(got)
        if g is None:
            return f"returned a {type(got).__name__}, not a list of numbers"
        if len(e) != len(g):
            return f"returned {len(g)} weight(s) for {len(e)} question(s)"
        if any(not math.isfinite(x) or x <= 0 for x in g):
            return "every weight must be a positive number"
        top_e, top_g = max(e), max(g)
        for i, (a, b) in enumerate(zip(e, g)):
            if not math.isclose(a / top_e, b / top_g, rel_tol=tol, abs_tol=tol):
                return (f"differs at question {i}: relative to the largest weight, {b / top_g:.4g} instead of "
                        f"{a / top_e:.4g}")
        return None

    return compare


# -------------------------------------------------------------------------------------------------- exercises
@dataclass(frozen=True)
class Exercise:
    """One exercise: what to write, the kit's solution, how to make cases and how to compare answers.

    ``cases(rng)`` returns argument tuples, edge cases first; ``reference(*args)`` is the kit's answer;
    ``compare(expected, got)`` is None when ``got`` is right, else the reason; ``solution`` names the kit
    function(s) whose code is the solution (default: ``reference``).
    """

    name: str
    signature: str
    task: str
    reference: Callable
    cases: Callable[[random.Random], list[tuple]]
    compare: Callable[[Any, Any], str | None] = exact
    hint: str = ""
    solution: tuple = ()

    def example(self) -> tuple[tuple, Any]:
        """The first generated case and the kit's answer to it (a worked example)."""
        args = self.cases(random.Random(0))[0]
        return args, self.reference(*copy.deepcopy(args))


def _function_name(signature: str) -> str:
    return signature.split("(", 1)[0].strip()


def _call(signature: str, args: tuple) -> str:
    params = [p.strip() for p in signature.split("(", 1)[1].rsplit(")", 1)[0].split(",") if p.strip()]
    shown = ", ".join(f"{p}={a!r}" if i < len(params) else repr(a) for i, (p, a) in enumerate(zip(params, args)))
    return f"{_function_name(signature)}({shown})"


def registry() -> dict[str, Exercise]:
    """Every exercise of every paper room that has an ``exercises`` module, by name."""
    found: dict[str, Exercise] = {}
    for paper, module_name in MODULES.items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name in (module_name, module_name.rsplit(".", 1)[0]):
                continue  # this paper has no exercises (or no room) yet
            raise
        for name, exercise in getattr(module, "EXERCISES", {}).items():
            if not name.startswith(f"{paper}.") or exercise.name != name:
                raise ExerciseError(f"{module_name}: exercise {name!r} must be named '{paper}.<what>' and carry "
                                    f"that name (it says {exercise.name!r})")
            found[name] = exercise
    return found


def get(name: str) -> Exercise:
    """The exercise ``name`` (e.g. ``"s1.diversity"``); an unknown name is an error listing the known ones."""
    known = registry()
    if name not in known:
        raise ExerciseError(f"unknown exercise {name!r}; known exercises: {', '.join(sorted(known))}")
    return known[name]


def names(paper: str | None = None) -> list[str]:
    """The exercise names, of one paper if given."""
    return sorted(n for n in registry() if paper is None or n.startswith(f"{paper}."))


# ---------------------------------------------------------------------------------------------------- verdicts
@dataclass
class Verdict:
    """The result of :func:`check`: ``status`` is ``correct``, ``wrong``, ``error`` or ``not attempted``."""

    name: str
    status: str
    n_cases: int
    n_failed: int = 0
    details: list[str] = field(default_factory=list)
    exercise: Exercise | None = field(default=None, repr=False)

    @property
    def passed(self) -> bool:
        return self.status == "correct"

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        ex = self.exercise
        if self.status == "correct":
            head = f"[correct] {self.name}: your function agrees with the kit's on all {self.n_cases} cases."
        elif self.status == "not attempted":
            args, answer = ex.example()
            head = (f"[not attempted yet] {self.name}: write {ex.signature}.\n{ex.task}\n"
                    f"Example: {_call(ex.signature, args)} -> {answer!r}\n"
                    f"Then pass your function to exercises.check({self.name!r}, ...). Stuck? "
                    f"exercises.hint({self.name!r}); the kit's own solution: exercises.solution_source({self.name!r}).")
        elif self.status == "error":
            head = f"[error] {self.name}: your function raised on {self.n_failed} of {self.n_cases} cases."
        else:
            head = f"[wrong] {self.name}: your function differs from the kit's on {self.n_failed} of {self.n_cases} cases."
        more = self.n_failed - len(self.details)
        tail = [f"... and {more} more case(s)"] if more > 0 and self.details else []
        hint = [f"Hint: {ex.hint}"] if self.status in ("wrong", "error") and ex is not None and ex.hint else []
        return "\n".join([head, *self.details, *tail, *hint])

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        import html

        colour = {"correct": "#1b5e20", "not attempted": "#0d47a1"}.get(self.status, "#b71c1c")
        return f"<pre style='white-space:pre-wrap;color:{colour}'>{html.escape(str(self))}</pre>"


class _NotAttempted(NotImplementedError):
    pass


def stub(name: str) -> Callable:
    """A placeholder for the student's function: it raises, and :func:`check` reports "not attempted yet"."""
    exercise = get(name)

    def not_written(*args, **kwargs):
        raise _NotAttempted(f"write your own {exercise.signature} and pass it to exercises.check({name!r}, ...)")

    not_written.__name__ = _function_name(exercise.signature)
    return not_written


def _result_repr(value) -> str:
    if hasattr(value, "tolist"):
        value = value.tolist()
    text = repr(value)
    return text if len(text) <= 300 else text[:300] + " ..."


def check(name: str, fn: Callable, *, seed: int = 0, strict: bool = False) -> Verdict:
    """Run ``fn`` and the kit's solution on the exercise's generated cases and compare (see the module docstring).

    Never raises for a wrong or failing ``fn`` unless ``strict`` (then a wrong answer raises ``AssertionError``).
    """
    exercise = get(name)
    if not callable(fn):
        raise ExerciseError(f"exercises.check({name!r}, ...) needs a function, got {type(fn).__name__}")
    cases = exercise.cases(random.Random(seed))
    if not cases:
        raise ExerciseError(f"exercise {name!r} generated no cases")
    failed, errors, details = 0, 0, []
    for args in cases:
        expected = exercise.reference(*copy.deepcopy(args))
        try:
            got = fn(*copy.deepcopy(args))
        except _NotAttempted:
            return Verdict(name, "not attempted", len(cases), exercise=exercise)
        except Exception as exc:  # the student's bug is a verdict, not a crash
            failed, errors = failed + 1, errors + 1
            if len(details) < SHOWN_FAILURES:
                details.append(f"- {_call(exercise.signature, args)} raised {type(exc).__name__}: {exc}")
            continue
        reason = exercise.compare(expected, got)
        if reason is not None:
            failed += 1
            if len(details) < SHOWN_FAILURES:
                details.append(f"- {_call(exercise.signature, args)} returned {_result_repr(got)}; the kit's answer "
                               f"is {_result_repr(expected)} ({reason})")
    status = "correct" if not failed else "error" if errors == failed else "wrong"
    verdict = Verdict(name, status, len(cases), failed, details, exercise)
    if strict and not verdict.passed:
        raise AssertionError(str(verdict))
    return verdict


# ------------------------------------------------------------------------------------------------------ help
@dataclass
class Text:
    """Text that shows as preformatted text in a notebook."""

    text: str

    def __str__(self) -> str:
        return self.text

    __repr__ = __str__

    def _repr_html_(self) -> str:
        import html

        return f"<pre style='white-space:pre-wrap'>{html.escape(self.text)}</pre>"


def show(name: str) -> Text:
    """The task, the signature and a worked example."""
    ex = get(name)
    args, answer = ex.example()
    return Text(f"{name}: write {ex.signature}\n{ex.task}\nExample: {_call(ex.signature, args)} -> {answer!r}")


def hint(name: str) -> Text:
    ex = get(name)
    return Text(ex.hint or f"{name} has no hint; see exercises.solution_source({name!r}).")


def solution(name: str) -> Callable:
    """The kit's answer as a function with the exercise's signature (for checking, or to compare by hand)."""
    return get(name).reference


def solution_source(name: str) -> Text:
    """The source code of the kit's own implementation that the exercise is checked against."""
    ex = get(name)
    parts = [f"# {fn.__module__}.{fn.__qualname__}\n{inspect.getsource(fn)}" for fn in (ex.solution or (ex.reference,))]
    return Text("\n".join(parts))


def check_all(fns: dict[str, Callable], **kwargs) -> list[Verdict]:
    """:func:`check` for several exercises at once (a grader's loop)."""
    return [check(name, fn, **kwargs) for name, fn in fns.items()]


def cases(name: str, *, seed: int = 0) -> Sequence[tuple]:
    """The argument tuples :func:`check` uses (to try a function by hand)."""
    return get(name).cases(random.Random(seed))
