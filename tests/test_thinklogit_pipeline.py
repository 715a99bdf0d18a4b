"""The ThinkLogit pipeline end to end on the smoke world: every stage runs, caches, repeats exactly, and re-running
an upstream stage after a downstream one rebuilds nothing."""

from __future__ import annotations

import json

import pytest

from longthink.thinklogit import pipeline


def _run(out_dir):
    ctx = pipeline.setup("smoke", seed=0, output_dir=str(out_dir))
    data = pipeline.prepare_data(ctx)
    guider = pipeline.train_guider(ctx, data)
    models = pipeline.load_models(ctx, guider["path"])
    rollouts = pipeline.make_rollouts(ctx, data, models)
    dpo = pipeline.train_dpo(ctx, guider["path"], rollouts)
    models = pipeline.load_models(ctx, guider["path"], dpo["path"])
    assert data["dev"] == [] and pipeline.evaluate_dev(ctx, data, models) == {}  # smoke: no dev split
    held = [q for qs in data["eval"].values() for q in qs][:3]  # stand-ins for a dev split
    dev = pipeline.evaluate_dev(ctx, {**data, "dev": held}, models)
    assert set(dev) == {"thinklogit", "thinklogit_dpo"} and dev["thinklogit"]["n_questions"] == 3
    evaluation = pipeline.evaluate_systems(ctx, data, models)
    points = pipeline.sweep(ctx, data, models)
    timing = pipeline.time_overhead(ctx, data, models)
    values = pipeline.metrics(evaluation, timing)
    pipeline.record(ctx, values)
    diagnosis = pipeline.diagnose(ctx, evaluation)
    assert set(diagnosis["table"].index) == set(ctx.settings("eval").kit.systems)
    assert (diagnosis["table"]["wrong"] == diagnosis["table"][["misread", "value", "cut_short", "format"]].sum(1)).all()
    return ctx, values, points, evaluation


def _built(ctx) -> dict[str, float]:
    """Each stage folder's build time (its stage.json is rewritten only when the stage is rebuilt)."""
    return {p.parent.name: p.stat().st_mtime_ns for p in ctx.run.dir.glob("*/stage.json")}


