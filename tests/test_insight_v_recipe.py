"""The Insight-V recipe under every profile, its bad values, and the question splits."""

import pytest

from longthink.config import RecipeError, load_recipe, recipe_path
from longthink.insight_v.questions import hub_questions, parse_dataset_ref, world_questions
from longthink.insight_v.schema import QuestionsStage

STAGES = ["models", "questions", "generate", "assess", "reason_sft", "summary_sft", "single_sft", "dpo", "eval"]


@pytest.mark.parametrize("profile", [None, "smoke", "tiny", "paper"])
def test_the_recipe_loads_under_every_profile(profile):
    recipe = load_recipe(recipe_path("insight_v"), profile=profile)
    assert list(recipe.stages) == STAGES
    dpo = recipe.stage("dpo")
    assert dpo.trainer["loss_type"] == ["sigmoid", "sft"] and dpo.trainer["beta"] == 0.1
    assert [recipe.stage(n).kit.role for n in ("reason_sft", "summary_sft", "single_sft")] == ["reason", "summary",
                                                                                            "single"]


def test_the_card_settings_are_the_paper_defaults():
    r = load_recipe(recipe_path("insight_v"))
    g, a = r.stage("generate").kit, r.stage("assess").kit
    assert (g.n_paths, g.max_steps, g.max_retries, g.temperature, g.top_p, g.repetition_penalty, g.max_tokens) == (
        4, 15, 3, 0.7, 0.95, 1.05, 1024)
    assert (a.high_cutoff, a.mid_cutoff, a.reasoning_per_question, a.summary_per_question) == (80, 50, 1, 2)
    assert (a.judge_temperature, a.judge_top_p, a.judge_max_tokens) == (0.2, 0.7, 512)
    reason, summary, dpo = (r.stage(n).trainer for n in ("reason_sft", "summary_sft", "dpo"))
    assert (reason["learning_rate"], reason["num_train_epochs"], reason["max_length"]) == (5e-6, 2, 12288)
    assert (summary["learning_rate"], summary["num_train_epochs"]) == (1e-5, 1)
    assert (dpo["learning_rate"], dpo["num_train_epochs"], dpo["max_length"]) == (5e-6, 2, 12288)
    assert r.stage("dpo").kit.rounds == 3 and r.stage("dpo").kit.chains_per_question == 4


@pytest.mark.parametrize("key, value, message", [
    ("generate.n_paths", 0, "stages.generate.n_paths' must be >= 1"),
    ("generate.error_rate", 1.5, "stages.generate.error_rate' must be <= 1"),
    ("assess.mid_cutoff", 90, "mid_cutoff \\(90\\) must be below high_cutoff \\(80\\)"),
    ("assess.high_cutoff", 101, "stages.assess.high_cutoff' must be <= 100"),
    ("dpo.rounds", 0, "stages.dpo.rounds' must be >= 1"),
    ("dpo.beta", -1, "stages.dpo.beta' must be >= 0"),
    ("questions.min_objects", 9, "min_objects \\(9\\) must be <= max_objects"),
    ("eval.reason_top_p", 0, "stages.eval.reason_top_p' must be > 0"),
    ("generate.n_path", 4, "unknown key 'stages.generate.n_path'.*did you mean 'n_paths'"),
])
def test_bad_values_name_the_key(key, value, message):
    with pytest.raises(RecipeError, match=message):
        load_recipe(recipe_path("insight_v"), profile="tiny", overrides={f"stages.{key}": value})


@pytest.fixture(scope="module")
def scenes():
    from longthink.resolver import resolve

    return resolve("world-vision:scenes", kind="tool", profile="smoke").load()


