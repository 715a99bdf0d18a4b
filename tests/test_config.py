import textwrap

import pytest

from longthink.config import RecipeError, load_recipe


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


@pytest.fixture
def recipes(tmp_path):
    write(tmp_path / "quickstart.yaml", """
        paper: quickstart
        seed: 0
        stages:
          data: {kind: quickstart.data, n_train: 100}
          sft:
            kind: quickstart.sft
            hidden_size: 32
            learning_rate: 1e-3
            num_train_epochs: 2
          eval: {kind: quickstart.eval}
    """)
    write(tmp_path / "profiles" / "tiny.yaml", """
        quickstart:
          stages:
            sft: {max_steps: 5}
    """)
    write(tmp_path / "profiles" / "smoke.yaml", """
        extends: tiny
        quickstart:
          stages:
            data: {n_train: 8}
    """)
    return tmp_path


def test_profile_overlay_and_overrides(recipes):
    recipe = load_recipe(recipes / "quickstart.yaml", profile="smoke", overrides={"stages.sft.learning_rate": "0.5"})
    sft = recipe.stage("sft")
    assert recipe.stage("data").kit.n_train == 8
    assert sft.trainer == {"learning_rate": 0.5, "num_train_epochs": 2.0, "max_steps": 5}
    assert sft.hidden_size == 32 and sft.learning_rate == 0.5
    assert load_recipe(recipes / "quickstart.yaml").stage("data").kit.n_train == 100


@pytest.mark.parametrize(
    "override, message",
    [
        ({"stages.sft.lerning_rate": 1}, "unknown key 'stages.sft.lerning_rate'.*did you mean 'learning_rate'"),
        ({"stages.sft.num_train_epochs": "five"}, "'stages.sft.num_train_epochs' expects float, got 'five'"),
        ({"stages.data.n_train": 2.5}, "'stages.data.n_train' expects int"),
        ({"stages.eval.kind": "nope.eval"}, "unknown kind 'nope.eval'"),
        ({"stages.sft.report_to": 3}, "stages.sft.report_to"),
        ({"colour": "red"}, "unknown key 'colour'"),
        ({"stages.sft.kind": "quickstart.data"}, "unknown key 'stages.sft.hidden_size'"),
    ],
)
def test_bad_values_name_file_and_key(recipes, override, message):
    with pytest.raises(RecipeError, match=message) as info:
        load_recipe(recipes / "quickstart.yaml", profile="tiny", overrides=override)
    assert "quickstart.yaml" in str(info.value)


def test_missing_required_value(tmp_path):
    from dataclasses import dataclass

    from longthink.config import stage_schema

    @stage_schema("test.needs_model")
    @dataclass
    class Needs:
        model: str

    path = write(tmp_path / "r.yaml", "paper: test\nseed: 0\nstages:\n  a: {kind: test.needs_model}\n")
    with pytest.raises(RecipeError, match="missing required value.*stages.a.model"):
        load_recipe(path)
    path = write(tmp_path / "r2.yaml", "paper: test\nstages: {}\n")
    with pytest.raises(RecipeError, match="missing required key 'seed'"):
        load_recipe(path)


def test_broken_yaml_names_line(tmp_path):
    path = write(tmp_path / "bad.yaml", "paper: x\nseed: 0\nstages:\n  a: {kind: [\n")
    with pytest.raises(RecipeError, match=r"bad.yaml: line \d+"):
        load_recipe(path)


def test_empty_and_missing_files(tmp_path):
    with pytest.raises(RecipeError, match="empty"):
        load_recipe(write(tmp_path / "empty.yaml", ""))
    with pytest.raises(RecipeError, match="not found"):
        load_recipe(tmp_path / "nope.yaml")
    with pytest.raises(RecipeError, match="top level"):
        load_recipe(write(tmp_path / "list.yaml", "- 1\n- 2\n"))


def test_unknown_profile_lists_known(recipes):
    with pytest.raises(RecipeError, match=r"unknown profile 'huge'; known profiles: \['smoke', 'tiny'\]"):
        load_recipe(recipes / "quickstart.yaml", profile="huge")


def test_override_into_missing_section(recipes):
    with pytest.raises(RecipeError, match="no stage 'nope'; stages are"):
        load_recipe(recipes / "quickstart.yaml", overrides={"stages.nope.x": 1})
    with pytest.raises(RecipeError, match="not a section"):
        load_recipe(recipes / "quickstart.yaml", overrides={"stages.sft.lr.x": 1})


