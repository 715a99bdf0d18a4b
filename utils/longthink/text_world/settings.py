"""The world's settings: ``recipes/world.yaml`` merged with a profile overlay (smoke, tiny), validated."""

from __future__ import annotations

import functools
from pathlib import Path

MODEL_NAMES = ("instruct", "target", "guider_base")


def recipe_path() -> Path:
    """``recipes/world.yaml`` of the checkout (``longthink.config.recipe_path``)."""
    from longthink.config import recipe_path as find

    return find("world")


@functools.lru_cache(maxsize=16)
def _load(path: str, profile: str | None, seed: str | None):
    from longthink.config import load_recipe

    # TEMPORARY (issue 12, until main's world resolver lets --seed reach the world): LONGTHINK_WORLD_SEED builds
    # and reads the world of another seed. Removed before the merge.
    return load_recipe(path, profile=profile, overrides={"seed": int(seed)} if seed else None)


def world_settings(profile: str | None = "tiny"):
    """The validated world recipe (a ``longthink.config.Recipe``) for ``profile``; cached per process."""
    import os

    return _load(str(recipe_path()), profile, os.environ.get("LONGTHINK_WORLD_SEED"))
