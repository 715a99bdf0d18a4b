"""Recipes: ``recipes/<paper>.yaml`` merged with a profile overlay and dotted overrides, then validated.

A recipe lists stages in order. Each stage names a ``kind``, a dataclass registered with :func:`stage_schema`
that declares the kit's own keys. A *trainer* stage (``trainer="sft" | "dpo" | "grpo"``) also accepts every
field of the matching TRL config class, under TRL's own names (as open-r1's recipes do). Anything else is an
error that names the file and the key: a typo in a recipe must never be silently ignored.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import importlib
import os
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

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
def read_yaml(path: str | Path) -> dict:
    """Read a YAML mapping; broken YAML, an empty file or a non-mapping raise RecipeError naming the file."""
    path = Path(path)
    if not path.is_file():
        raise RecipeError(f"{path}: recipe file not found")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise RecipeError(f"{path}:{where} broken YAML: {getattr(exc, 'problem', exc)}") from exc
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
    node = data
    for i, part in enumerate(parts[:-1]):
        if not isinstance(node.get(part), dict):
            raise RecipeError(f"{source}: override {dotted!r}: {'.'.join(parts[: i + 1])!r} is not a section")
        node = node[part]
    node[parts[-1]] = value


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
    hints = typing.get_type_hints(schema.cls)
    trainer_fields = _trainer_fields(schema.trainer)
    kit_values, trainer_values = {}, {}
    for key, value in settings.items():
        if key == "kind":
            continue
        label = f"stages.{name}.{key}"
        if key in kit_fields:
            kit_values[key] = _check_type(value, hints[key], where=where, key=label)
        elif key in trainer_fields:
            trainer_values[key] = _check_type(value, trainer_fields[key], where=where, key=label)
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
    return StageSettings(name, kind, schema.cls(**kit_values), trainer_values, schema.trainer)


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
def _check_type(value: Any, hint: Any, *, where: str, key: str) -> Any:
    """Return ``value`` (ints widened to float where a float is wanted) or raise RecipeError."""
    ok, coerced = _matches(value, hint)
    if not ok:
        raise RecipeError(f"{where}: key {key!r} expects {_describe(hint)}, got {value!r} ({type(value).__name__})")
    return coerced


def _matches(value: Any, hint: Any) -> tuple[bool, Any]:
    if hint is Any or hint is object:
        return True, value
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
    if isinstance(hint, type):
        return hint.__name__
    return str(hint).replace("typing.", "")
