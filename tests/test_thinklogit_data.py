"""ThinkLogit data: prompt rendering, hub registry conversions (fed rows, no network), world sets and SFT/DPO split."""

from __future__ import annotations

import pytest

from longthink.thinklogit.data import (
    HUB_SETS,
    DataError,
    hub_questions,
    load_questions,
    render,
    world_questions,
    world_training,
)
from longthink.thinklogit.schema import MATH_PROMPT

WORLD = "<|im_start|>user\n{question}<|im_end|>\n<|im_start|>assistant\n"


@pytest.fixture(scope="module")
def smoke_world():
    """The smoke world's pool, evaluation rows and trace check, through the resolver (as the pipeline reads them)."""
    from longthink.resolver import resolve, resolve_rows

    return {"pool": resolve_rows("world:pool", profile="smoke"),
            "by_difficulty": resolve_rows("world:by_difficulty", profile="smoke"),
            "hard": resolve_rows("world:hard", profile="smoke"),
            "well_formed": resolve("world:trace_check", kind="tool", profile="smoke").load()}


def test_render_the_cards_prompt():
    text = render(MATH_PROMPT, "What is 1+1?")
    assert text == "Solve the following math problem. Put your final answer within \\boxed{}.\n\nQuestion: What is 1+1?"
    with pytest.raises(DataError, match="question"):
        render("no placeholder", "x")


def test_hub_sets_convert_fed_rows():
    rows = {
        "aime2024": [{"problem": " Find x. ", "answer": 204}],
        "math_l5": [{"problem": "easy", "answer": "1", "level": 2}, {"problem": "hard", "answer": "\\frac12", "level": 5}],
        "gpqa_diamond": [{"Question": "Which?", "Correct Answer": "right", "Incorrect Answer 1": "w1",
                          "Incorrect Answer 2": "w2", "Incorrect Answer 3": "w3"}],
        "math_train_l45": [{"problem": "p", "solution": "so \\boxed{\\frac{1}{2}}", "level": "Level 4"},
                           {"problem": "q", "solution": "\\boxed{3}", "level": "Level 2"}],
    }
    loader = lambda name: (lambda spec: rows[name])  # noqa: E731
    aime = hub_questions("aime2024", template=MATH_PROMPT, loader=loader("aime2024"))
    assert aime[0].question == "Find x." and aime[0].answer == "204" and aime[0].prompt.endswith("Question: Find x.")
    l5 = hub_questions("math_l5", template=MATH_PROMPT, loader=loader("math_l5"))
    assert [q.question for q in l5] == ["hard"] and l5[0].difficulty == 5
    gpqa = hub_questions("gpqa_diamond", template=MATH_PROMPT, loader=loader("gpqa_diamond"))[0]
    letter = gpqa.answer
    assert f"{letter}) right" in gpqa.question and "single letter from A to D" in gpqa.prompt
    train = hub_questions("math_train_l45", template=MATH_PROMPT, difficulties=[4, 5], loader=loader("math_train_l45"))
    assert [(q.question, q.answer) for q in train] == [("p", "\\frac{1}{2}")]
    with pytest.raises(DataError, match="unknown hub benchmark"):
        hub_questions("aime1999", template=MATH_PROMPT)
    assert {"aime2024", "aime2025", "amc23", "math_l5", "gpqa_diamond", "math_train_l45"} <= set(HUB_SETS)


def test_world_sets_and_training_split(smoke_world):
    qs = world_questions("by_difficulty", smoke_world["by_difficulty"], template=WORLD, limit=6)
    assert len(qs) == 6 and sorted({q.difficulty for q in qs}) == [1, 2, 3]  # stratified over difficulties
    assert qs[0].prompt == WORLD.replace("{question}", qs[0].question)
    sft, dpo, dev = world_training(smoke_world["pool"], template=WORLD, n_traces=50, only_correct=True, n_dpo=10,
                                   dpo_difficulties=[3], well_formed=smoke_world["well_formed"])
    assert len(sft) == 50 and len(dpo) == 10 and dev == []
    assert all(r["completion"].startswith("<|im_start|>think\n") and "\nAnswer: " in r["completion"] for r in sft)
    assert all(q.difficulty == 3 for q in dpo)
    sft_questions = {r["prompt"] for r in sft}
    assert not any(q.prompt in sft_questions for q in dpo)  # disjoint


def test_benchmarks_are_world_refs_or_hub_names(smoke_world):
    from types import SimpleNamespace

    kit = SimpleNamespace(benchmarks=["world:by_difficulty"], prompt_template=WORLD, max_per_benchmark=6)
    out = load_questions(kit, rows_of=lambda ref: smoke_world[ref.split(":")[1]])
    assert list(out) == ["by_difficulty"] and out["by_difficulty"][0].id == "by_difficulty/0"
    with pytest.raises(DataError, match="unknown benchmark 'aime1999'"):
        load_questions(SimpleNamespace(**{**kit.__dict__, "benchmarks": ["aime1999"]}), rows_of=None)


def test_dev_split_is_held_out_and_fixed(smoke_world):
    kw = dict(template=WORLD, n_traces=50, only_correct=True, well_formed=smoke_world["well_formed"])
    pool = smoke_world["pool"]
    sft, dpo, dev = world_training(pool, **kw, n_dpo=10, dpo_difficulties=[3], n_dev=12)
    assert len(dev) == 12 and {q.benchmark for q in dev} == {"dev"} and len({q.difficulty for q in dev}) > 1
    held = {r["question"] for name in ("by_difficulty", "hard") for r in smoke_world[name]}
    sft_prompts = {r["prompt"] for r in sft}
    assert not {q.question for q in dev} & ({q.question for q in dpo} | held)
    assert not {q.prompt for q in dev} & sft_prompts
    # the dev split does not move when the DPO prompts change
    _, dpo2, dev2 = world_training(pool, **kw, n_dpo=5, dpo_difficulties=[2], n_dev=12)
    assert [q.id for q in dev2] == [q.id for q in dev] and all(q.difficulty == 2 for q in dpo2)
    _, _, dev3 = world_training(pool, **kw, n_dpo=0, dpo_difficulties=[2], n_dev=4, dev_difficulties=[1])
    assert len(dev3) == 4 and all(q.difficulty == 1 for q in dev3)
    with pytest.raises(DataError, match="n_dev_prompts"):
        world_training(pool, **kw, n_dpo=1, dpo_difficulties=[2], n_dev=-1)