@pytest.fixture(scope="module")
def smoke_cache(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("LONGTHINK_CACHE", str(tmp_path_factory.mktemp("cache")))
    yield
    mp.undo()


@pytest.mark.slow
def test_pipeline_runs_caches_and_repeats(tmp_path, smoke_cache):
    ctx, values, points, evaluation = _run(tmp_path / "a")
    keys = {"acc_target", "acc_guider", "acc_thinklogit", "acc_thinklogit_dpo", "mean_tokens_target",
            "mean_tokens_thinklogit", "overhead_ratio", "rel_gain_thinklogit"}
    assert {f"thinklogit/{k}" for k in keys} <= set(values)
    assert json.loads(ctx.run.metrics_path.read_text())["metrics"]["thinklogit/acc_target"] == values["thinklogit/acc_target"]
    assert {p["axis"] for p in points} == {"alpha", "warmup"}
    assert len(evaluation["samples"]) == 4 * 12 * 2  # systems x questions x k
    for stage in ("data", "guider", "rollouts", "dpo", "eval", "sweep", "timing"):
        assert (ctx.run.dir / stage / "stage.json").exists(), stage
    built = _built(ctx)
    # a second run in the same folder is served from the stage caches (timing included)
    _, again, _, _ = _run(tmp_path / "a")
    assert again == values and _built(ctx) == built
    # a fresh folder recomputes everything from the one seed: the same numbers except wall-clock timing
    _, fresh, _, _ = _run(tmp_path / "b")
    drop = lambda d: {k: v for k, v in d.items() if k != "thinklogit/overhead_ratio"}  # noqa: E731
    assert drop(fresh) == drop(values)


@pytest.mark.slow
def test_rerunning_an_upstream_stage_after_a_downstream_one_rebuilds_nothing(tmp_path, smoke_cache):
    """The notebook's cells in any order: the data cell re-run after the DPO cell keeps its key, and so does
    everything downstream of it (today's runner keys a stage on its own settings and its declared inputs only)."""
    ctx = pipeline.setup("smoke", seed=0, output_dir=str(tmp_path))
    data = pipeline.prepare_data(ctx)
    guider = pipeline.train_guider(ctx, data)
    models = pipeline.load_models(ctx, guider["path"])
    rollouts = pipeline.make_rollouts(ctx, data, models)
    dpo = pipeline.train_dpo(ctx, guider["path"], rollouts)
    built = _built(ctx)
    data_again = pipeline.prepare_data(ctx)  # the upstream cell, run again after the DPO cell
    assert data_again["stage"].key == data["stage"].key
    guider_again = pipeline.train_guider(ctx, data_again)
    rollouts_again = pipeline.make_rollouts(ctx, data_again, pipeline.load_models(ctx, guider_again["path"]))
    dpo_again = pipeline.train_dpo(ctx, guider_again["path"], rollouts_again)
    assert (guider_again["stage"].key, rollouts_again["stage"].key, dpo_again["stage"].key) == \
        (guider["stage"].key, rollouts["stage"].key, dpo["stage"].key)
    assert _built(ctx) == built, "a stage was rebuilt although nothing it reads changed"
    # and a changed setting rebuilds that stage and what reads it, not what it reads
    ctx2 = pipeline.setup("smoke", seed=0, output_dir=str(tmp_path), overrides={"dpo.learning_rate": 1e-3})
    data2 = pipeline.prepare_data(ctx2)
    guider2 = pipeline.train_guider(ctx2, data2)
    rollouts2 = pipeline.make_rollouts(ctx2, data2, pipeline.load_models(ctx2, guider2["path"]))
    pipeline.train_dpo(ctx2, guider2["path"], rollouts2)
    after = _built(ctx2)
    assert {k for k in after if after[k] != built[k]} == {"dpo"}


def test_paper_profile_refuses_to_train_a_guider_without_traces():
    from longthink.config import load_recipe
    from longthink.thinklogit.data import DataError, load_training

    recipe = load_recipe("recipes/thinklogit.yaml")
    assert recipe.stage("models").kit.guider == "deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B"
    assert recipe.stage("eval").kit.warmup == 100 and recipe.stage("eval").kit.k == 8
    with pytest.raises(DataError, match="only a world pool"):
        load_training(recipe.stage("data"), recipe.stage("guider"), train_guider=True)


def test_diagnose_classifies_every_system_and_names_a_non_world_prompt(tmp_path):
    from longthink.runs import open_paper
    from longthink.thinklogit.systems import Sample

    def sample(system, text, correct, prompt="<|im_start|>user\nMix 3:a+4,b*3,c-2,d+1.<|im_end|>\n"):
        return Sample("q0", "by_difficulty", 4, "0", text, 9, "eos", None, correct, system=system, prompt=prompt)

    evaluation = {"samples": [sample("target", "a+4:3=7\nb*3:7=1\nc-2:1=9\n...\nAnswer: 9", False),
                              sample("thinklogit", "a+4:3=7\nb*3:7=1\nc-2:1=9\nd+1:9=0\nAnswer: 0", True),
                              sample("thinklogit", "a+4,b*3:3=2\nc-2,d+1:2=1\nAnswer: 1", False)]}
    ctx = open_paper("thinklogit", "smoke", output_dir=tmp_path / "runs")
    d = pipeline.diagnose(ctx, evaluation)
    assert d["table"].loc["target", "cut_short"] == 1 and d["table"].loc["thinklogit", "value"] == 1
    assert d["table"].loc["thinklogit", "accuracy"] == 0.5 and list(d["read"].columns) == ["target", "thinklogit"]
    with pytest.raises(ValueError, match="needs world questions; sample 'q0'"):
        pipeline.diagnose(ctx, {"samples": [sample("target", "x", False, prompt="Solve: 2+2")]})
