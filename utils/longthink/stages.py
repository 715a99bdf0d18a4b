"""The one stage runner: every cached thing in the kit is a stage with a key, a folder and a checksum list.

A stage's **key** is a hash of the stage's name, *every* one of its settings (defaults included), the keys of
exactly the inputs it declares (other stages, world models, data sets: :class:`Artefact` objects), and
``FORMAT_VERSION``. So a stage is rebuilt when, and only when, something it reads changed: re-running an upstream
cell whose settings did not change returns the same key and rebuilds nothing downstream.

A stage's **folder** (``runs/<profile>/<paper>/<stage>/`` for a paper, ``$LONGTHINK_CACHE/<room>/<name>-<key>/`` for
the worlds) holds what the build wrote, ``result.json`` (the small dict the build returned) and ``stage.json``
(key, settings, input keys, and a SHA-256 of every file). It is built in a temp folder and renamed into place under
the entry's lock (``longthink.files``); before it is used again its files are checked against ``stage.json``, and a
damaged folder is rebuilt with a warning that names it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from longthink.files import atomic_dir, atomic_write_json, entry_lock, manifest, verify

FORMAT_VERSION = 2  # bump when the layout of a stage folder or the recipe of a key changes
STAGE_FILE = "stage.json"
RESULT_FILE = "result.json"


class StageError(RuntimeError):
    """A stage cannot be built or stored; the message names the stage and its folder."""


# ----------------------------------------------------------------------------------------------------- hashing
def canonical(obj: Any) -> Any:
    """A JSON-ready, order-free form of a settings object (dicts, lists, dataclasses, paths, scalars)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return canonical(dataclasses.asdict(obj))
    if isinstance(obj, Artefact):
        return obj.key
    if isinstance(obj, Mapping):
        return {str(k): canonical(v) for k, v in sorted(obj.items(), key=lambda kv: str(kv[0]))}
    if isinstance(obj, (list, tuple)):
        return [canonical(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, float):
        if not math.isfinite(obj):
            raise StageError(f"a stage setting is {obj!r}: keys hold finite numbers only")
        if obj.is_integer():
            return int(obj)  # 1e-5 and 0.00001 hash alike; 2.0 and 2 too
    return obj


def config_hash(obj: Any, length: int = 12) -> str:
    """A short, stable hash of a settings object."""
    text = json.dumps(canonical(obj), sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def stage_key(name: str, settings: Any, inputs: Mapping[str, Artefact | str] | None = None) -> str:
    """The cache key of a stage: its name, all its settings, its declared inputs' keys and the format version."""
    keys = {k: (v.key if isinstance(v, Artefact) else str(v)) for k, v in (inputs or {}).items()}
    return config_hash({"format": FORMAT_VERSION, "stage": name, "settings": settings, "inputs": keys})


# --------------------------------------------------------------------------------------------------- artefacts
@dataclasses.dataclass(frozen=True)
class Artefact:
    """What a stage (or the world resolver) hands on: a name, its cache key, its folder and its result."""

    name: str
    key: str
    dir: Path | None = None
    result: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def path(self, *parts: str) -> Path:
        if self.dir is None:
            raise StageError(f"{self.name!r} has no folder")
        return Path(self.dir, *parts)

    def __getitem__(self, item: str) -> Any:  # artefact["accuracy"] reads the stored result
        return self.result[item]

    def get(self, item: str, default: Any = None) -> Any:
        return self.result.get(item, default)


class Stage:
    """One stage folder: complete when ``stage.json`` carries the current key and every file is intact."""

    def __init__(self, folder: str | os.PathLike, name: str, settings: Any,
                 inputs: Mapping[str, Artefact | str] | None = None):
        self.dir = Path(folder)
        self.name = name
        self.settings = canonical(settings)
        self.inputs = {k: (v.key if isinstance(v, Artefact) else str(v)) for k, v in (inputs or {}).items()}
        self.key = stage_key(name, self.settings, self.inputs)

    # kept for readers of older code: a stage's key is its hash
    @property
    def hash(self) -> str:
        return self.key

    def _record(self) -> dict | None:
        marker = self.dir / STAGE_FILE
        if not marker.exists():
            return None
        try:
            return json.loads(marker.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError):
            return {"damaged": f"{STAGE_FILE} is not valid JSON"}

    def problems(self) -> list[str] | None:
        """None when no build for the current key exists; else what is wrong with it ([] = intact)."""
        record = self._record()
        if record is None:
            return None
        if "damaged" in record:
            return [record["damaged"]]
        if record.get("key") != self.key:
            return None
        return verify(self.dir, record.get("manifest", {}))

    @property
    def complete(self) -> bool:
        return self.problems() == []

    def artefact(self) -> Artefact:
        try:
            result = json.loads((self.dir / RESULT_FILE).read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise StageError(f"stage {self.name!r} in {self.dir}: {RESULT_FILE} is unreadable ({exc})") from exc
        return Artefact(self.name, self.key, self.dir, result)

    def run(self, build: Callable[[Path], Mapping | None], *, force: bool = False) -> Artefact:
        """The stored artefact, or ``build(tmp_dir)`` stored atomically (under the entry's lock) and returned."""
        if not force and self.complete:  # the common case, without taking the lock
            return self.artefact()
        with entry_lock(self.dir, what=f"stage {self.name!r}"):
            problems = self.problems()
            if problems == [] and not force:  # another process built it while we waited
                return self.artefact()
            if problems:
                print(f"longthink: {self.dir} is damaged ({'; '.join(problems[:3])}); rebuilding stage {self.name!r}",
                      file=sys.stderr, flush=True)
            with atomic_dir(self.dir) as tmp:
                result = build(tmp)
                result = {} if result is None else result
                if not isinstance(result, Mapping):
                    raise StageError(f"stage {self.name!r} must return a dict, got {type(result).__name__}")
                atomic_write_json(tmp / RESULT_FILE, dict(result))
                files = manifest(tmp, exclude=(STAGE_FILE,))
                atomic_write_json(tmp / STAGE_FILE, {
                    "name": self.name, "key": self.key, "format": FORMAT_VERSION, "settings": self.settings,
                    "inputs": self.inputs, "manifest": files,
                })
        return self.artefact()


def cache_dir() -> Path:
    """``$LONGTHINK_CACHE``, by default ``~/.cache/longthink``: where the worlds' models live."""
    return Path(os.environ.get("LONGTHINK_CACHE") or Path.home() / ".cache" / "longthink").expanduser()


def cached_build(root: str | os.PathLike, name: str, settings: Any, build: Callable[[Path], Mapping | None], *,
                 inputs: Mapping[str, Artefact | str] | None = None) -> Artefact:
    """Build into ``root/<name>-<key>`` once (a cache entry); later calls with the same key load it."""
    key = stage_key(name, canonical(settings), inputs)
    return Stage(Path(root) / f"{name}-{key}", name, settings, inputs).run(build)
