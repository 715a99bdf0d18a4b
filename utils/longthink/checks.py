"""The values a recipe setting may take: its type, its bounds, and for some TRL fields a list of names.

Kit fields say their bounds in their annotation (``hidden_size: Positive``, ``p_recheck: Fraction``); a plain ``int``
kit field must be >= 0 and every float must be finite. TRL and transformers fields get the bounds of
``TRAINER_BOUNDS`` (TRL checks some of them only when training starts, others never: a zero learning rate trains
nothing and a negative one diverges) and ``lr_scheduler_type`` must name a transformers scheduler.
``longthink.config`` applies these checks to every recipe and turns a problem into a ``RecipeError`` that names
the file and the key.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import types
import typing
from typing import Annotated, Any


@dataclasses.dataclass(frozen=True)
class Bounds:
    """The allowed range of a number: ``lo <= x <= hi`` (open ends with ``lo_open``/``hi_open``), or one of ``allow``."""

    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    hi_open: bool = False
    allow: tuple = ()

    def problem(self, value: Any) -> str | None:
        if value in self.allow:
            return None
        if self.lo is not None and (value < self.lo or (self.lo_open and value == self.lo)):
            return f"must be {'>' if self.lo_open else '>='} {self.lo}" + self._also()
        if self.hi is not None and (value > self.hi or (self.hi_open and value == self.hi)):
            return f"must be {'<' if self.hi_open else '<='} {self.hi}" + self._also()
        return None

    def _also(self) -> str:
        return f" (or one of {list(self.allow)})" if self.allow else ""


Positive = Annotated[int, Bounds(lo=1)]  # a count or size that cannot be zero
NonNegative = Annotated[int, Bounds(lo=0)]
PositiveFloat = Annotated[float, Bounds(lo=0, lo_open=True)]
NonNegativeFloat = Annotated[float, Bounds(lo=0)]
Fraction = Annotated[float, Bounds(lo=0, hi=1)]  # a probability or a share
DEFAULT_INT_BOUNDS = Bounds(lo=0)  # a kit int without an annotation: counts and sizes are never negative

# Bounds of TRL / transformers config fields a recipe may set (TRL itself checks some only when training starts).
TRAINER_BOUNDS: dict[str, Bounds] = {
    "learning_rate": Bounds(lo=0, lo_open=True),
    "num_train_epochs": Bounds(lo=0, lo_open=True),
    "max_steps": Bounds(lo=1, allow=(-1,)),
    "per_device_train_batch_size": Bounds(lo=1),
    "per_device_eval_batch_size": Bounds(lo=1),
    "gradient_accumulation_steps": Bounds(lo=1),
    "warmup_steps": Bounds(lo=0),
    "weight_decay": Bounds(lo=0),
    "adam_beta1": Bounds(lo=0, hi=1, hi_open=True),
    "adam_beta2": Bounds(lo=0, hi=1, hi_open=True),
    "adam_epsilon": Bounds(lo=0, lo_open=True),
    "max_grad_norm": Bounds(lo=0),
    "logging_steps": Bounds(lo=0, lo_open=True),
    "max_length": Bounds(lo=1),
    "max_completion_length": Bounds(lo=1),
    "num_generations": Bounds(lo=2),
    "generation_batch_size": Bounds(lo=1),
    "steps_per_generation": Bounds(lo=1),
    "num_iterations": Bounds(lo=1),
    "temperature": Bounds(lo=0, lo_open=True),
    "top_p": Bounds(lo=0, hi=1, lo_open=True),
    "beta": Bounds(lo=0),
    "epsilon": Bounds(lo=0, lo_open=True),
}


def _scheduler_names() -> list[str]:
    from transformers import SchedulerType

    return [s.value for s in SchedulerType]


TRAINER_CHOICES: dict[str, Any] = {"lr_scheduler_type": _scheduler_names}  # field -> callable giving the names


def trainer_value_problem(key: str, value: Any) -> str | None:
    """What is wrong with TRL field ``key`` set to ``value`` (an unknown scheduler name, a value out of bounds)."""
    if key in TRAINER_CHOICES and value is not None:
        names = TRAINER_CHOICES[key]()
        if value not in names:
            close = difflib.get_close_matches(str(value), names, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            return f"unknown value {value!r}{hint}; known: {names}"
    bounds = TRAINER_BOUNDS.get(key)
    if bounds is not None and isinstance(value, (int, float)) and not isinstance(value, bool):
        problem = bounds.problem(value)
        if problem:
            return f"{problem}, got {value!r}"
    return None


def bounds_problem(value: Any, hint: Any, *, default_bounds: bool) -> str | None:
    """What is out of range in ``value`` for ``hint`` (None when all is well); descends into lists and unions."""
    if isinstance(value, float) and not math.isfinite(value):
        return f"must be a finite number, got {value!r}"
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is Annotated:
        base, extras = args[0], [a for a in args[1:] if isinstance(a, Bounds)]
        for bounds in extras:
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                problem = bounds.problem(value)
                if problem:
                    return f"{problem}, got {value!r}"
        return None if extras else bounds_problem(value, base, default_bounds=default_bounds)
    if origin in (typing.Union, types.UnionType):
        for arg in args:
            if matches(value, arg)[0]:
                return bounds_problem(value, arg, default_bounds=default_bounds)
        return None
    if origin in (list, tuple) and isinstance(value, (list, tuple)):
        inner = args[0] if args else Any
        for item in value:
            problem = bounds_problem(item, inner, default_bounds=default_bounds)
            if problem:
                return f"holds an item that {problem}"
        return None
    if isinstance(value, dict):
        for item in value.values():
            if isinstance(item, float) and not math.isfinite(item):
                return f"holds a value that must be a finite number, got {item!r}"
        return None
    if default_bounds and hint is int and isinstance(value, int) and not isinstance(value, bool):
        return DEFAULT_INT_BOUNDS.problem(value) and f"{DEFAULT_INT_BOUNDS.problem(value)}, got {value!r}"
    return None


def matches(value: Any, hint: Any) -> tuple[bool, Any]:
    if hint is Any or hint is object:
        return True, value
    if typing.get_origin(hint) is Annotated:
        return matches(value, typing.get_args(hint)[0])
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        for arg in args:
            ok, coerced = matches(value, arg)
            if ok:
                return True, coerced
        return False, value
    if origin is typing.Literal:
        return value in args, value
    if hint is type(None):
        return value is None, value
    if hint is float:
        if isinstance(value, bool):
            return False, value
        if isinstance(value, (int, float)):
            return True, float(value)
        if isinstance(value, str):  # YAML reads 1e-5 (no dot) as a string
            try:
                return True, float(value)
            except ValueError:
                return False, value
        return False, value
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool), value
    if hint is bool:
        return isinstance(value, bool), value
    if hint is str:
        return isinstance(value, str), value
    if origin in (list, tuple) or hint in (list, tuple):
        if not isinstance(value, (list, tuple)):
            return False, value
        if args and args[-1] is not Ellipsis:
            results = [matches(v, args[0]) for v in value] if origin is list else None
            if results is not None:
                return all(ok for ok, _ in results), [c for _, c in results]
        return True, list(value)
    if origin is dict or hint is dict:
        return isinstance(value, dict), value
    if isinstance(hint, type):
        if issubclass(hint, str) and isinstance(value, str):  # str enums in TRL configs
            return True, value
        return isinstance(value, hint), value
    return True, value  # an annotation we cannot check (e.g. a callable): TRL validates it


def describe(hint: Any) -> str:
    if typing.get_origin(hint) is Annotated:
        return describe(typing.get_args(hint)[0])
    if isinstance(hint, type):
        return hint.__name__
    return str(hint).replace("typing.", "")
