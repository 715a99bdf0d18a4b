"""Multi-granularity assessment: the judges, the scorers, the tiers and the routing."""

import pytest

from insight_v_helpers import question_rows, world_tools

from longthink.insight_v import prompts
from longthink.insight_v.judge import (
    JudgeItem,
    LLMJudge,
    MatchJudge,
    judge_messages,
    make_judge,
    normalised_match,
    parse_verdict,
)
from longthink.insight_v.routing import REASONING, SUMMARY, assess, filter_table, route
from longthink.insight_v.scorer import MLLMScorer, ScoreItem, SceneScorer, make_scorer, parse_score, tier
from longthink.insight_v.steps import Path, step


def test_normalised_match_and_boxes():
    assert normalised_match(" Blue. ", "blue")
    assert not normalised_match("blue circle", "blue")
    assert not normalised_match(None, "blue")
    assert normalised_match("[10, 10, 30, 30]", "[ 11 , 10 , 30 , 31 ]")
    assert not normalised_match("[40, 40, 60, 60]", "[10, 10, 30, 30]")
    assert not normalised_match("b2", "[10, 10, 30, 30]")


def test_match_judge_uses_the_given_matcher():
    calls = []
    judge = MatchJudge(lambda a, g, kind=None: calls.append(kind) or a == g)
    assert judge.judge([JudgeItem("q", "2", "2", "count"), JudgeItem("q", "2", "3", "count")]) == [True, False]
    assert calls == ["count", "count"]


@pytest.mark.parametrize("reply, verdict", [("[1]", True), ("[0]", False), ("[1] because it matches", True),
                                            ("Sure! [1]", False), ("1", False), ("[1, 0]", True), ("", False),
                                            ("[]", False)])
def test_parse_verdict_reads_to_the_first_bracket(reply, verdict):
    assert parse_verdict(reply) is verdict


def test_the_llm_judge_sends_upstreams_prompt_and_counts_no_answer_as_such():
    sent = []

    def backend(conversations):
        sent.extend(conversations)
        return ["[1]", "[0]"]

    judge = LLMJudge(backend, batch_size=8)
    verdicts = judge.judge([JudgeItem("What colour?", "blue", "blue"), JudgeItem("What colour?", "blue", None)])
    assert verdicts == [True, False]
    system, user = sent[0]
    assert system["content"] == "You are a helpful assistant.\n" + prompts.JUDGE_PROMPT
    assert user["content"] == "Question: What colour?\nGround Truth: blue\nModel 1: blue\nYour answer: "
    assert "Model 1: No available answer" in sent[1][1]["content"]
    assert judge_messages(JudgeItem("q", "g", "r"))[1]["content"].endswith("Your answer: ")


def test_an_llm_judge_on_a_tiny_untrained_model_says_wrong(tiny_model_dir):
    from longthink.insight_v.judge import HFChat

    chat = HFChat(str(tiny_model_dir), temperature=0.2, top_p=0.7, repetition_penalty=1.05, max_tokens=4)
    judge = LLMJudge(chat)
    assert judge.judge([JudgeItem("q", "2", "2"), JudgeItem("q", "2", "3")]) == [False, False]


def test_unknown_judge_and_scorer_are_named():
    settings = type("S", (), {"judge": "oracle", "scorer": "vibes"})()
    with pytest.raises(ValueError, match="unknown judge 'oracle'"):
        make_judge(settings)
    with pytest.raises(ValueError, match="unknown scorer 'vibes'"):
        make_scorer(settings)


def test_tiers_follow_the_cutoffs():
    assert [tier(s) for s in (100, 80, 79, 50, 49, 1)] == ["High", "High", "Mid", "Mid", "Low", "Low"]
    with pytest.raises(ValueError, match="mid < high"):
        tier(60, high=50, mid=50)


def test_parse_score_clips_and_defaults_to_low():
    assert parse_score("85") == 85
    assert parse_score("Score: 250") == 100
    assert parse_score("-3") == 1
    assert parse_score("excellent") == 1


def test_the_mllm_scorer_formats_the_prompt_and_parses_the_reply():
    seen = []

    def complete(messages, images):
        seen.append((messages, images))
        return ["90", "no idea"]

    q = {"id": "q", "question": "How many?", "answer": "2"}
    scorer = MLLMScorer(complete, image_fn=lambda q: "IMG")
    assert scorer.score([ScoreItem(q, [step("Count", "count 2")]), ScoreItem(q, [])]) == [90, 1]
    (messages, images), = seen
    text = messages[0][0]["content"][1]["text"]
    assert "Question: How many?" in text and "Ground Truth: 2" in text and "Count: count 2" in text
    assert images == ["IMG", "IMG"]


