"""Tasks and teacher of the tiny text world: solvers, difficulty checks, trace formats, garbles."""

from __future__ import annotations

import random

import pytest

from longthink.grading import grade
from longthink.text_world import tasks, teacher


def test_problem_solution_matches_manual_chain():
    p = tasks.parse_question("Mix 3:a+4,b*3,c-2.")
    assert p.values == (7, 1, 9) and p.answer == "9" and p.difficulty == 3 and p.domain == "mix"
    assert tasks.solve("Tally 0:a+9.") == "9"


@pytest.mark.parametrize("k", [1, 2, 5, 8])
def test_make_problem_difficulty_and_roundtrip(k):
    rng = random.Random(k)
    for name in tasks.DOMAINS:
        p = tasks.make_problem(rng, domain=name, difficulty=k)
        assert p.difficulty == k
        assert set(op for _, op, _ in p.ops) <= set(tasks.DOMAINS[name].ops)
        assert tasks.parse_question(p.question) == p
        assert grade(f"Answer: {p.answer}", p.answer)


def test_answers_are_uniform_digits():
    probs = tasks.sample_problems(2000, seed=0, difficulties=[3])
    counts = [sum(p.answer == str(d) for p in probs) for d in range(10)]
    assert min(counts) > 120  # uniform would be 200 each: no answer shortcut


@pytest.mark.parametrize("bad", [0, -1, 27, 2.5, "3", True, None])
def test_bad_difficulty_is_a_clear_error(bad):
    with pytest.raises(tasks.TaskError, match="difficulty must be an integer in 1"):
        tasks.make_problem(random.Random(0), domain="mix", difficulty=bad)


def test_bad_domain_and_question():
    with pytest.raises(tasks.TaskError, match="unknown domain 'algebra'.*known domains"):
        tasks.sample_problems(3, seed=0, difficulties=[1], domains=["algebra"])
    with pytest.raises(tasks.TaskError, match="not a world question"):
        tasks.parse_question("What is 2+2?")


def test_sampling_is_seeded_and_respects_exclude():
    a = tasks.sample_problems(50, seed=1, difficulties=[1, 2])
    b = tasks.sample_problems(50, seed=1, difficulties=[1, 2])
    assert [p.question for p in a] == [p.question for p in b]
    banned = {p.question for p in a}
    c = tasks.sample_problems(50, seed=2, difficulties=[3, 4], exclude=banned)
    assert not banned & {p.question for p in c}


def test_short_style_skips_after_three_steps_and_answers_the_value_reached():
    p = tasks.parse_question("Mix 3:a+4,b*3,c-2,d+1.")
    assert teacher.short_completion(p) == "a+4:3=7\nb*3:7=1\nc-2:1=9\n...\nAnswer: 9"
    assert teacher.short_completion(p, short_steps=4) == "a+4:3=7\nb*3:7=1\nc-2:1=9\nd+1:9=0\nAnswer: 0"


def test_short_and_long_formats_on_a_short_chain():
    p = tasks.parse_question("Mix 3:a+4,b*3,c-2.")
    assert teacher.short_completion(p) == "a+4:3=7\nb*3:7=1\nc-2:1=9\nAnswer: 9"
    trace = teacher.long_trace(p, random.Random(0), teacher.TeacherSettings(p_rethink=1, p_verify=0))
    assert trace["thinking"] == "a+4:3=7\nb*3:7=1\nc-2:1=9" and trace["correct"]  # nothing cut short
    assert trace["steps"] == 3 and trace["rechecks"] == 0
    text = teacher.s1_assistant(trace["thinking"], trace["attempt"])
    assert text == "<|im_start|>think\na+4:3=7\nb*3:7=1\nc-2:1=9\n<|im_start|>answer\nAnswer: 9"
    assert grade(text, "9")


def test_merged_pass_groups_pairs():
    p = tasks.parse_question("Mix 3:a+4,b*3,c-2,d+1,e-3.")  # 3 -> 7 -> 1 -> 9 -> 0 -> 7
    assert teacher.merge_groups(5) == [(0, 1), (2, 3), (4,)]
    assert teacher.merge_groups(5, merge_from=3) == [(0,), (1,), (2, 3), (4,)]
    lines, value = teacher.merged_pass(p)
    assert lines == ["a+4,b*3:3=1", "c-2,d+1:1=0", "e-3:0=7"] and value == 7
    lines, value = teacher.merged_pass(p, merge_from=4)
    assert lines == ["a+4:3=7", "b*3:7=1", "c-2:1=9", "d+1,e-3:9=7"] and value == 7


def test_cut_short_trace_ends_with_the_value_reached():
    p = tasks.parse_question("Ledger 5:a+1,b-7,c+2,d-3,e+4.")  # 5 -> 6 -> 9 -> 1 -> 8 -> 2
    trace = teacher.long_trace(p, random.Random(0), teacher.TeacherSettings(p_rethink=0))
    assert trace["thinking"] == "a+1:5=6\nb-7:6=9\nc+2:9=1\n..." and trace["attempt"] == "1"
    assert not trace["correct"] and trace["steps"] == 3 and trace["rechecks"] == 0
    once = teacher.long_trace(p, random.Random(0), teacher.TeacherSettings(p_rethink=1, p_continue=0))
    assert once["thinking"] == "a+1:5=6\nb-7:6=9\nc+2:9=1\n...\nWait\nd-3:1=8\n..." and once["attempt"] == "8"
    assert once["steps"] == 4 and not once["correct"]


