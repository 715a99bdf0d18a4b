"""The ThinkLogit pipeline end to end on the smoke world: every stage runs, caches, and repeats exactly."""

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
    diagnosis = pipeline.diagnose(evaluation)
    assert set(diagnosis["table"].index) == set(ctx.stage("eval").kit.systems)
    assert (diagnosis["table"]["wrong"] == diagnosis["table"][["misread", "value", "cut_short", "format"]].sum(1)).all()
    return ctx, values, points, evaluation


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
    # a second run in the same folder is served from the stage caches (timing included)
    _, again, _, _ = _run(tmp_path / "a")
    assert again == values
    # a fresh folder recomputes everything from the one seed: the same numbers except wall-clock timing
    _, fresh, _, _ = _run(tmp_path / "b")
    drop = lambda d: {k: v for k, v in d.items() if k != "thinklogit/overhead_ratio"}  # noqa: E731
    assert drop(fresh) == drop(values)


def test_paper_profile_refuses_to_train_a_guider_without_traces():
    from longthink.config import load_recipe
    from longthink.thinklogit.data import DataError, load_training

    recipe = load_recipe("recipes/thinklogit.yaml")
    assert recipe.stage("models").kit.guider == "deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B"
    assert recipe.stage("eval").kit.warmup == 100 and recipe.stage("eval").kit.k == 8
    with pytest.raises(DataError, match="only the 'world' source"):
        load_training(recipe.stage("data"), recipe.stage("guider"), profile="paper", train_guider=True)


def test_diagnose_classifies_every_system_and_names_a_non_world_prompt():
    from longthink.thinklogit.systems import Sample

    def sample(system, text, correct, prompt="<|im_start|>user\nMix 3:a+4,b*3,c-2,d+1.<|im_end|>\n"):
        return Sample("q0", "by_difficulty", 4, "0", text, 9, "eos", None, correct, system=system, prompt=prompt)

    evaluation = {"samples": [sample("target", "a+4:3=7\nb*3:7=1\nc-2:1=9\n...\nAnswer: 9", False),
                              sample("thinklogit", "a+4:3=7\nb*3:7=1\nc-2:1=9\nd+1:9=0\nAnswer: 0", True),
                              sample("thinklogit", "a+4,b*3:3=2\nc-2,d+1:2=1\nAnswer: 1", False)]}
    d = pipeline.diagnose(evaluation)
    assert d["table"].loc["target", "cut_short"] == 1 and d["table"].loc["thinklogit", "value"] == 1
    assert d["table"].loc["thinklogit", "accuracy"] == 0.5 and list(d["read"].columns) == ["target", "thinklogit"]
    with pytest.raises(ValueError, match="needs world questions; sample 'q0'"):
        pipeline.diagnose({"samples": [sample("target", "x", False, prompt="Solve: 2+2")]})
