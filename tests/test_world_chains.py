"""The chain teacher: Insight-V's step format, a controllable error rate, real mistakes."""

from __future__ import annotations

import json

import pytest

from longthink.vision_world.chains import FINAL, ChainTeacher, answers_match, format_thoughts, steps_as_json
from longthink.vision_world.scenes import QUESTION_KINDS, generate_examples

EXAMPLES = generate_examples(len(QUESTION_KINDS) * 40, seed=7)


def test_error_free_chains_reach_the_gold_answer_in_step_format():
    teacher = ChainTeacher(error_rate=0.0, seed=0)
    for ex in EXAMPLES:
        chain = teacher.chain(ex)
        assert chain.correct, (ex["question"], chain.steps)
        assert chain.error is None
        assert len(chain.steps) >= 2
        assert all(set(s) == {"title", "content", "next_action"} for s in chain.steps)
        assert [s["next_action"] for s in chain.steps[:-1]] == ["continue"] * (len(chain.steps) - 1)
        assert chain.steps[-1]["next_action"] == FINAL and chain.steps[-1]["content"] == chain.answer


def test_error_rate_controls_mistakes_and_mistakes_change_answers():
    rates = {}
    for rate in (0.0, 0.3, 1.0):
        teacher = ChainTeacher(error_rate=rate, seed=1)
        chains = [teacher.chain(ex) for ex in EXAMPLES]
        with_error = [c for c in chains if c.error]
        rates[rate] = len(with_error) / len(chains)
        if rate:
            wrong = sum(not c.correct for c in with_error) / len(with_error)
            assert wrong > 0.5  # most injected mistakes lead to a wrong final answer
            assert all(0 <= c.error["step"] < len(c.steps) - 1 for c in with_error)
    assert rates[0.0] == 0.0
    assert 0.2 < rates[0.3] < 0.4
    assert rates[1.0] > 0.95


def test_chains_are_deterministic_and_samples_differ():
    teacher = ChainTeacher(error_rate=0.5, seed=2)
    ex = EXAMPLES[4]
    assert [c.to_dict() for c in teacher.chains(ex, 6)] == [c.to_dict() for c in teacher.chains(ex, 6)]
    assert len({json.dumps(c.steps) for c in teacher.chains(ex, 6)}) > 1


def test_thoughts_format_and_json_steps():
    chain = ChainTeacher(seed=0).chain(EXAMPLES[4])
    text = format_thoughts(chain)
    assert text.startswith("<thoughts>\n") and text.endswith("\n</thoughts>")
    assert text.count("\n") == len(chain.steps) + 1  # one line per step
    assert [json.loads(s) for s in steps_as_json(chain)] == chain.steps


def test_answers_match():
    assert answers_match(" Red. ", "red")
    assert answers_match("[10, 10, 20, 20]", "[11, 10, 21, 20]", kind="ground")
    assert not answers_match("[0, 0, 5, 5]", "[11, 10, 21, 20]", kind="ground")
    assert not answers_match(None, "3")


@pytest.mark.parametrize("kwargs, needle", [({"error_rate": 1.5}, "1.5"), ({"error_kinds": ["typo"]}, "typo")])
def test_bad_settings_name_the_value(kwargs, needle):
    with pytest.raises(ValueError, match=needle):
        ChainTeacher(**kwargs)


def test_bad_example_names_the_key():
    ex = dict(EXAMPLES[0])
    ex.pop("plan")
    with pytest.raises(KeyError, match="plan"):
        ChainTeacher().chain(ex)


def test_first_steps_are_the_base_vlms_look_and_walk():
    """Data generation, assessment and the reasoning agent share one way of looking: a correct chain's steps,
    joined, are the full-length <think> of the VLM's reply; its first step is the look, its second a walk."""
    from longthink.vision_world.look import description
    from longthink.vision_world.replies import reply, think_of
    from longthink.vision_world.scenes import Scene

    teacher = ChainTeacher(error_rate=0.0, seed=0)
    for ex in EXAMPLES:
        chain = teacher.chain(ex)
        assert chain.steps[0]["content"] == description(Scene.from_dict(ex["scene"]))
        assert chain.steps[1]["content"].startswith("find ")
        body = " ".join(s["content"] for s in chain.steps if s["next_action"] != FINAL)
        assert body == think_of(reply(ex, style="long"))


def test_short_titles_are_one_word_over_the_same_steps():
    """Insight-V's form: one word a step (two alike steps, a comparison and a sum, under one title), same contents."""
    full, short = ChainTeacher(error_rate=0.3, seed=2), ChainTeacher(error_rate=0.3, seed=2, short_titles=True)
    for ex in EXAMPLES:
        a, b = full.chain(ex), short.chain(ex)
        assert [s["content"] for s in a.steps] == [s["content"] for s in b.steps] and a.error == b.error
        titles = [s["title"] for s in b.steps[:-1]]
        assert set(titles) <= {"Look", "Find", "Count", "Compute", "Conclude", "Compare"}, titles
        if ex["kind"] in ("compare_counts", "count_arith"):
            assert titles[-1] == "Compute"


def test_a_plan_step_names_the_steps_to_come():
    plain = ChainTeacher(error_rate=1.0, seed=3, short_titles=True)
    planned = ChainTeacher(error_rate=1.0, seed=3, short_titles=True, plan_step=True)
    for ex in EXAMPLES[:60]:
        a, b = plain.chain(ex), planned.chain(ex)
        assert b.steps[0]["title"] == "Plan" and b.steps[1:] == a.steps
        assert b.steps[0]["content"].split() == [s["title"] for s in a.steps[:-1]]  # the final answer is no step
        if a.error:
            assert b.error == {**a.error, "step": a.error["step"] + 1}  # the mistake's step, counted with the plan