def test_each_wait_takes_one_more_step_and_a_finished_chain_is_verified():
    p = tasks.parse_question("Ledger 5:a+1,b-7,c+2,d-3,e+4.")
    always = teacher.TeacherSettings(p_rethink=1, p_continue=1, p_verify=1, max_verify=2)
    trace = teacher.long_trace(p, random.Random(0), always)
    assert trace["thinking"] == ("a+1:5=6\nb-7:6=9\nc+2:9=1\n...\nWait\nd-3:1=8\n...\nWait\ne+4:8=2"
                                 "\nWait\ne+4:8=2\nWait\ne+4:8=2")
    assert trace["correct"] and trace["steps"] == 5 and trace["rechecks"] == 4
    counts = {teacher.long_trace(p, random.Random(seed), teacher.TeacherSettings(
        p_rethink=1, p_continue=1, p_verify=0.6, max_verify=3))["rechecks"] for seed in range(60)}
    assert counts == {2, 3, 4, 5}


def test_random_stream_is_the_same_whatever_the_outcome():
    p = tasks.parse_question("Ledger 5:a+1,b-7,c+2,d-3.")
    a, b = random.Random(1), random.Random(1)
    teacher.long_trace(p, a, teacher.TeacherSettings(p_rethink=0))
    teacher.long_trace(p, b, teacher.TeacherSettings(p_rethink=1, p_continue=1, p_verify=1))
    assert a.random() == b.random()


def test_distill_trace_is_one_pass_merged_or_worked():
    p = tasks.parse_question("Ledger 5:a+1,b-7,c+2,d-3.")
    seen = set()
    for seed in range(30):
        trace = teacher.distill_trace(p, random.Random(seed), teacher.TeacherSettings(distill_p_merged=0.5))
        assert trace["correct"] and "Wait" not in trace["thinking"] and "..." not in trace["thinking"]
        seen.add(trace["thinking"])
    assert seen == {"a+1,b-7:5=9\nc+2,d-3:9=8", "a+1:5=6\nb-7:6=9\nc+2:9=1\nd-3:1=8"}
    assert teacher.distill_trace(p, random.Random(0))["thinking"] == "a+1:5=6\nb-7:6=9\nc+2:9=1\nd-3:1=8"
    short = tasks.parse_question("Ledger 5:a+1,b-7.")
    assert teacher.distill_trace(short, random.Random(0), teacher.TeacherSettings(distill_p_merged=1.0))[
        "thinking"] == "a+1:5=6\nb-7:6=9"  # no chain within the short style is merged


@pytest.mark.parametrize("field, value, message", [
    ("p_rethink", 1.5, "p_rethink must be a probability"), ("distill_p_merged", -0.1, "distill_p_merged must be"),
    ("max_verify", -1, "max_verify must be an int >= 0, got -1"), ("short_steps", 2.0, "short_steps must be an int"),
])
def test_bad_teacher_settings_are_named(field, value, message):
    with pytest.raises(ValueError, match=message):
        teacher.TeacherSettings(**{field: value})


@pytest.mark.parametrize("name", sorted(teacher.GARBLES))
def test_garbles_change_something(name):
    q, t, a = teacher.GARBLES[name]("Mix 3:a+4.", "a:3+4=7", "7", random.Random(0))
    assert (q, t, a) != ("Mix 3:a+4.", "a:3+4=7", "7")


def test_run_drill_works_the_whole_chain_from_a_value_and_names_no_label():
    p = tasks.parse_question("Mix 3:a+4,b*3,c-2,d+1,e-5.")
    q, c = teacher.run_drill(p, random.Random(0), x=3, surface="worked")
    assert q == "Mix 3:a+4,b*3,c-2,d+1,e-5. Run:3." and c == "a+4:3=7\nb*3:7=1\nc-2:1=9\nd+1:9=0\ne-5:0=5\nAnswer: 5"
    q, c = teacher.run_drill(p, random.Random(0), x=2, surface="worked")
    assert q.endswith("Run:2.") and c.startswith("a+4:2=6\nb*3:6=8\n") and c.endswith("\nAnswer: 2")
    starts = {teacher.run_drill(p, random.Random(seed))[0].rsplit("Run:", 1)[1] for seed in range(60)}
    assert "3." in starts and len(starts) > 5


def test_stepwise_run_is_s1s_surface_taken_to_the_end_then_checked():
    p = tasks.parse_question("Mix 3:a+4,b*3,c-2,d+1,e-5.")
    q, c = teacher.run_drill(p, random.Random(0), x=3, surface="stepwise")
    lines = c.split("\n")
    assert lines[:9] == ["a+4:3=7", "b*3:7=1", "c-2:1=9", "...", "Wait", "d+1:9=0", "...", "Wait", "e-5:0=5"]
    assert set(lines[9:-1]) <= {"Wait", "e-5:0=5"} and lines[-1] == "Answer: 5"
    with pytest.raises(ValueError, match="unknown run surface 'merged'"):
        teacher.run_drill(p, random.Random(0), surface="merged")


def test_trace_filter():
    from longthink.text_world.teacher import well_formed_trace

    assert well_formed_trace("a+4:3=7\nWait, a+4:3=7\nb*3:7=1", "1")
    assert well_formed_trace("a+4:3=7\nWait\na+4:3=7\nb*3:7=1", "1")  # the world's own-line re-check
    assert not well_formed_trace("a+4:3=7\nWaiting\nb*3:7=1", "1")
    assert not well_formed_trace("**Step**3 a+4:3=7", "7")
    assert not well_formed_trace("a+4:3=7\nb*3:7=1\n**", "1")
    assert not well_formed_trace("a+4:3=7", None)
    assert well_formed_trace("a+4,b*3:3=1\nc-2:1=9", "9")  # the guider teacher's merged line
    assert not well_formed_trace("a+4:3=7\n...\nWait\nb*3:7=1", "1")  # a chain cut short
