"""Recipes: ``recipes/<paper>.yaml`` merged with a profile overlay and dotted overrides, then validated.

A recipe lists stages in order. Each stage names a ``kind``, a dataclass registered with :func:`stage_schema`
that declares the kit's own keys. A *trainer* stage (``trainer="sft" | "dpo" | "grpo"``) also accepts every
field of the matching TRL config class, under TRL's own names (as open-r1's recipes do). Anything else is an
error that names the file and the key: a typo in a recipe must never be silently ignored.

Values are checked before any work starts, not when a trainer trips over them: every float must be finite; a kit
field's bounds come from its annotation (``Positive``, ``NonNegative``, ``Fraction``, ... below; a plain ``int``
field is at least 0); TRL fields have the bounds of ``TRAINER_BOUNDS`` and ``lr_scheduler_type`` must name one of
transformers' schedulers. A duplicated YAML key, an empty stage list or a negative learning rate is a
``RecipeError`` naming the file and the key.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import importlib
import math
import os
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import yaml

PROFILE_DIR = "profiles"
TOP_LEVEL_KEYS = {"paper": str, "seed": int, "description": str, "stages": dict}
# Which module registers the schemas of a recipe's stage kinds ("s1.sft" -> longthink.s1.schema).
SCHEMA_MODULES = {
    "world": "longthink.text_world.schema",
    "world_vision": "longthink.vision_world.schema",
    "s1": "longthink.s1.schema",
    "thinklogit": "longthink.thinklogit.schema",
    "insight_v": "longthink.insight_v.schema",
    "taco": "longthink.taco.schema",
    "quickstart": "longthink.quickstart",
}
# The TRL config class behind each trainer kind, imported lazily (TRL import costs seconds).
TRAINER_CONFIGS = {"sft": "SFTConfig", "dpo": "DPOConfig", "grpo": "GRPOConfig"}


class RecipeError(ValueError):
    """A recipe cannot be loaded: the message names the file and the key (or line) at fault."""


# ------------------------------------------------------------------------------------------------------ bounds
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


@dataclasses.dataclass(frozen=True)
class _Schema:
    kind: str
    cls: type
    trainer: str | None


_SCHEMAS: dict[str, _Schema] = {}


def stage_schema(kind: str, *, trainer: str | None = None):
    """Register a dataclass as the schema of a stage kind; ``trainer`` adds that TRL config's fields."""
    if trainer is not None and trainer not in TRAINER_CONFIGS:
        raise ValueError(f"trainer must be one of {sorted(TRAINER_CONFIGS)}, got {trainer!r}")

    def register(cls: type) -> type:
        if not dataclasses.is_dataclass(cls):
            raise TypeError(f"stage schema {kind!r} must be a dataclass")
        _SCHEMAS[kind] = _Schema(kind, cls, trainer)
        return cls

    return register


def registered_kinds() -> list[str]:
    return sorted(_SCHEMAS)


@dataclasses.dataclass
class StageSettings:
    """One validated stage: its kit settings (a dataclass) and the TRL config fields it sets."""

    name: str
    kind: str
    kit: Any
    trainer: dict[str, Any]
    trainer_kind: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, **dataclasses.asdict(self.kit), **self.trainer}

    def __getattr__(self, item: str) -> Any:  # recipe.stages["sft"].model reads the kit field
        kit = self.__dict__.get("kit")
        if kit is not None and hasattr(kit, item):
            return getattr(kit, item)
        trainer = self.__dict__.get("trainer") or {}
        if item in trainer:
            return trainer[item]
        raise AttributeError(f"stage {self.__dict__.get('name')!r} has no setting {item!r}")


@dataclasses.dataclass
class Recipe:
    paper: str
    seed: int
    profile: str | None
    path: Path
    stages: dict[str, StageSettings]
    description: str = ""

    def stage(self, name: str) -> StageSettings:
        if name not in self.stages:
            raise RecipeError(f"{self.path}: no stage {name!r}; stages are {list(self.stages)}")
        return self.stages[name]

    def as_dict(self) -> dict[str, Any]:
        return {"paper": self.paper, "seed": self.seed, "stages": {k: v.as_dict() for k, v in self.stages.items()}}


