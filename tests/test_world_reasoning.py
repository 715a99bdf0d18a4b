"""The reasoning steps: walks that mark each queried attribute, conclusions, boxes, short chains, real mistakes."""

from __future__ import annotations

import random

import pytest

from longthink.vision_world.chains import answers_match
from longthink.vision_world.look import description
from longthink.vision_world.reasoning import (
    ERROR_KINDS,
    OP_ERRORS,
    query_from_expr,
    reason,
    walk_line,
)
from longthink.vision_world.replies import BASE_STYLE, answer_of, reply, think_of
from longthink.vision_world.scenes import (
    GROUNDING_KINDS,
    MULTI_STEP_KINDS,
    QUESTION_KINDS,
    Scene,
    SceneObject,
    generate_examples,
    iou,
    parse_box,
)

EXAMPLES = generate_examples(len(QUESTION_KINDS) * 30, seed=5)


def test_walk_line_marks_each_attribute_next_to_its_word():
    obj = SceneObject(colour="blue", shape="circle", size="small", row=1, col=1)
    assert walk_line(obj, {"size": "small", "shape": "circle"}) == (
        "b2 sbc small blue circle : small yes circle yes -> yes", True)
    assert walk_line(obj, {"colour": "red"}) == ("b2 sbc small blue circle : red no -> no", False)
    assert walk_line(obj, {"colour": "blue"}, flip="colour")[1] is False
    assert query_from_expr("the large red object") == {"size": "large", "colour": "red"}
    with pytest.raises(ValueError, match="the object"):
        query_from_expr("the object")


def test_gold_reasoning_reaches_the_gold_answer_for_every_kind():
    for ex in EXAMPLES:
        for style in ("long", "short"):
            steps, answer, error_step = reason(ex, style=style)
            assert error_step is None
            assert answers_match(answer, ex["answer"], kind=ex["kind"]), (ex["question"], style, answer)
            assert steps[0].content == description(Scene.from_dict(ex["scene"]))  # every reply looks first


def test_reply_format_think_then_answer():
    for ex in EXAMPLES:
        text = reply(ex)
        assert text.startswith("<think> ") and "</think><answer> " in text and text.endswith(" </answer>")
        assert answers_match(answer_of(text), ex["answer"], kind=ex["kind"])
        think = think_of(text)
        if ex["kind"] in GROUNDING_KINDS:  # the answer's box is the box step's, in the training frame
            assert think.split(" : ")[-1] == answer_of(text)
            assert iou(parse_box(answer_of(text)), ex["box"]) > 0.5
        if BASE_STYLE[ex["kind"]] == "short":
            assert " ... so " in think and think.count(" -> ") <= 2 * 3
        else:
            assert " ... " not in think


def test_referent_walks_stop_at_the_first_yes_and_counts_walk_every_cell():
    where = next(e for e in EXAMPLES if e["kind"] == "where")
    think = think_of(reply(where))
    assert think.split(" . so ")[0].endswith("-> yes") and think.count("-> yes") == 1
    count = next(e for e in EXAMPLES if e["kind"] == "count_cond")
    long = think_of(reply(count, style="long"))
    n_objects = len(count["scene"]["objects"])
    assert long.count(" -> ") == n_objects and long.endswith(f"count {count['answer']}")


def test_count_walks_keep_a_running_tally_after_every_cell_that_the_count_copies():
    """Every cell of a count's walk, empty or not, is followed by the yes marks so far (a fixed successor: the tally
    one cell back, plus one on a yes), so ``count N`` copies the last tally; relation counts too. Referent walks
    carry no tally."""
    import re

    for ex in [e for e in EXAMPLES if e["kind"] in ("count_cond", "spatial_count")]:
        think = think_of(reply(ex, style="long"))
        ends = list(re.finditer(r" \. count (\d+)", think))
        assert ends, think
        for end in ends:
            before = think[: end.start()]
            head = list(re.finditer(r"(?:find (?:[a-z]+ )+?|(?:left of|right of|above|below) [a-h][1-8] ): ", before))[-1]
            body, count = before[head.end():], end.group(1)
            cells = re.split(r" (?=[a-h][1-8] )", body)
            yes = 0
            for cell in cells:
                words = cell.split()
                yes += words[-2] == "yes"
                assert words[-1] == str(yes), (cell, body)
            assert int(count) == yes
            assert len(cells) == 16 - (" left of " in f" {think} " or " right of " in think or " above " in think
                                       or " below " in think)
    where = think_of(reply(next(e for e in EXAMPLES if e["kind"] == "where")))
    assert re.search(r"(-> (yes|no)|[a-h][1-8] \.) \d", where) is None


