"""Run folders: metrics committed when a notebook completes, the run status, the one seed, a paper run."""

import json

import pytest

from longthink.runs import Run, RunError, open_paper, set_seed


def test_metrics_are_committed_in_one_step_with_environment(tmp_path):
    run = Run("tiny", "s1", root=tmp_path)
    run.start(seed=3)
    run.record_metrics({"acc": 0.5}, seed=3)
    run.record_metrics({"s1/other": 2})
    assert not run.metrics_path.exists()  # nothing is committed cell by cell
    run.finish()
    data = json.loads(run.metrics_path.read_text())
    assert data["metrics"] == {"s1/acc": 0.5, "s1/other": 2}
    assert data["environment"]["packages"]["torch"].startswith("2.13.0") and data["environment"]["seed"] == 3
    assert len(data["fingerprint"]) == 12
    assert run.read_status()["status"] == "complete"
    with pytest.raises(RunError, match="must be a number"):
        run.record_metrics({"bad": "high"})


def test_an_interrupted_run_leaves_the_last_complete_metrics(tmp_path):
    run = Run("tiny", "world", root=tmp_path)
    run.start()
    run.finish({"text_acc": 0.9, "vision_acc": 0.8})
    first = run.metrics_path.read_text()
    run.start()
    run.record_metrics({"text_acc": 0.1})  # the second run records its first half, then stops
    run.mark_failed("cell 12 failed")
    assert run.metrics_path.read_text() == first  # no mix of two runs
    assert run.read_status()["status"] == "failed"
    run.start()
    with pytest.raises(RunError, match="no metrics were recorded"):
        run.finish()


def test_corrupted_metrics_file_is_named(tmp_path):
    run = Run("tiny", "s1", root=tmp_path)
    run.dir.mkdir(parents=True)
    run.metrics_path.write_text("{oops")
    with pytest.raises(RunError, match="metrics.json"):
        run.read_metrics()


def test_set_seed_drives_torch_and_random():
    import random

    import torch

    set_seed(7)
    a = (random.random(), torch.rand(1).item())
    set_seed(7)
    assert a == (random.random(), torch.rand(1).item())
    with pytest.raises(TypeError):
        set_seed("7")


def test_open_paper_validates_overrides_and_sets_the_seed(tmp_path):
    from longthink.config import RecipeError

    ctx = open_paper("quickstart", "smoke", seed=5, output_dir=tmp_path, overrides={"sft.learning_rate": 1e-3})
    assert ctx.seed == 5 and ctx.recipe.seed == 5
    assert ctx.settings("sft").trainer["learning_rate"] == 1e-3
    assert ctx.run.read_status()["status"] == "running"
    with pytest.raises(RecipeError, match="stages.sft.learning_rate"):
        open_paper("quickstart", "smoke", output_dir=tmp_path, overrides={"sft.learning_rate": -1})
    with pytest.raises(RecipeError, match="STAGE.KEY"):
        open_paper("quickstart", "smoke", output_dir=tmp_path, overrides={"learning_rate": 1})


def test_a_relative_output_dir_is_taken_from_the_repository_root(tmp_path, monkeypatch, repo_root):
    """JupyterLab starts a notebook's kernel in notebooks/: its runs must still land in <root>/runs/."""
    (tmp_path / "recipes").symlink_to(repo_root / "recipes", target_is_directory=True)
    (tmp_path / "notebooks").mkdir()
    monkeypatch.setenv("LONGTHINK_ROOT", str(tmp_path))
    monkeypatch.chdir(tmp_path / "notebooks")
    ctx = open_paper("quickstart", "smoke", output_dir="runs")
    assert ctx.run.dir == tmp_path / "runs" / "smoke" / "quickstart" and ctx.run.dir.is_dir()
    assert not (tmp_path / "notebooks" / "runs").exists()


def test_a_stage_keys_on_its_inputs(tmp_path):
    ctx = open_paper("quickstart", "smoke", seed=0, output_dir=tmp_path)
    calls = []
    build = lambda out: calls.append(1) or {"ok": True}  # noqa: E731
    data = ctx.stage("data", build)
    a = ctx.stage("sft", build, inputs={"data": data})
    b = ctx.stage("sft", build, inputs={"data": data})
    assert a.key == b.key and len(calls) == 2
    other = ctx.stage("data", build, settings={"n": 2})
    c = ctx.stage("sft", build, inputs={"data": other})
    assert c.key != a.key and len(calls) == 4


def test_built_says_whether_a_stage_would_load_without_building_it(tmp_path):
    ctx = open_paper("quickstart", "smoke", seed=0, output_dir=tmp_path)
    build = lambda out: {"ok": True}  # noqa: E731
    assert not ctx.built("data", settings={"n": 1})
    assert not (tmp_path / "smoke" / "quickstart" / "data").exists()  # asking builds nothing
    ctx.stage("data", build, settings={"n": 1})
    assert ctx.built("data", settings={"n": 1}) and not ctx.built("data", settings={"n": 2})
