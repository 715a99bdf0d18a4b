"""Evaluation by question kind, the summary agent on flawed chains, where chains go wrong, and the metrics."""

import pytest

from longthink.insight_v import results
from longthink.insight_v.evaluate import by_kind, error_table, first_wrong_step, flawed_chains, flawed_summary, grade
from longthink.insight_v.evaluate import group_accuracy
from longthink.insight_v.inference import Answer
from longthink.insight_v.judge import MatchJudge
from longthink.insight_v.steps import format_chain, step

QS = {"a": {"id": "a", "kind": "count_cond", "question": "q", "answer": "2"},
      "b": {"id": "b", "kind": "count_cond", "question": "q", "answer": "1"},
      "c": {"id": "c", "kind": "where", "question": "q", "answer": "b2"}}


def test_accuracy_by_kind_and_group():
    answers = [Answer("a", "s", "2", ""), Answer("b", "s", "3", ""), Answer("c", "s", "B2.", "")]
    grade(answers, QS, MatchJudge())
    assert [a.correct for a in answers] == [True, False, True]
    assert by_kind(answers, QS) == {"count_cond": 0.5, "where": 1.0}
    assert group_accuracy(answers, QS, ["count_cond"]) == 0.5
    assert group_accuracy(answers, QS, ["ground"]) is None


GOLD = [step("Look", "a1 lrc"), step("Find the red objects", "find red : a1 yes"), step("Count", "count 1")]


@pytest.mark.parametrize("steps, where", [
    (GOLD, "right"), (GOLD[:2], "short"), (GOLD + [step("Count", "count 1")], "long"),
    ([GOLD[0], step("Find the red objects", "find red : a1 no"), GOLD[2]], "find"),
    ([step("Look", "a1 sbc")] + GOLD[1:], "look"),
])
def test_first_wrong_step_names_where_a_chain_departs(steps, where):
    assert first_wrong_step(format_chain(steps), GOLD) == where


def test_error_table_counts_by_kind_place_and_verdict():
    answers = [Answer("a", "two_agents", "1", "", chain=format_chain(GOLD), correct=False),
               Answer("b", "two_agents", "1", "", chain=format_chain(GOLD), correct=True)]
    rows = error_table(answers, QS, lambda q: GOLD)
    assert rows == [{"kind": "count_cond", "chain": "right", "answer": "wrong", "count": 1},
                    {"kind": "count_cond", "chain": "right", "answer": "right", "count": 1}]


@pytest.fixture(scope="module")
def world():
    from longthink.resolver import resolve

    return {name: resolve(f"world-vision:{name}", kind="tool", profile="smoke").load() for name in ("scenes", "chains")}


def test_flawed_chains_hold_one_mistake_each_and_the_summary_is_scored_against_them(world):
    exs = world["scenes"].generate_examples(40, seed=2, kinds=["count_cond", "compare_counts"])
    qs = [{"id": e["id"], "kind": e["kind"], "question": e["question"], "answer": e["answer"], "example": e}
          for e in exs]
    cases = flawed_chains(qs, world["chains"], per_kind=5, seed=0, keep_answer_step=False)
    assert {c["kind"] for c in cases} == {"count_cond", "compare_counts"} and len(cases) == 10
    assert all(c["error"] and "Final answer" not in c["chain"] for c in cases)
    by_id = {q["id"]: q for q in qs}
    gold_answers = [by_id[c["question_id"]]["answer"] for c in cases]
    out = flawed_summary(cases, gold_answers, by_id, MatchJudge(world["chains"].answers_match))
    assert out["summary_acc"] == 1.0 and out["chain_acc"] == sum(c["chain_correct"] for c in cases) / 10
    assert set(out["by_kind"]) == {"count_cond", "compare_counts"}
    copied = flawed_summary(cases, [c["chain_answer"] for c in cases], by_id, MatchJudge(world["chains"].answers_match))
    assert copied["summary_acc"] == copied["chain_acc"]


def _metrics():
    generated = {"paths": [0] * 40, "chains_per_second": 100.0}
    assessed = {"reasoning": [0] * 10, "summary": [0] * 20}
    ev = {"systems": {"base": {"reasoning": 0.2, "perception": 0.8, "by_kind": {}},
                      "single_model": {"reasoning": 0.5, "perception": 0.7, "by_kind": {}},
                      "two_agents": {"reasoning": 0.6, "perception": 0.8, "by_kind": {}}}, "answers": []}
    rounds = [{"round": r, "train": {"pairs": 5}, "eval": {"systems": {f"dpo_round_{r}": {
        "reasoning": 0.6 + 0.02 * r, "perception": 0.8, "by_kind": {}}}, "answers": []}} for r in (1, 2)]
    flawed = {"summary_acc": 0.4, "chain_acc": 0.1}
    return results.metrics(generated=generated, assessed=assessed, evaluation=ev, rounds=rounds, flawed=flawed)


def test_metrics_use_the_issues_keys():
    m = _metrics()
    for key in ("acc_base", "acc_single_model", "acc_two_agents", "acc_dpo_round_1", "acc_dpo_round_2",
                "acc_perception_base", "acc_perception_two_agents", "summary_acc_on_flawed", "chain_acc_on_flawed",
                "paths_generated", "paths_kept_reasoning", "paths_kept_summary", "generation_chains_per_second"):
        assert f"insight_v/{key}" in m, key
    assert m["insight_v/dpo_gain_over_two_agents"] == pytest.approx(0.04)
    assert m["insight_v/paths_generated"] == 40.0


def test_findings_are_written_from_the_metrics():
    text = results.findings(_metrics())
    assert "0.200" in text and "0.600" in text and "+0.100 over the single model" in text
    assert "rounds 1-2: 0.620, 0.640" in text and "+0.300" in text and "judges the chain" in text
