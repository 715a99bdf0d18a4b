"""The world's settings: ``recipes/world.yaml`` merged with a profile overlay (smoke, tiny), validated."""

from __future__ import annotations

import functools
import os
from pathlib import Path

WORLD_RECIPE = "world.yaml"
MODEL_NAMES = ("instruct", "target", "guider_base")


def recipe_path() -> Path:
    """``$LONGTHINK_ROOT/recipes/world.yaml`` if set, else the checkout this package is installed from."""
    root = os.environ.get("LONGTHINK_ROOT")
    base = Path(root) if root else Path(__file__).resolve().parents[2]
    return base / "recipes" / WORLD_RECIPE


@functools.lru_cache(maxsize=16)
def _load(path: str, profile: str | None):
    from longthink.config import load_recipe

    return load_recipe(path, profile=profile)


def world_settings(profile: str | None = "tiny"):
    """The validated world recipe (a ``longthink.config.Recipe``) for ``profile``; cached per process."""
    return _load(str(recipe_path()), profile)
