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


def _ctx(tmp_path):
    from longthink.runs import open_paper

    return open_paper("s1", "smoke", output_dir=tmp_path / "runs")


def test_diagnose_reads_stored_outputs_and_its_metrics_reach_the_summary(tmp_path):
    from longthink.s1.pipeline import OUTPUTS_FILE, diagnose
    from longthink.stages import Artefact

    q = "Mix 3:a+4,b*3,c-2,d+1."
    right = "<|im_start|>think\na+4:3=7\nb*3:7=1\nc-2:1=9\nd+1:9=0\n<|im_start|>answer\nAnswer: 0"
    short = "<|im_start|>think\na+4:3=7\nb*3:7=1\nc-2:1=9\n...\n<|im_start|>answer\nAnswer: 9"
    merged = "<|im_start|>think\na+4,b*3:3=2\nc-2,d+1:2=1\n<|im_start|>answer\nAnswer: 1"
    outputs = {"k=0": {"texts": [right, short, merged], "correct": [True, False, False]},
               "k=1": {"texts": [right, right, right], "correct": [True, True, True]}}
    (tmp_path / OUTPUTS_FILE).write_text(json.dumps({"questions": [q] * 3, "golds": ["0"] * 3, "outputs": outputs}))
    d = diagnose(_ctx(tmp_path), Artefact("evaluate", "k", dir=tmp_path))
    assert list(d["table"].index) == ["Wait x 0", "Wait x 1"]
    assert d["table"].loc["Wait x 0", ["wrong", "cut_short", "value"]].tolist() == [2, 1, 1]
    assert d["metrics"]["wrong_cut_short_share"] == 0.5 and d["metrics"]["wrong_misread_share"] == 0.0
    m = summarize(EVALUATION, ABLATIONS, BASELINE, {"ratio": 1.02}, diagnosis=d)
    assert m["wrong_value_share"] == 0.5
    assert "input_read_acc_min" not in m  # fewer than 20 chunks read at every position: no figure


def test_diagnose_names_an_evaluation_without_stored_outputs(tmp_path):
    from longthink.s1.pipeline import diagnose
    from longthink.stages import Artefact

    with pytest.raises(FileNotFoundError, match="predates stored outputs"):
        diagnose(_ctx(tmp_path), Artefact("evaluate", "k", dir=tmp_path))


def test_wait_findings_are_written_from_the_runs():
    from longthink.s1.pipeline import wait_findings
    from longthink.stages import Artefact

    text = wait_findings(Artefact("evaluate", "k", result=EVALUATION))
    assert "0.350 / 0.360 / 0.370 / 0.390" in text and "stays flat (within 0.03) (+0.040)" not in text
    assert "rises (+0.040)" in text and "from 40.0 to 72.0 tokens" in text