def test_two_counts_walk_once_with_two_tallies_then_the_last_step_copies_them():
    """Comparisons, sums and differences count two values of one attribute in one walk: every cell, one mark per
    value next to its word, both running tallies (each the one a cell before plus its own mark); ``count A B`` copies
    the last two tallies, and the comparison or sum copies the counts right before it."""
    import re

    seen = set()
    for ex in [e for e in EXAMPLES if e["kind"] in ("compare_counts", "count_arith")]:
        think = think_of(reply(ex, style="long"))
        (va, vb), (ca, cb) = ([next(iter(c.values())) for c in ex["plan"]["conds"]], ex["plan"]["counts"])
        walk = re.fullmatch(rf"(?:[a-h][1-8] \S+ )+find {va} \| {vb} : (.*) \. count (\d+) (\d+) (.*)", think)
        assert walk, think
        body, na, nb, last = walk.group(1), int(walk.group(2)), int(walk.group(3)), walk.group(4)
        cells = re.split(r" (?=[a-h][1-8] )", body)
        assert len(cells) == 16
        tallies = [0, 0]
        for cell in cells:
            words = cell.split()
            if words[1] != ".":
                assert words[-7:-2] == [va, words[-6], vb, words[-4], "->"], cell
                tallies = [tallies[0] + (words[-6] == "yes"), tallies[1] + (words[-4] == "yes")]
            assert [int(w) for w in words[-2:]] == tallies, (cell, body)
        assert [na, nb] == tallies == [ca, cb]
        op = ex["plan"]["op"]
        seen.add(op)
        expected = {"compare": f"{na} > {nb} -> {'yes' if na > nb else 'no'}", "add": f"{na} + {nb} = {na + nb}",
                    "sub": f"{na} - {nb} = {na - nb}"}[op]
        assert last == expected and ex["answer"] == expected.split()[-1]
    assert seen == {"compare", "add", "sub"}


def test_a_two_count_walk_needs_one_attribute_for_both_counts():
    ex = next(e for e in EXAMPLES if e["kind"] == "compare_counts")
    bad = {**ex, "plan": {**ex["plan"], "conds": [{"size": "small", "colour": "red"}, {"size": "large"}]}}
    with pytest.raises(ValueError, match="one attribute"):
        reason(bad)
    bad = {**ex, "plan": {**ex["plan"], "conds": [{"size": "small"}, {"colour": "red"}]}}
    with pytest.raises(ValueError, match="'size' and 'colour'"):
        reason(bad)


def test_short_chains_cut_after_short_lines():
    ex = next(e for e in EXAMPLES if e["kind"] in MULTI_STEP_KINDS and len(e["scene"]["objects"]) > 4
              and e["kind"] == "count_cond")
    for k in (1, 2, 3):
        think = think_of(reply(ex, style="short", short_lines=k))
        assert think.count(" -> ") == k


def test_walks_visit_every_cell_in_the_looks_order_empty_ones_as_a_dot():
    """The next label of a walk is always the next cell (a fixed successor), never "the next occupied cell"."""
    from longthink.vision_world.look import description

    from longthink.vision_world.scenes import Scene

    for ex in [e for e in EXAMPLES if e["kind"] in ("count_cond", "where", "spatial_count")][:30]:
        scene = Scene.from_dict(ex["scene"])
        look = description(scene).split()
        labels = look[0::2]
        think = think_of(reply(ex, style="long"))
        walk = think.split(" find ", 1)[1].split(" : ", 1)[1].split(" . so ")[0].split(" . count ")[0]
        visited = [w for w in walk.split() if w in labels]
        assert visited == labels[: len(visited)], (ex["question"], walk)
        for label, code in zip(labels, look[1::2]):
            if label in visited and code == ".":
                assert f" {label} . " in f" {walk} ", (label, walk)
    count = next(e for e in EXAMPLES if e["kind"] == "count_cond")
    walk = think_of(reply(count, style="long")).split(" : ", 1)[1]
    assert sum(w in {f"{r}{c}" for r in "abcd" for c in "1234"} for w in walk.split(" count ")[0].split()) == 16


def test_each_error_kind_is_a_real_mistake_that_later_steps_follow():
    wrong = {k: [0, 0] for k in ERROR_KINDS}
    for ex in EXAMPLES:
        for kind in OP_ERRORS[ex["plan"]["op"]]:
            steps, answer, at = reason(ex, error=kind, rng=random.Random(ex["id"]))
            if at is None:
                continue
            gold_steps, _, _ = reason(ex)
            assert [s.content for s in steps[:at]] == [s.content for s in gold_steps[:at]]  # right until the slip
            assert steps[at].content != gold_steps[at].content
            wrong[kind][0] += 1
            wrong[kind][1] += not answers_match(answer, ex["answer"], kind=ex["kind"])
    for kind, (n, bad) in wrong.items():
        assert n > 20 and bad / n > 0.3, (kind, n, bad)


def test_bad_style_and_error_name_the_value():
    with pytest.raises(ValueError, match="medium"):
        reason(EXAMPLES[0], style="medium")
    with pytest.raises(ValueError, match="typo"):
        reason(EXAMPLES[0], error="typo")


def test_full_walks_visit_every_cell_and_conclude_at_the_first_yes():
    from longthink.vision_world.chains import ChainTeacher

    teacher = ChainTeacher(error_rate=0.0, seed=0, stop_at_first_yes=False)
    for ex in [e for e in EXAMPLES if e["kind"] in ("where", "colour_of", "ground")][:30]:
        text = reply(ex, stop_at_first_yes=False)
        walk = think_of(text).split(" find ")[1].split(" . so ")[0]
        assert walk.count(" -> ") == len(ex["scene"]["objects"])
        assert answers_match(answer_of(text), ex["answer"], kind=ex["kind"])
        chain = teacher.chain(ex)
        assert " ".join(s["content"] for s in chain.steps[:-1]) == think_of(text)
    for kind in ("selection", "location"):  # mistakes stay real mistakes on full walks
        wrong = 0
        for ex in [e for e in EXAMPLES if e["kind"] == "where"]:
            _, answer, _ = reason(ex, error=kind, rng=random.Random(1), stop_at_first_yes=False)
            wrong += answer != ex["answer"]
        assert wrong >= 25, kind