# ----------------------------------------------------------------------------------------------- finding files
def repo_root() -> Path:
    """The checkout that holds ``recipes/`` and ``notebooks/``.

    ``$LONGTHINK_ROOT`` if set; else the checkout this package is installed from (the editable install of ``make
    setup``: ``utils/longthink/`` sits two folders below it); else the current folder or the first one above it
    that holds ``recipes/``. Every recipe, expected-results file and notebook is found from here.
    """
    env = os.environ.get("LONGTHINK_ROOT")
    if env:
        root = Path(env).expanduser().resolve()
        if not (root / "recipes").is_dir():
            raise RecipeError(f"LONGTHINK_ROOT={env} holds no recipes/ folder")
        return root
    installed = Path(__file__).resolve().parents[2]
    if (installed / "recipes").is_dir():
        return installed
    start = Path.cwd().resolve()
    for folder in (start, *start.parents):
        if (folder / "recipes").is_dir():
            return folder
    raise RecipeError(f"no longthink checkout (a folder with recipes/) at or above {start}; set LONGTHINK_ROOT")


def recipe_path(name: str | os.PathLike) -> Path:
    """``recipes/<name>.yaml`` of :func:`repo_root`; a path (with a folder or a ``.yaml`` suffix) is taken as given."""
    text = str(name)
    if "/" in text or text.endswith((".yaml", ".yml")):
        return Path(text)
    path = repo_root() / "recipes" / f"{text}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in (repo_root() / "recipes").glob("*.yaml"))
        raise RecipeError(f"{path}: no recipe named {text!r}; known recipes: {known}")
    return path


