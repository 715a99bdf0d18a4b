"""The s1 pipeline's summary: the issue's metric keys, the bar differences, and the paper comparison table."""

from __future__ import annotations

import json

import pytest

from longthink.s1.pipeline import paper_comparison, summarize


def _run(method, setting, tokens, acc, budget=None, waits=0, a_max=None):
    return {"method": method, "setting": setting, "avg_thinking_tokens": tokens, "accuracy": acc, "a_min": None,
            "a_max": a_max, "budget": budget, "waits": waits}


EVALUATION = {"runs": [
    _run("Budget forcing", "max=8", 8, 0.10, budget=8, a_max=8),
    _run("Budget forcing", "max=32", 30, 0.30, budget=32, a_max=32),
    _run("Budget forcing", "auto", 40, 0.35),
    *[_run("Wait x k", f"k={k}", 40 + 8 * k, 0.35 + 0.01 * k, waits=k) for k in (0, 1, 2, 4)],
]}
BASELINE = {"runs": [
    {"method": "TCC", "setting": "N=16", "avg_thinking_tokens": 30, "accuracy": 0.2, "a_min": None, "a_max": 16},
    {"method": "TCC", "setting": "N=64", "avg_thinking_tokens": 35, "accuracy": 0.25, "a_min": None, "a_max": 64},
    {"method": "RS", "setting": "budget=16", "avg_thinking_tokens": 15, "accuracy": 0.3, "a_min": None, "a_max": 16},
]}
ABLATIONS = {"curated_1k": {"accuracy": 0.35}, "random_1k": {"accuracy": 0.2}, "diverse_1k": {"accuracy": 0.2},
             "longest_1k": {"accuracy": 0.3}, "full_pool": {"accuracy": 0.25}}


def test_summarize_has_the_issue_keys():
    m = summarize(EVALUATION, ABLATIONS, BASELINE, {"ratio": 1.02})
    required = {"control", "scaling", "performance", "acc_min_budget", "acc_max_budget", "acc_wait_0", "acc_wait_1",
                "acc_wait_2", "acc_wait_4", "acc_curated_1k", "acc_random_1k", "acc_diverse_1k", "acc_longest_1k",
                "acc_full_pool", "bf_overhead_ratio"}
    assert required <= set(m)
    assert m["control"] == 1.0 and m["acc_min_budget"] == 0.10 and m["acc_max_budget"] == 0.35
    assert m["bf_gain"] == pytest.approx(0.25) and m["curation_gain"] == pytest.approx(0.15)
    assert m["wait_gain_2"] == pytest.approx(0.02)
    assert m["tcc_control"] == 0.5 and m["rs_control"] == 1.0
    assert all(isinstance(v, float) for v in m.values())


def test_paper_comparison_reads_expected_paper(repo_root):
    table = paper_comparison({"control": 1.0}, path=repo_root / "expected" / "paper" / "s1.json")
    row = table.set_index("metric").loc["control"]
    assert row["paper"] == 1.0 and row["tiny world"] == 1.0
    data = json.loads((repo_root / "expected" / "paper" / "s1.json").read_text())
    assert all("source" in v and "value" in v for v in data["metrics"].values())


def test_recipe_loads_for_every_profile(repo_root):
    from longthink.config import load_recipe

    for profile in (None, "smoke", "tiny"):
        recipe = load_recipe(repo_root / "recipes" / "s1.yaml", profile=profile)
        assert list(recipe.stages)[:2] == ["curate", "sft"]
    paper = load_recipe(repo_root / "recipes" / "s1.yaml")
    sft = paper.stage("sft")
    assert sft.kit.model == "Qwen/Qwen2.5-32B-Instruct" and sft.trainer["learning_rate"] == 1e-5
    assert sft.trainer["per_device_train_batch_size"] * sft.trainer["gradient_accumulation_steps"] == 16
    assert sft.trainer["warmup_steps"] == 0.05 and sft.trainer["adam_beta2"] == 0.95


def test_recipe_typo_is_named(repo_root):
    from longthink.config import RecipeError, load_recipe

    with pytest.raises(RecipeError, match="stages.evaluate.budgetz"):
        load_recipe(repo_root / "recipes" / "s1.yaml", profile="tiny", overrides={"stages.evaluate.budgetz": 3})


def test_wait_findings_are_written_from_the_runs():
    from longthink.s1.pipeline import wait_findings
    from longthink.stages import Artefact

    text = wait_findings(Artefact("evaluate", "k", result=EVALUATION))
    assert "0.350 / 0.360 / 0.370 / 0.390" in text and "stays flat (within 0.03) (+0.040)" not in text
    assert "rises (+0.040)" in text and "from 40.0 to 72.0 tokens" in text