@pytest.fixture(scope="module")
def world():
    return world_tools()


def _rows(world, n=30):
    return question_rows(world, n, seed=11)


def test_the_scene_scorer_checks_each_step_against_the_world(world):
    rows = _rows(world)
    scorer = SceneScorer(world["chains"])
    faithful = world["chains"].ChainTeacher(error_rate=0.0, seed=5, short_titles=True)  # Insight-V's form
    flawed = world["chains"].ChainTeacher(error_rate=1.0, seed=5, short_titles=True)
    good = scorer.score([ScoreItem(r, faithful.chain(r["example"]).steps) for r in rows])
    assert good == [100] * len(rows)
    bad_chains = [flawed.chain(r["example"]) for r in rows]
    bad = scorer.score([ScoreItem(r, c.steps) for r, c in zip(rows, bad_chains)])
    wrong = 0
    for r, score, chain in zip(rows, bad, bad_chains):
        gold = faithful.chain(r["example"]).steps
        if chain.steps == gold:  # a mistake that left every step's text as it was
            assert score == 100
            continue
        wrong += 1  # the mistake at step k: k of n steps agree, the rest follow from it
        assert score == max(1, round(100 * chain.error["step"] / len(chain.steps))) < 100
    assert wrong >= len(rows) // 2
    skipped = scorer.score([ScoreItem(r, faithful.chain(r["example"]).steps[1:]) for r in rows])
    assert all(s < 100 for s in skipped)


def test_the_scene_scorer_needs_world_questions(world):
    with pytest.raises(ValueError, match="carries no world example"):
        SceneScorer(world["chains"]).score([ScoreItem({"id": "x", "question": "q", "answer": "a"}, [])])


class FixedScorer:
    def __init__(self, scores):
        self.scores = scores

    def score(self, items):
        return [self.scores[(i.question["id"], len(i.steps))] for i in items]


def _paths():
    # question a: a correct High (2 steps), a correct Mid (3 steps), a wrong Low (1 step); question b: all wrong
    return [Path("a", 0, [step("s", "1")] * 2, answer="2"), Path("a", 1, [step("s", "1")] * 3, answer="2"),
            Path("a", 2, [step("s", "1")], answer="3"), Path("b", 0, [step("s", "1")], answer="9"),
            Path("b", 1, [step("s", "1")] * 2, answer=None)]


def _assessed():
    qs = {"a": {"id": "a", "question": "qa", "answer": "2"}, "b": {"id": "b", "question": "qb", "answer": "5"}}
    paths = _paths()
    assess(paths, qs, judge=MatchJudge(), scorer=FixedScorer({("a", 2): 90, ("a", 3): 60, ("a", 1): 20,
                                                               ("b", 1): 85, ("b", 2): 40}), high=80, mid=50)
    return paths


def test_assess_fills_verdicts_scores_and_tiers():
    paths = _assessed()
    assert [(p.correct, p.score, p.tier) for p in paths] == [(True, 90, "High"), (True, 60, "Mid"),
                                                            (False, 20, "Low"), (False, 85, "High"),
                                                            (False, 40, "Low")]


def test_routing_sends_correct_high_to_reasoning_and_all_kinds_to_summary():
    paths = _assessed()
    routed = route(paths, reasoning_per_question=1, summary_per_question=2, summary_wrong_share=None, seed=0)
    assert [(p.question_id, p.index) for p in routed[REASONING]] == [("a", 0)]  # b's High path is wrong
    assert len(routed[SUMMARY]) == 4 and all(SUMMARY in p.routes for p in routed[SUMMARY])
    assert {p.question_id for p in routed[SUMMARY]} == {"a", "b"}
    table = {r["filter"]: r["paths"] for r in filter_table(paths, routed)}
    assert table["generated"] == 5 and table["correct and High"] == 1 and table["reasoning set"] == 1


def test_the_wrong_share_knob_prefers_wrong_paths():
    paths = _assessed()
    routed = route(paths, reasoning_per_question=1, summary_per_question=1, summary_wrong_share=1.0, seed=0)
    assert [p.correct for p in routed[SUMMARY]] == [False, False]
    routed = route(paths, reasoning_per_question=1, summary_per_question=1, summary_wrong_share=0.0, seed=0)
    assert routed[SUMMARY][0].correct


def test_routing_refuses_unassessed_paths():
    with pytest.raises(ValueError, match="not assessed yet"):
        route(_paths(), reasoning_per_question=1, summary_per_question=2, summary_wrong_share=None, seed=0)
