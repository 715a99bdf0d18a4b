"""Every recipe in recipes/ loads and validates under every profile."""

from pathlib import Path

import pytest

from longthink.config import load_recipe

ROOT = Path(__file__).resolve().parents[1]
RECIPES = sorted(p for p in (ROOT / "recipes").glob("*.yaml"))
PROFILES = [None, "paper", "tiny", "smoke"]


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("path", RECIPES, ids=[p.stem for p in RECIPES])
def test_recipe_validates(path, profile):
    recipe = load_recipe(path, profile=profile)
    assert recipe.paper == path.stem or path.stem.startswith(recipe.paper)
    assert recipe.stages, f"{path} has no stages"
    for stage in recipe.stages.values():
        stage.as_dict()


def test_accelerate_configs_parse():
    import yaml

    configs = sorted((ROOT / "recipes" / "accelerate").glob("*.yaml"))
    for path in configs:
        data = yaml.safe_load(path.read_text())
        assert "distributed_type" in data, path