def test_world_splits_are_disjoint_and_cover_the_kinds(scenes):
    kit = QuestionsStage(source="world", n_train=22, n_dpo=11, n_dev_per_kind=1, n_eval_per_kind=2)
    splits = world_questions(kit, tools={"scenes": scenes}, seed=0)
    ids = [q["id"] for rows in splits.values() for q in rows]
    assert len(ids) == len(set(ids))
    questions = {(q["question"], str(q["example"]["scene"])) for q in splits["eval"]}
    assert not questions & {(q["question"], str(q["example"]["scene"])) for q in splits["train"]}
    assert len(splits["train"]) == 22 and len(splits["dpo"]) == 11
    assert {q["kind"] for q in splits["eval"]} == set(scenes.QUESTION_KINDS) and len(splits["eval"]) == 22
    again = world_questions(kit, tools={"scenes": scenes}, seed=0)
    assert again == splits
    other = world_questions(kit, tools={"scenes": scenes}, seed=1)
    assert other["eval"][0]["example"]["scene"] != splits["eval"][0]["example"]["scene"]
    with pytest.raises(ValueError, match="unknown kind\\(s\\) \\['riddle'\\]"):
        world_questions(QuestionsStage(source="world", kinds=["riddle"]), tools={"scenes": scenes}, seed=0)


def test_the_kinds_setting_draws_every_split_from_those_kinds(scenes):
    kit = QuestionsStage(source="world", kinds=["colour_of", "count_cond"], n_train=6, n_dpo=4, n_dev_per_kind=2,
                         n_eval_per_kind=3)
    splits = world_questions(kit, tools={"scenes": scenes}, seed=0)
    for name, n in (("train", 6), ("dpo", 4), ("dev", 4), ("eval", 6)):
        assert len(splits[name]) == n and {q["kind"] for q in splits[name]} == {"colour_of", "count_cond"}, name
    kit.dpo_kinds = ["count_cond"]
    splits = world_questions(kit, tools={"scenes": scenes}, seed=0)
    assert {q["kind"] for q in splits["dpo"]} == {"count_cond"} and len(splits["dpo"]) == 4
    assert {q["kind"] for q in splits["train"]} == {"colour_of", "count_cond"}
    with pytest.raises(ValueError, match="questions.dpo_kinds: unknown kind\\(s\\) \\['riddle'\\]"):
        world_questions(QuestionsStage(source="world", dpo_kinds=["riddle"]), tools={"scenes": scenes}, seed=0)


def test_world_questions_carry_the_answer_as_the_world_writes_it(scenes):
    """With the chain teacher at hand, each question's ``answer_text`` is its faithful chain's answer: the gold
    itself for words, the cell's box in the world's own tokens for grounding (matching the gold at IoU > 0.5)."""
    from longthink.resolver import resolve

    chains = resolve("world-vision:chains", kind="tool", profile="smoke").load()
    kit = QuestionsStage(source="world", n_train=11, n_dpo=0, n_dev_per_kind=0, n_eval_per_kind=3)
    splits = world_questions(kit, tools={"scenes": scenes, "chains": chains}, seed=0)
    for q in splits["eval"]:
        if q["kind"] == "ground":
            assert q["answer_text"].startswith("[ ") and " , " in q["answer_text"]
            assert chains.answers_match(q["answer_text"], q["answer"], kind="ground")
        else:
            assert q["answer_text"] == q["answer"]


def test_hub_questions_save_images_and_name_a_missing_column(tmp_path):
    from insight_v_helpers import image

    rows = [{"query": f"q{i}", "label": str(i), "img": image(i)} for i in range(5)]
    kit = QuestionsStage(source="hub", datasets=["org/train-set@train"], eval_datasets=["org/bench@test"], n_dpo=1,
                         columns={"question": "query", "answer": "label", "image": "img"})
    asked = []

    def rows_of(name, config, split):
        asked.append((name, config, split))
        return [dict(r) for r in rows]

    splits = hub_questions(kit, rows_of=rows_of, seed=0, image_dir=tmp_path)
    assert asked == [("org/train-set", None, "train"), ("org/bench", None, "test")]
    assert [len(splits[s]) for s in ("train", "dpo", "dev", "eval")] == [4, 1, 0, 5]
    assert (tmp_path / splits["eval"][0]["image_path"]).is_file()
    bad = QuestionsStage(source="hub", datasets=["org/x"], columns={"question": "q", "answer": "a", "image": "img"})
    with pytest.raises(KeyError, match="no column 'q' \\(questions.columns.question\\)"):
        hub_questions(bad, rows_of=rows_of, seed=0, image_dir=tmp_path)
    assert parse_dataset_ref("lmms-lab/DocVQA:DocVQA@validation") == ("lmms-lab/DocVQA", "DocVQA", "validation")
