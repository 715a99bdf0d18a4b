"""The error classifier of the text world: each kind on a hand-written output, re-checks, read accuracy, metrics."""

from __future__ import annotations

import pytest

from longthink.text_world import diagnosis as dg
from longthink.text_world.tasks import parse_question

Q = "Mix 3:a+4,b*3,c-2,d+1."  # 3 -> 7 -> 1 -> 9 -> 0


def s1_text(thinking: str, answer: str) -> str:
    return f"<|im_start|>think\n{thinking}\n<|im_start|>answer\nAnswer: {answer}"


@pytest.mark.parametrize("thinking, answer, kind, position", [
    ("a+4:3=7\nb*3:7=1\nc-2:1=9\nd+1:9=0", "0", None, None),
    ("a+4:3=7\nb*3:7=1\nc-5:1=6\nd+1:6=7", "7", "misread", 3),  # operand of c copied wrong
    ("a+4:3=7\nb*3:7=1\nc-2:2=0\nd+1:0=1", "1", "misread", 3),  # running value copied wrong
    ("a+4:3=7\nb*3:7=1\nc-2:1=8\nd+1:8=9", "9", "value", 3),  # right inputs, wrong result
    ("a+4:3=7\nb*3:7=1\nc-2:1=9\nd+1:9=0", "4", "value", 4),  # answer line not the chain's value
    ("a+4:3=7\nb*3:7=1\nc-2:1=9\n...", "5", "cut_short", 4),  # the short style's jump
    ("a+4:3=7\nb*3:7=1\nd+1:1=2", "2", "cut_short", 3),  # a label skipped
    ("a+4:3=7\nb*3:7=1", "1", "cut_short", 3),  # stopped early
    ("a+4:3=7\nb*3:7=1\nc-2:1=9\nd+1:9=0", "", "format", None),  # no answer
    ("a+4:3=7\nb*3:7=1\nz+2:1=3\nd+1:3=4", "4", "misread", 3),  # a label not in the question
    ("a+4:3=7\nb*3:7=1\ncc*7:w*3", "3", "format", 3),  # the chain went on in a garbled line
])
def test_first_error_kind_and_position(thinking, answer, kind, position):
    d = dg.classify(parse_question(Q), s1_text(thinking, answer))
    assert d.correct == (kind is None)
    assert (d.kind, d.position) == (kind, position), d


def test_a_recheck_replaces_the_step_it_redoes():
    fixed = "a+4:3=7\nb*3:7=1\nc-2:1=8\nWait\nc-2:1=9\nd+1:9=0"
    assert dg.classify(parse_question(Q), s1_text(fixed, "0")).correct
    broken = "a+4:3=7\nb*3:7=1\nc-2:1=9\nd+1:9=0\nWait\nd+1:9=0\nWait\nd+1:9=4"
    d = dg.classify(parse_question(Q), s1_text(broken, "4"))
    assert (d.kind, d.position) == ("value", 4)
    whole_pass_again = "a+4:3=7\nb*3:7=2\nc-2:2=0\nd+1:0=1\nWait\na+4:3=7\nb*3:7=1\nc-2:1=9\nd+1:9=0"
    assert dg.classify(parse_question(Q), s1_text(whole_pass_again, "0")).correct


def test_plain_completion_and_inline_recheck():
    plain = "a+4:3=7\nb*3:7=1\nc-2:1=9\n...\nAnswer: 3"
    assert dg.classify(parse_question(Q), plain).kind == "cut_short"
    inline = "a+4:3=7\nb*3:7=1\nc-2:1=8\nWait, c-2:1=9\nd+1:9=0\nAnswer: 0"
    assert dg.classify(parse_question(Q), inline).correct


def test_a_given_grade_wins_and_garbage_is_format():
    right_chain = s1_text("a+4:3=7\nb*3:7=1\nc-2:1=9\nd+1:9=0", "0")
    assert dg.classify(parse_question(Q), right_chain, correct=True).correct
    garbled = s1_text("a+4:3=7\nb*3:7=1\nc-2:1=9\nd+1:9=0\n**", "0")
    d = dg.classify(parse_question(Q), garbled, correct=False)
    assert d.kind == "format"


