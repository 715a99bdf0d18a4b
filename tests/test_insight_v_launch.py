"""Training one agent outside the notebook (the paper's accelerate / ZeRO-3 entry point), from a run's data stages."""

import json

import pytest

from insight_v_helpers import save_tiny_vlm


def test_launch_trains_the_reasoning_agent_from_the_runs_data_stages(tmp_path):
    from longthink.insight_v import launch, pipeline

    runs = tmp_path / "runs"
    ctx = pipeline.setup("smoke", seed=0, output_dir=str(runs))
    questions = pipeline.prepare_questions(ctx)
    assessed = pipeline.assess(ctx, questions, pipeline.generate(ctx, questions))
    base = save_tiny_vlm(tmp_path / "base")
    out = tmp_path / "launched"
    status_before = (runs / "smoke" / "insight_v" / "status.json").read_text()
    assert launch.main(["--profile", "smoke", "--runs", str(runs), "--stage", "reason_sft", "--output-dir", str(out),
                        "--set", f"models.base={base}", "--set", "reason_sft.max_steps=1"]) == 0
    result = json.loads((out / "train_result.json").read_text())
    assert result["steps"] == 1 and result["rows"] == len(assessed["reasoning"])
    assert (out / "model" / "config.json").is_file()
    assert (runs / "smoke" / "insight_v" / "status.json").read_text() == status_before  # no run was started


def test_the_agents_train_side_by_side_in_workers_and_load_afterwards(tmp_path):
    from longthink.insight_v import pipeline

    base = save_tiny_vlm(tmp_path / "base")
    steps = {f"{name}.max_steps": 1 for name in pipeline.AGENT_STAGES.values()}
    ctx = pipeline.setup("smoke", seed=0, output_dir=str(tmp_path / "runs"),
                         overrides={"models.base": str(base), "models.workers": 2, **steps})
    questions = pipeline.prepare_questions(ctx)
    assessed = pipeline.assess(ctx, questions, pipeline.generate(ctx, questions))
    assert not any(pipeline.train_agent(ctx, name, questions, assessed, build=False)
                   for name in pipeline.AGENT_STAGES.values())
    agents = pipeline.train_agents(ctx, questions, assessed)  # two worker processes
    assert set(agents) == {"reason", "summary", "single"}
    for role, name in pipeline.AGENT_STAGES.items():
        assert pipeline.train_agent(ctx, name, questions, assessed, build=False)
        assert agents[role]["steps"] == 1 and (tmp_path / "runs" / "smoke" / "insight_v" / name / "model").is_dir()
    assert pipeline.train_agents(ctx, questions, assessed) == agents  # stored: loaded, nothing trains again


def test_launch_refuses_a_stage_that_is_not_an_sft_stage(tmp_path):
    from longthink.insight_v import launch

    with pytest.raises(SystemExit):
        launch.main(["--profile", "smoke", "--stage", "dpo", "--output-dir", str(tmp_path)])
