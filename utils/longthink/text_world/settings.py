"""The text world's settings: ``recipes/world.yaml`` merged with a profile overlay (smoke, tiny), validated.

The world's seed is the run's seed: ``world_settings(profile, seed=1)`` is the recipe with ``seed: 1``, and every
model, pool and evaluation set built from it is keyed on it, so the worlds of seeds 0 and 1 live side by side.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

MODEL_NAMES = ("instruct", "target", "guider_base")


def recipe_path() -> Path:
    """``recipes/world.yaml`` of the checkout (``longthink.config.recipe_path``)."""
    from longthink.config import recipe_path as find

    return find("world")


@functools.lru_cache(maxsize=32)
def _load(path: str, profile: str | None, seed: int | None, overrides: tuple):
    from longthink.config import load_recipe

    extra = dict(overrides)
    if seed is not None:
        extra["seed"] = seed
    return load_recipe(path, profile=profile, overrides=extra)


def world_settings(profile: str | None = "tiny", seed: int | None = None, overrides: Mapping[str, Any] | None = None):
    """The validated world recipe (a ``longthink.config.Recipe``) for ``profile`` and ``seed`` (None: the recipe's)."""
    items = tuple(sorted((overrides or {}).items(), key=lambda kv: kv[0]))
    return _load(str(recipe_path()), profile, seed, items)