def test_error_counts_shares_sum_to_one():
    texts = [s1_text("a+4:3=7\nb*3:7=1\nc-2:1=9\nd+1:9=0", "0"),
             s1_text("a+4:3=7\nb*3:7=1\nc-5:1=6\nd+1:6=7", "7"),
             s1_text("a+4:3=7\nb*3:7=1\nc-2:1=9\n...", "5"),
             s1_text("a+4:3=7\nb*3:7=1\nc-2:1=9\n...", "2")]
    c = dg.error_counts([Q] * 4, texts)
    assert (c["n"], c["wrong"], c["misread"], c["cut_short"]) == (4, 3, 1, 2)
    assert c["accuracy"] == 0.25 and c["merged"] == 0.0
    assert sum(c[f"{k}_share"] for k in dg.KINDS) == pytest.approx(1.0)
    m = dg.error_metrics([Q] * 4, texts, prefix="s1/")
    assert m["s1/wrong_cut_short_share"] == pytest.approx(2 / 3) and set(m) >= {f"s1/wrong_{k}_share" for k in dg.KINDS}


def test_read_accuracy_per_position_counts_rechecks_against_the_step_before():
    texts = [s1_text("a+4:3=7\nb*3:7=1\nc-5:1=6\nd+1:6=7\nWait\nd+1:6=7", "7"),
             s1_text("a+4:3=7\nb*3:7=1\nc-2:1=9\nd+1:9=0", "0")]
    read = dg.read_accuracy([Q, Q], texts)
    assert read[1]["inputs"] == 1.0 and read[3]["operand"] == 0.5
    assert read[4] == {"n": 3, "operand": 1.0, "value": 1.0, "inputs": 1.0}  # the re-check reads 6, as c gave
    assert dg.input_read_acc_min(read, min_count=1) == 0.5
    assert dg.input_read_acc_min(read, min_count=10) is None


def test_pair_steps_read_both_chunks():
    text = "a+4:3=7\nb*3,c-2:7=9\nd+1:9=0\nAnswer: 0"
    assert dg.classify(parse_question(Q), text).correct
    wrong = "a+4:3=7\nb*3,c-2:7=8\nd+1:8=9\nAnswer: 9"
    d = dg.classify(parse_question(Q), wrong)
    assert (d.kind, d.position) == ("value", 3)
    assert dg.read_accuracy([Q], [wrong])[3]["inputs"] == 1.0
    assert dg.error_counts([Q, Q], [text, "a+4:3=7\nAnswer: 7"])["merged"] == 0.5


def test_bad_input_is_a_clear_error():
    with pytest.raises(dg.DiagnosisError, match="2 questions, 1 outputs"):
        dg.error_counts([Q, Q], ["x"])
    with pytest.raises(dg.DiagnosisError, match="unknown error kind 'typo'"):
        dg.examples([Q], ["x"], kind="typo")


def test_tables_have_one_row_per_run():
    texts = [s1_text("a+4:3=7\nb*3:7=1\nc-2:1=9\n...", "2")]
    table = dg.error_table({"Wait x 0": ([Q], texts, None), "Wait x 1": ([Q], texts, [True])})
    assert list(table.index) == ["Wait x 0", "Wait x 1"]
    assert table.loc["Wait x 0", "cut_short"] == 1 and table.loc["Wait x 1", "wrong"] == 0
    assert list(dg.read_table([Q], texts).columns) == ["operand", "value", "inputs", "n"]


def test_read_table_of_outputs_without_a_step_is_empty_with_its_columns():
    from longthink.text_world.diagnosis import read_table

    table = read_table(["Mix 3:a+4,b*3."], ["no steps at all"])
    assert list(table.columns) == ["operand", "value", "inputs", "n"] and table.empty
