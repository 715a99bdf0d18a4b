"""The world resolver: the one way from a reference to the model, data set or tool it names.

Paper code never imports a world package. It names what it needs, and the resolver finds it:

* ``world:<name>`` is the text world (``longthink.text_world``): ``world:instruct``, ``world:target``,
  ``world:guider_base`` (models), ``world:pool``, ``world:by_difficulty``, ``world:hard`` (data sets), ...
* ``world-vision:<name>`` is the vision world (``longthink.vision_world``): ``world-vision:base`` (the base VLM), ...
* anything else is a Hugging Face hub id (``Qwen/Qwen2.5-32B-Instruct``, a data set id) or a local folder / file.

Each world registers its entries (:func:`provides`) in its ``registry`` module, imported the first time its prefix
is asked for. An entry is built on first use for the given profile *and seed* (a paper run with ``--seed 1`` reads
the worlds built with seed 1), cached by key, and returned as a :class:`Resolved`: its ``key`` is what a stage that
reads it puts into its own cache key, so a changed world model rebuilds every stage that read it, and nothing else.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from longthink.stages import Artefact, config_hash

KINDS = ("model", "dataset", "tool")
# prefix -> the module that registers that world's entries (imported on first use)
WORLD_MODULES = {"world": "longthink.text_world.registry", "world-vision": "longthink.vision_world.registry"}


class ResolveError(LookupError):
    """An unknown reference, or one used as the wrong kind; the message names the reference."""


@dataclasses.dataclass(frozen=True)
class Resolved:
    """A resolved reference: its kind, its cache key, and where it lives (a folder or hub id) or how to load it."""

    ref: str
    kind: str
    key: str
    path: str | None = None  # a model folder or hub id
    loader: Callable[[], Any] | None = None  # a data set's rows, or a tool object
    info: dict = dataclasses.field(default_factory=dict)

    def load(self) -> Any:
        """The data set (a list of row dicts) or the tool object; for a model, its path."""
        return self.loader() if self.loader is not None else self.path

    def rows(self) -> list[dict]:
        if self.kind != "dataset":
            raise ResolveError(f"{self.ref!r} is a {self.kind}, not a data set")
        return [dict(r) for r in self.load()]

    def artefact(self) -> Artefact:
        """As a stage input: its key enters the reading stage's key."""
        return Artefact(self.ref, self.key, Path(self.path) if self.path and Path(self.path).exists() else None)


@dataclasses.dataclass(frozen=True)
class _Entry:
    kind: str
    provide: Callable[..., Resolved]
    doc: str


_REGISTRY: dict[str, dict[str, _Entry]] = {}


def provides(prefix: str, name: str, *, kind: str):
    """Register ``fn(profile, seed) -> Resolved`` as the provider of ``<prefix>:<name>`` (a world's registry)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")

    def register(fn: Callable[..., Resolved]) -> Callable[..., Resolved]:
        _REGISTRY.setdefault(prefix, {})[name] = _Entry(kind, fn, (fn.__doc__ or "").strip().split("\n")[0])
        return fn

    return register


def split_ref(ref: str) -> tuple[str | None, str]:
    """``"world:instruct"`` -> ``("world", "instruct")``; a hub id or path -> ``(None, ref)``."""
    if not isinstance(ref, str) or not ref.strip():
        raise ResolveError(f"a reference must be a non-empty string, got {ref!r}")
    prefix, sep, name = ref.partition(":")
    if sep and prefix in WORLD_MODULES:
        return prefix, name
    return None, ref


def is_world(ref: str) -> bool:
    return split_ref(ref)[0] is not None


def entries(prefix: str) -> dict[str, str]:
    """``{name: "kind: what it is"}`` of a world (for error messages and ``longthink doctor``)."""
    _load_world(prefix)
    return {name: f"{e.kind}: {e.doc}" for name, e in sorted(_REGISTRY.get(prefix, {}).items())}


def _load_world(prefix: str) -> None:
    if prefix not in _REGISTRY:
        importlib.import_module(WORLD_MODULES[prefix])


def resolve(ref: str, *, kind: str = "model", profile: str | None = "tiny", seed: int = 0) -> Resolved:
    """Resolve ``ref`` as a ``kind`` for ``profile`` and world ``seed`` (building a world entry on first use)."""
    if kind not in KINDS:
        raise ResolveError(f"kind must be one of {KINDS}, got {kind!r}")
    prefix, name = split_ref(ref)
    if prefix is None:
        return _resolve_external(ref, kind)
    _load_world(prefix)
    entry = _REGISTRY.get(prefix, {}).get(name)
    if entry is None:
        raise ResolveError(f"unknown reference {ref!r}; {prefix}: provides {sorted(_REGISTRY.get(prefix, {}))}")
    if entry.kind != kind:
        raise ResolveError(f"{ref!r} is a {entry.kind}, not a {kind}")
    if profile == "paper":
        raise ResolveError(f"{ref!r} is part of the tiny world; the paper profile names hub models and data sets "
                           "(check the recipe's profile overlay)")
    return entry.provide(profile=profile or "tiny", seed=seed)


def resolve_path(ref: str, *, profile: str | None = "tiny", seed: int = 0) -> str:
    """A model reference as a folder (a world model, built on first use) or a hub id / local path unchanged."""
    return str(resolve(ref, kind="model", profile=profile, seed=seed).path)


def resolve_rows(ref: str, *, profile: str | None = "tiny", seed: int = 0) -> list[dict]:
    """A data set reference as a list of rows."""
    return resolve(ref, kind="dataset", profile=profile, seed=seed).rows()


# --------------------------------------------------------------------------------------- hub ids and local files
def _resolve_external(ref: str, kind: str) -> Resolved:
    if kind == "tool":
        raise ResolveError(f"{ref!r} names no tool: tools come from a world (world:<name>, world-vision:<name>)")
    local = Path(ref).expanduser()
    if local.exists():
        return Resolved(ref, kind, local_key(local), str(local), _local_loader(local) if kind == "dataset" else None)
    if ref.startswith((".", "/", "~")):
        raise ResolveError(f"{'model folder' if kind == 'model' else 'data set'} not found: {local}")
    if kind == "dataset":
        return Resolved(ref, kind, f"hub:{ref}", ref, lambda: hub_rows(ref))
    return Resolved(ref, kind, f"hub:{ref}", ref)


def local_key(path: Path) -> str:
    """The key of a local folder or file: the stage key recorded beside it, else a hash of names, sizes and times."""
    for folder in (path, *path.parents[:2]):
        marker = folder / "stage.json"
        if marker.is_file():
            try:
                key = json.loads(marker.read_text())["key"]
            except (json.JSONDecodeError, KeyError):
                break
            rel = path.relative_to(folder).as_posix()
            return key if rel == "." else f"{key}/{rel}"
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    return "local:" + config_hash([[str(p), p.stat().st_size, p.stat().st_mtime_ns] for p in files])


def _local_loader(path: Path) -> Callable[[], list[dict]]:
    def load() -> list[dict]:
        if path.suffix == ".jsonl":
            return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        if path.is_dir():
            from datasets import load_from_disk

            return [dict(r) for r in load_from_disk(str(path))]
        raise ResolveError(f"{path}: a local data set is a .jsonl file or a saved datasets folder")

    return load


def hub_rows(ref: str, *, config: str | None = None, split: str = "train") -> list[dict]:
    """Rows of a hub data set (``load_dataset``; the paper profile)."""
    from datasets import load_dataset

    return [dict(r) for r in load_dataset(ref, config, split=split)]
