"""Recipes: ``recipes/<paper>.yaml`` merged with a profile overlay and dotted overrides, then validated.

A recipe lists stages in order. Each stage names a ``kind``, a dataclass registered with :func:`stage_schema`
that declares the kit's own keys. A *trainer* stage (``trainer="sft" | "dpo" | "grpo"``) also accepts every
field of the matching TRL config class, under TRL's own names (as open-r1's recipes do). Anything else is an
error that names the file and the key: a typo in a recipe must never be silently ignored.

Values are checked before any work starts, not when a trainer trips over them (``longthink.checks``): every float
must be finite, a kit field's bounds come from its annotation (``Positive``, ``Fraction``, ...; a plain ``int`` is
at least 0), TRL fields have the bounds of ``checks.TRAINER_BOUNDS`` and ``lr_scheduler_type`` must name one of
transformers' schedulers. A duplicated YAML key, an empty stage list or a negative learning rate is a
``RecipeError`` naming the file and the key.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import importlib
import os
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from longthink.checks import (  # noqa: F401 (Bounds and the annotations are the schema author's API, re-exported)
    Bounds,
    Fraction,
    NonNegative,
    NonNegativeFloat,
    Positive,
    PositiveFloat,
    bounds_problem,
    describe,
    matches,
    trainer_value_problem,
)

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
        _checked(value, TOP_LEVEL_KEYS[key], where=where, key=key)
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
            kit_values[key] = _checked(value, hints[key], where=where, key=label, default_bounds=True)
        elif key in trainer_fields:
            trainer_values[key] = _checked(value, trainer_fields[key], where=where, key=label)
            problem = trainer_value_problem(key, trainer_values[key])
            if problem:
                raise RecipeError(f"{where}: key {label!r} {problem}")
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


def _checked(value: Any, hint: Any, *, where: str, key: str, default_bounds: bool = False) -> Any:
    """``value`` checked against its type and bounds (``longthink.checks``); a problem is a RecipeError naming the
    file and the key."""
    ok, coerced = matches(value, hint)
    if not ok:
        raise RecipeError(f"{where}: key {key!r} expects {describe(hint)}, got {value!r} ({type(value).__name__})")
    problem = bounds_problem(coerced, hint, default_bounds=default_bounds)
    if problem:
        raise RecipeError(f"{where}: key {key!r} {problem}")
    return coerced