# every value a user can get wrong before any work starts (each became a torch error naming no key, a division by
# zero inside transformers, a stage cached after zero steps, or a NaN-loss model cached as built)
@pytest.mark.parametrize(
    "override, message",
    [
        ({"stages.sft.learning_rate": -1e-3}, "'stages.sft.learning_rate' must be > 0"),
        ({"stages.sft.learning_rate": 0}, "'stages.sft.learning_rate' must be > 0"),
        ({"stages.sft.learning_rate": ".nan"}, "'stages.sft.learning_rate' must be a finite number"),
        ({"stages.sft.learning_rate": ".inf"}, "'stages.sft.learning_rate' must be a finite number"),
        ({"stages.sft.num_train_epochs": 0}, "'stages.sft.num_train_epochs' must be > 0"),
        ({"stages.sft.max_steps": 0}, r"'stages.sft.max_steps' must be >= 1 \(or one of \[-1\]\)"),
        ({"stages.sft.hidden_size": 0}, "'stages.sft.hidden_size' must be >= 1"),
        ({"stages.sft.per_device_train_batch_size": 0}, "'stages.sft.per_device_train_batch_size' must be >= 1"),
        ({"stages.sft.lr_scheduler_type": "cosin"}, "unknown value 'cosin' \\(did you mean 'cosine'\\?\\)"),
        ({"stages.data.n_train": 0}, "'stages.data.n_train' must be >= 1"),
        ({"stages.data.n_eval": -5}, "'stages.data.n_eval' must be >= 1"),
        ({"stages.sft.vocab_size": 100}, "'stages.sft.vocab_size' must be >= 300"),
        ({"stages.sft.warmup_steps": -1}, "'stages.sft.warmup_steps' must be >= 0"),
    ],
)
def test_bad_values_are_caught_before_any_work(recipes, override, message):
    with pytest.raises(RecipeError, match=message) as info:
        load_recipe(recipes / "quickstart.yaml", profile="tiny", overrides=override)
    assert "quickstart.yaml" in str(info.value)


def test_empty_stage_list_and_duplicate_keys(tmp_path):
    with pytest.raises(RecipeError, match="'stages' is empty"):
        load_recipe(write(tmp_path / "r.yaml", "paper: quickstart\nseed: 0\nstages: {}\n"))
    dup = write(tmp_path / "dup.yaml", """
        paper: quickstart
        seed: 0
        stages:
          data: {kind: quickstart.data, n_train: 100}
          sft:
            kind: quickstart.sft
            learning_rate: 1e-3
            learning_rate: 1e-2
    """)
    with pytest.raises(RecipeError, match=r"dup.yaml: line 9.*duplicate key 'learning_rate' \(first given on line 8\)"):
        load_recipe(dup)
    merge = write(tmp_path / "merge.yaml", """
        paper: quickstart
        seed: 0
        stages:
          a: &a {kind: quickstart.data, n_train: 100}
          b:
            <<: *a
            n_train: 50
    """)
    assert load_recipe(merge).stage("b").kit.n_train == 50  # overriding a merged anchor is not a duplicate


def test_schema_checks_become_recipe_errors(tmp_path):
    from dataclasses import dataclass

    from longthink.config import stage_schema

    @stage_schema("test.checked")
    @dataclass
    class Checked:
        lo: int = 1
        hi: int = 2

        def __post_init__(self):
            if self.lo > self.hi:
                raise ValueError(f"lo={self.lo} must not exceed hi={self.hi}")

    path = write(tmp_path / "r.yaml", "paper: test\nseed: 0\nstages:\n  a: {kind: test.checked, lo: 5}\n")
    with pytest.raises(RecipeError, match=r"r.yaml: stage 'a' \(test.checked\): lo=5 must not exceed hi=2"):
        load_recipe(path)


def test_stage_overrides_and_assignments():
    from longthink.config import parse_assignments, stage_overrides

    assert stage_overrides({"sft.learning_rate": 1, "seed": 2, "stages.a.b": 3}) == {
        "stages.sft.learning_rate": 1, "seed": 2, "stages.a.b": 3}
    assert parse_assignments(["sft.learning_rate=1e-4", "eval.k=2", "a.b=[1, 2]"]) == {
        "sft.learning_rate": 1e-4, "eval.k": 2, "a.b": [1, 2]}
    with pytest.raises(RecipeError, match="STAGE.KEY=VALUE"):
        parse_assignments(["sft.learning_rate"])