# --------------------------------------------------------------------------------------------------- loading
class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that refuses a key given twice in one mapping (plain YAML keeps the last one silently)."""

    def construct_mapping(self, node, deep=False):
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":  # `<<: *anchor` merges; explicit keys may override it
                continue
            key = self.construct_object(key_node, deep=True)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r} (first given on line {seen[key]})", key_node.start_mark)
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


def read_yaml(path: str | Path) -> dict:
    """Read a YAML mapping; broken YAML, a duplicate key, an empty file or a non-mapping raise RecipeError."""
    path = Path(path)
    if not path.is_file():
        raise RecipeError(f"{path}: recipe file not found")
    try:
        data = yaml.load(path.read_text(), Loader=_UniqueKeyLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise RecipeError(f"{path}:{where} {'' if 'duplicate key' in str(getattr(exc, 'problem', '')) else 'broken YAML: '}"
                          f"{getattr(exc, 'problem', exc)}") from exc
    if data is None:
        raise RecipeError(f"{path}: the file is empty")
    if not isinstance(data, dict):
        raise RecipeError(f"{path}: expected a mapping at the top level, got {type(data).__name__}")
    return data


def deep_merge(base: dict, overlay: Mapping) -> dict:
    out = copy.deepcopy(base)
    for key, value in overlay.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def profile_overlay(recipes_dir: Path, profile: str, paper: str, _seen: tuple = ()) -> tuple[dict, list[Path]]:
    """The overlay for ``paper`` in ``profiles/<profile>.yaml``, following ``extends:`` chains."""
    path = recipes_dir / PROFILE_DIR / f"{profile}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in (recipes_dir / PROFILE_DIR).glob("*.yaml"))
        raise RecipeError(f"{path}: unknown profile {profile!r}; known profiles: {known}")
    if profile in _seen:
        raise RecipeError(f"{path}: 'extends' loops back to {profile!r}")
    data = read_yaml(path)
    parent = data.pop("extends", None)
    description = data.pop("description", None)  # noqa: F841 - documentation only
    overlay, files = ({}, [])
    if parent is not None:
        if not isinstance(parent, str):
            raise RecipeError(f"{path}: key 'extends' must be a profile name, got {parent!r}")
        overlay, files = profile_overlay(recipes_dir, parent, paper, (*_seen, profile))
    section = data.get(paper) or {}
    if not isinstance(section, dict):
        raise RecipeError(f"{path}: key {paper!r} must be a mapping")
    return deep_merge(overlay, section), [*files, path]


def apply_override(data: dict, dotted: str, value: Any, source: str) -> None:
    """Set ``stages.sft.learning_rate`` style keys; string values are parsed as YAML scalars."""
    if isinstance(value, str):
        try:
            value = yaml.safe_load(value)
        except yaml.YAMLError:
            pass
    parts = dotted.split(".")
    if len(parts) == 3 and parts[0] == "stages" and parts[1] not in (data.get("stages") or {}):
        raise RecipeError(f"{source}: override {dotted!r}: no stage {parts[1]!r}; "
                          f"stages are {list(data.get('stages') or {})}")
    node = data
    for i, part in enumerate(parts[:-1]):
        if not isinstance(node.get(part), dict):
            raise RecipeError(f"{source}: override {dotted!r}: {'.'.join(parts[: i + 1])!r} is not a section")
        node = node[part]
    node[parts[-1]] = value


def stage_overrides(overrides: Mapping[str, Any]) -> dict[str, Any]:
    """``--set`` style overrides for :func:`load_recipe`: ``"sft.learning_rate"`` means ``"stages.sft.learning_rate"``.

    ``"seed"`` and keys already starting with ``stages.`` pass unchanged; anything else must read ``STAGE.KEY``.
    """
    out = {}
    for key, value in overrides.items():
        if not isinstance(key, str) or not key:
            raise RecipeError(f"an override key must be a non-empty string, got {key!r}")
        if key == "seed" or key.startswith("stages."):
            out[key] = value
        elif key.count(".") == 1 and all(key.split(".")):
            out[f"stages.{key}"] = value
        else:
            raise RecipeError(f"override {key!r} must read STAGE.KEY (e.g. sft.learning_rate=1e-4)")
    return out


def parse_assignments(items: list[str]) -> dict[str, Any]:
    """``["sft.learning_rate=1e-4", ...]`` (the CLI's ``--set``) as a dict; values are YAML scalars."""
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise RecipeError(f"--set {item!r} must read STAGE.KEY=VALUE")
        try:
            parsed = yaml.safe_load(value)
        except yaml.YAMLError as exc:
            raise RecipeError(f"--set {item!r}: the value is not a YAML scalar ({exc})") from exc
        if isinstance(parsed, str):  # YAML 1.1 reads 1e-4 (no dot) as a string
            try:
                parsed = float(parsed)
            except ValueError:
                pass
        out[key.strip()] = parsed
    return out


def load_recipe(path: str | Path, profile: str | None = None, overrides: Mapping[str, Any] | None = None) -> Recipe:
    """Load, merge and validate a recipe. ``profile=None`` gives the paper-scale recipe itself."""
    path = Path(path)
    raw = read_yaml(path)
    paper = raw.get("paper")
    if not isinstance(paper, str):
        raise RecipeError(f"{path}: key 'paper' is missing or not a string")
    sources = [path]
    if profile is not None:
        overlay, files = profile_overlay(path.parent, profile, paper)
        raw = deep_merge(raw, overlay)
        sources += files
    for dotted, value in (overrides or {}).items():
        apply_override(raw, dotted, value, f"{path} (overrides)")
    where = " + ".join(str(s) for s in sources)
    return _validate(raw, where=where, path=path, profile=profile)


def _validate(raw: dict, *, where: str, path: Path, profile: str | None) -> Recipe:
    for key, value in raw.items():
        if key not in TOP_LEVEL_KEYS:
            raise RecipeError(f"{where}: unknown key {key!r}; allowed top-level keys: {sorted(TOP_LEVEL_KEYS)}")
        _check_type(value, TOP_LEVEL_KEYS[key], where=where, key=key)
    for key in ("paper", "seed", "stages"):
        if key not in raw:
            raise RecipeError(f"{where}: missing required key {key!r}")
    if not raw["stages"]:
        raise RecipeError(f"{where}: key 'stages' is empty; a recipe lists at least one stage")
    _import_schemas(raw["paper"], raw["stages"])
    stages = {}
    for name, settings in raw["stages"].items():
        if not isinstance(settings, dict):
            raise RecipeError(f"{where}: stage {name!r} must be a mapping of settings")
        stages[name] = _validate_stage(name, settings, where=where)
    return Recipe(raw["paper"], raw["seed"], profile, path, stages, raw.get("description", ""))


def _import_schemas(paper: str, stages: dict) -> None:
    prefixes = {paper} | {str(s.get("kind", "")).split(".")[0] for s in stages.values() if isinstance(s, dict)}
    for prefix in prefixes:
        module = SCHEMA_MODULES.get(prefix)
        if module:
            try:
                importlib.import_module(module)
            except ModuleNotFoundError as exc:  # a paper whose package is not written yet has no schemas
                if not exc.name or not module.startswith(exc.name):
                    raise


def _validate_stage(name: str, settings: dict, *, where: str) -> StageSettings:
    kind = settings.get("kind")
    if kind is None:
        raise RecipeError(f"{where}: stage {name!r} is missing required key 'kind'")
    if kind not in _SCHEMAS:
        raise RecipeError(f"{where}: stage {name!r}: unknown kind {kind!r}; known kinds: {registered_kinds()}")
    schema = _SCHEMAS[kind]
    kit_fields = {f.name: f for f in dataclasses.fields(schema.cls)}
    hints = typing.get_type_hints(schema.cls, include_extras=True)
    trainer_fields = _trainer_fields(schema.trainer)
    kit_values, trainer_values = {}, {}
    for key, value in settings.items():
        if key == "kind":
            continue
        label = f"stages.{name}.{key}"
        if key in kit_fields:
            kit_values[key] = _check_type(value, hints[key], where=where, key=label, default_bounds=True)
        elif key in trainer_fields:
            trainer_values[key] = _check_type(value, trainer_fields[key], where=where, key=label)
            _check_trainer_value(key, trainer_values[key], where=where, label=label)
        else:
            allowed = sorted(kit_fields) + (["<any TRL " + TRAINER_CONFIGS[schema.trainer] + " field>"] if schema.trainer else [])
            close = difflib.get_close_matches(key, [*kit_fields, *trainer_fields], n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise RecipeError(f"{where}: unknown key {label!r} for kind {kind!r}{hint}; allowed: {allowed}")
    missing = [
        f.name
        for f in kit_fields.values()
        if f.name not in kit_values and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise RecipeError(f"{where}: stage {name!r} ({kind}) is missing required value(s): "
                          + ", ".join(f"stages.{name}.{m}" for m in missing))
    try:
        kit = schema.cls(**kit_values)
    except (ValueError, TypeError) as exc:  # a schema's own cross-field checks (__post_init__)
        raise RecipeError(f"{where}: stage {name!r} ({kind}): {exc}") from exc
    return StageSettings(name, kind, kit, trainer_values, schema.trainer)


def _check_trainer_value(key: str, value: Any, *, where: str, label: str) -> None:
    if key in TRAINER_CHOICES and value is not None:
        names = TRAINER_CHOICES[key]()
        if value not in names:
            close = difflib.get_close_matches(str(value), names, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise RecipeError(f"{where}: key {label!r}: unknown value {value!r}{hint}; known: {names}")
    bounds = TRAINER_BOUNDS.get(key)
    if bounds is not None and isinstance(value, (int, float)) and not isinstance(value, bool):
        problem = bounds.problem(value)
        if problem:
            raise RecipeError(f"{where}: key {label!r} {problem}, got {value!r}")


_TRAINER_FIELD_CACHE: dict[str, dict[str, Any]] = {}


def _trainer_fields(trainer: str | None) -> dict[str, Any]:
    if trainer is None:
        return {}
    if trainer not in _TRAINER_FIELD_CACHE:
        import trl

        cls = getattr(trl, TRAINER_CONFIGS[trainer])
        try:
            hints = typing.get_type_hints(cls)
        except Exception:  # forward references TRL does not resolve: accept any value for those fields
            hints = {}
        _TRAINER_FIELD_CACHE[trainer] = {f.name: hints.get(f.name, Any) for f in dataclasses.fields(cls) if f.init}
    return _TRAINER_FIELD_CACHE[trainer]


# ------------------------------------------------------------------------------------------------ type checks
def _check_type(value: Any, hint: Any, *, where: str, key: str, default_bounds: bool = False) -> Any:
    """Return ``value`` (ints widened to float where a float is wanted) or raise RecipeError.

    Floats must be finite. With ``default_bounds`` (kit fields), an ``int`` without a ``Bounds`` annotation must
    be >= 0; annotated fields (``Positive``, ``Fraction``, ...) follow their own bounds, list elements included.
    """
    ok, coerced = _matches(value, hint)
    if not ok:
        raise RecipeError(f"{where}: key {key!r} expects {_describe(hint)}, got {value!r} ({type(value).__name__})")
    problem = _bounds_problem(coerced, hint, default_bounds=default_bounds)
    if problem:
        raise RecipeError(f"{where}: key {key!r} {problem}")
    return coerced


def _bounds_problem(value: Any, hint: Any, *, default_bounds: bool) -> str | None:
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
        return None if extras else _bounds_problem(value, base, default_bounds=default_bounds)
    if origin in (typing.Union, types.UnionType):
        for arg in args:
            if _matches(value, arg)[0]:
                return _bounds_problem(value, arg, default_bounds=default_bounds)
        return None
    if origin in (list, tuple) and isinstance(value, (list, tuple)):
        inner = args[0] if args else Any
        for item in value:
            problem = _bounds_problem(item, inner, default_bounds=default_bounds)
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


def _matches(value: Any, hint: Any) -> tuple[bool, Any]:
    if hint is Any or hint is object:
        return True, value
    if typing.get_origin(hint) is Annotated:
        return _matches(value, typing.get_args(hint)[0])
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        for arg in args:
            ok, coerced = _matches(value, arg)
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
            results = [_matches(v, args[0]) for v in value] if origin is list else None
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


def _describe(hint: Any) -> str:
    if typing.get_origin(hint) is Annotated:
        return _describe(typing.get_args(hint)[0])
    if isinstance(hint, type):
        return hint.__name__
    return str(hint).replace("typing.", "")
