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


def test_short_style_skips_after_three_steps():
    p = tasks.parse_question("Mix 3:a+4,b*3,c-2,d+1.")
    assert teacher.short_completion(p) == "a+4:3=7\nb*3:7=1\nc-2:1=9\n...\nAnswer: 0"


def test_short_and_long_formats():
    p = tasks.parse_question("Mix 3:a+4,b*3,c-2.")
    assert teacher.short_completion(p) == "a+4:3=7\nb*3:7=1\nc-2:1=9\nAnswer: 9"
    clean = teacher.TeacherSettings(p_recheck=0, p_final_check=0, p_wrong_base=0, p_wrong_per_step=0)
    trace = teacher.long_trace(p, random.Random(0), clean)
    assert trace["thinking"] == "a+4:3=7\nb*3:7=1\nc-2:1=9" and trace["correct"]
    text = teacher.s1_assistant(trace["thinking"], trace["attempt"])
    assert text == "<|im_start|>think\na+4:3=7\nb*3:7=1\nc-2:1=9\n<|im_start|>answer\nAnswer: 9"
    assert grade(text, "9")


def test_recheck_traces_say_wait_and_end_right():
    p = tasks.parse_question("Ledger 5:a+1,b-7,c+2,d-3.")
    always = teacher.TeacherSettings(p_recheck=1, p_final_check=1, p_wrong_base=0, p_wrong_per_step=0)
    for seed in range(20):
        trace = teacher.long_trace(p, random.Random(seed), always)
        lines = trace["thinking"].split("\n")
        assert lines.count("Wait") == 2 == trace["rechecks"] and trace["correct"]
        assert lines[-2:] == ["Wait", "d-3:1=8"]


def test_recheck_surfaces_share_the_random_stream():
    """Only the text of a re-check changes with the surface: the same seed gives the same slips and values."""
    p = tasks.parse_question("Ledger 5:a+1,b-7,c+2,d-3.")
    always = teacher.TeacherSettings(p_recheck=1, p_final_check=1, p_wrong_base=0, p_wrong_per_step=0)
    inline = teacher.TeacherSettings(p_recheck=1, p_final_check=1, p_wrong_base=0, p_wrong_per_step=0,
                                     recheck_surface="inline")
    for seed in range(5):
        own = teacher.long_trace(p, random.Random(seed), always)
        old = teacher.long_trace(p, random.Random(seed), inline)
        assert own["thinking"].replace("Wait\n", "Wait, ") == old["thinking"]
        assert own["rechecks"] == old["rechecks"] == 2


def test_unknown_recheck_surface_is_named():
    with pytest.raises(ValueError, match="recheck_surface 'dash'.*known: \\['inline', 'own_line'\\]"):
        teacher.TeacherSettings(recheck_surface="dash")


def test_wrong_traces_end_wrong():
    p = tasks.parse_question("Ledger 5:a+1,b-7,c+2,d-3.")
    wrong = teacher.TeacherSettings(p_recheck=0, p_final_check=0, p_wrong_base=1, p_wrong_per_step=0)
    trace = teacher.long_trace(p, random.Random(0), wrong)
    assert not trace["correct"] and not grade(teacher.s1_assistant(trace["thinking"], trace["attempt"]), p.answer)


@pytest.mark.parametrize("name", sorted(teacher.GARBLES))
def test_garbles_change_something(name):
    q, t, a = teacher.GARBLES[name]("Mix 3:a+4.", "a:3+4=7", "7", random.Random(0))
    assert (q, t, a) != ("Mix 3:a+4.", "a:3+4=7", "7")


def test_step_drill_is_one_correct_step_anywhere():
    p = tasks.parse_question("Mix 3:a+4,b*3,c-2,d+1,e-5.")
    seen = set()
    for seed in range(40):
        question, completion = teacher.step_drill(p, random.Random(seed))
        label, x = question.rsplit("Apply ", 1)[1].rstrip(".").split(" to ")
        seen.add(label)
        op, d = next((o, dd) for lab, o, dd in p.ops if lab == label)
        y = tasks.APPLY[op](int(x), d)
        assert completion == f"{label}{op}{d}:{x}={y}\nAnswer: {y}"
    assert seen == {"a", "b", "c", "d", "e"}


def test_final_rechecks_repeat_up_to_the_maximum_from_the_same_draw():
    p = tasks.parse_question("Ledger 5:a+1,b-7,c+2,d-3.")
    once = teacher.TeacherSettings(p_recheck=0, p_final_check=1, p_wrong_base=0, p_wrong_per_step=0)
    upto4 = teacher.TeacherSettings(p_recheck=0, p_final_check=1, p_wrong_base=0, p_wrong_per_step=0,
                                    max_final_checks=4)
    counts = set()
    for seed in range(40):
        one, many = teacher.long_trace(p, random.Random(seed), once), teacher.long_trace(p, random.Random(seed), upto4)
        assert one["rechecks"] == 1 and many["correct"]
        assert many["thinking"].split("\nWait\n")[1:] == ["d-3:1=8"] * many["rechecks"]
        counts.add(many["rechecks"])
    assert counts == {1, 2, 3, 4}
    with pytest.raises(ValueError, match="max_final_checks must be an int >= 1, got 0"):
        teacher.TeacherSettings(max_final_checks=0)



def test_final_misread_slips_the_last_operand_and_every_recheck_reads_it_again():
    p = tasks.parse_question("Mix 5:a+1,b*7,c+2,d*3.")
    base = dict(p_recheck=0, p_final_check=1, p_wrong_base=0, p_wrong_per_step=0, max_final_checks=3)
    plain = teacher.long_trace(p, random.Random(0), teacher.TeacherSettings(**base))
    slipped = teacher.long_trace(p, random.Random(0), teacher.TeacherSettings(**base, p_final_misread=1.0))
    lines, clean = slipped["thinking"].split("\n"), plain["thinking"].split("\n")
    first_wait = lines.index("Wait")
    misread = lines[first_wait - 1]
    assert clean[first_wait - 1] == "d*3:4=2" and lines[first_wait + 1] == "d*3:4=2"
    assert misread.startswith("d*") and misread[2] in "79" and misread[3:6] == ":4="
    assert tasks.APPLY["*"](4, int(misread[2])) == int(misread[-1])  # consistent with the misread operand
    assert lines[:first_wait - 1] == clean[:first_wait - 1] and lines[first_wait:] == clean[first_wait:]
    assert slipped["correct"] and slipped["attempt"] == p.answer
    # the slip has its own random stream: the traces that follow are the same with or without it
    rng_a, rng_b = random.Random(1), random.Random(1)
    for _ in range(3):
        teacher.long_trace(p, rng_a, teacher.TeacherSettings(**base))
        teacher.long_trace(p, rng_b, teacher.TeacherSettings(**base, p_final_misread=1.0))
    assert rng_a.random() == rng_b.random()


def test_trace_filter():
    from longthink.text_world.teacher import well_formed_trace

    assert well_formed_trace("a+4:3=7\nWait, a+4:3=7\nb*3:7=1", "1")
    assert well_formed_trace("a+4:3=7\nWait\na+4:3=7\nb*3:7=1", "1")  # the world's own-line re-check
    assert not well_formed_trace("a+4:3=7\nWaiting\nb*3:7=1", "1")
    assert not well_formed_trace("**Step**3 a+4:3=7", "7")
    assert not well_formed_trace("a+4:3=7\nb*3:7=1\n**", "1")
    assert not well_formed_trace("a+4:3=7", None)
