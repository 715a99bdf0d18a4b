"""Insight-V's step format, paths and the <thoughts> chain template."""

import json

import pytest

from longthink.insight_v.steps import (
    FINAL,
    Path,
    StepError,
    after_thoughts,
    chain_steps,
    cut_thoughts,
    format_chain,
    parse_final,
    parse_step,
    step,
    steps_of_chain,
)


def test_parse_step_reads_a_bare_json_step():
    s = parse_step('{"title": "Scan", "content": "row 1: red circle", "next_action": "continue"}')
    assert s == {"title": "Scan", "content": "row 1: red circle", "next_action": "continue"}


@pytest.mark.parametrize("reply, message", [
    ('```json\n{"title": "a", "content": "b", "next_action": "continue"}\n```', "not JSON"),
    ('["title", "content"]', "JSON object"),
    ('{"title": "a", "content": "b"}', "lacks \\['next_action'\\]"),
    ('{"title": "a", "content": "b", "next_action": "stop"}', "next_action must be one of"),
    ("", "not JSON"),
])
def test_parse_step_rejects_what_upstream_rejects(reply, message):
    with pytest.raises(StepError, match=message):
        parse_step(reply)


def test_parse_final_reads_the_content_or_none():
    assert parse_final('{"title": "FINAL ANSWER", "content": " blue "}') == "blue"
    assert parse_final("The answer is blue") is None
    assert parse_final('{"title": "FINAL ANSWER"}') is None


def test_chain_template_round_trips_through_cut_and_read():
    steps = [step("Look at the scene", "a1 lrc a2 ."), step("Count", "count 2"), step("Final answer", "2", FINAL)]
    chain = format_chain(steps)
    assert chain == "<thoughts>\nLook at the scene: a1 lrc a2 .\nCount: count 2\nFinal answer: 2\n</thoughts>"
    decoded = "<thoughts>\n" + chain.split("<thoughts>\n", 1)[1] + "<|im_end|><|endoftext|>"
    assert cut_thoughts(decoded) == chain
    assert [(s["title"], s["content"]) for s in steps_of_chain(chain)] == [(s["title"], s["content"]) for s in steps]


def test_an_unclosed_chain_keeps_what_follows_the_opening_tag():
    assert cut_thoughts("<thoughts>\nCount: count 2") == "<thoughts>\nCount: count 2\n</thoughts>"
    assert after_thoughts("<thoughts>\nCount: count 2") == ""
    assert after_thoughts("<thoughts>\nCount: count 2\n</thoughts>\n2") == "2"


def test_chain_steps_drop_error_steps_and_optionally_the_answer_step():
    steps = [step("Look", "x"), step("Final answer", "2", FINAL)]
    assert chain_steps(steps) == steps
    assert chain_steps(steps, keep_answer_step=False) == steps[:1]
    assert chain_steps([step("Look", "x"), step("Error", "failed", FINAL)]) == [step("Look", "x")]


def test_path_round_trips_as_a_dict():
    p = Path("q1", 2, [step("a", "b")], final_raw=json.dumps({"content": "x"}), answer="x", calls=3, retries=1)
    assert Path.from_dict(json.loads(json.dumps(p.to_dict()))) == p
