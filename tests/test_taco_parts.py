"""TACO's small parts: reading replies, box geometry and TAC modes, frames (smart_resize), TTRS/TTME fusion."""

from __future__ import annotations

import math
import random

import pytest

from longthink.taco import answers, consistency, frames, ttrs
from longthink.taco.frames import FrameError, PixelBounds


# ------------------------------------------------------------------------------------------------ answers
def test_parse_reply_blocks_and_well_formedness():
    r = answers.parse_reply("<think> look </think>\n<answer> 3 </answer>")
    assert r.well_formed and r.think == "look" and answers.answer_text(r) == "3"
    two = answers.parse_reply("<think> a </think><answer> 3 </answer><answer> 4 </answer>")
    assert not two.well_formed and answers.answer_text(two) is None
    assert not answers.parse_reply("<answer> 3 </answer><think> a </think>").well_formed
    assert not answers.parse_reply("<think> a <answer> 3 </answer> </think><answer> 3 </answer>").well_formed
    msg = [{"role": "assistant", "content": [{"type": "text", "text": "<think>x</think><answer>y</answer>"}]}]
    assert answers.parse_reply(msg).well_formed
    for odd in (None, 3, object(), [], [{"content": None}], {"role": "assistant", "content": "<answer>1</answer>"}):
        answers.parse_reply(odd)  # never raises


def test_boxes_in_text_json_and_bad_numbers():
    assert answers.find_boxes('{"bbox_2d": [1, 2.5, 30, 40], "label": "cat"}') == [[1.0, 2.5, 30.0, 40.0]]
    assert answers.find_boxes("[ 1 , 2 , 3 , 4 ] and [5,6,7,8]") == [[1, 2, 3, 4], [5, 6, 7, 8]]
    nan = answers.find_boxes("[nan, 1, 2, 3]")[0]
    assert math.isnan(nan[0]) and not answers.box_is_valid(nan, width=10, height=10)
    assert answers.box_is_valid([0, 0, 10, 10], width=10, height=10)
    for bad in ([0, 0, 11, 10], [-1, 0, 5, 5], [5, 5, 5, 8], [6, 5, 5, 8], [0, 0, math.inf, 1], None, [1, 2, 3]):
        assert not answers.box_is_valid(bad, width=10, height=10)
    r = answers.parse_reply("<think> box [1,1,5,5] then [2,2,6,6] </think><answer> [2,2,6,6] </answer>")
    assert answers.think_box(r) == [2, 2, 6, 6] and answers.answer_box(r) == [2, 2, 6, 6]
    assert answers.answer_box(answers.parse_reply("<answer>[1,1,5,5] [2,2,6,6]</answer>")) is None


@pytest.mark.parametrize("answer,gold,hedged", [
    ("red", "red", False), ("Red.", "red", False), ("3", "3", False), ("red or blue", "red", True),
    ("3/4", "3", True), ("3, 4", "3", True), ("yes, no", "yes", True), ("either", "b2", True), ("3 4", "3", True),
    ("row 1, column 2", "row 1, column 2", False), ("row 1, column 2, row 2", "row 1, column 2", True),
    ("", "3", False), ("3...", "3", True), ("[3,4]", "3", True)])
def test_hedges(answer, gold, hedged):
    assert answers.is_hedged(answer, gold) is hedged


# --------------------------------------------------------------------------------------- geometry and TAC
def test_iou_and_triple_iou():
    a, b = [0, 0, 10, 10], [5, 0, 15, 10]
    assert consistency.iou(a, b) == pytest.approx(50 / 150)
    assert consistency.iou(a, a) == 1.0 and consistency.iou(a, [20, 20, 30, 30]) == 0.0
    assert consistency.triple_iou(a, a, a) == 1.0
    c = [0, 5, 10, 15]
    # a ∩ b ∩ c = [5, 5, 10, 10] = 25; union = 3*100 - (50 + 25 + 50) + 25 = 200
    assert consistency.triple_iou(a, b, c) == pytest.approx(25 / 200)
    assert consistency.iou([0, 0, 9, 9], [0, 0, 9, 9], plus=1) == 1.0
    assert consistency.box_area([0, 0, 9, 9], plus=1) == 100


@pytest.mark.parametrize("mode", sorted(consistency.TAC_REC_MODES))
def test_tac_modes_are_one_for_agreement_and_bounded(mode):
    rng = random.Random(1)
    g = [10, 10, 50, 50]
    assert consistency.tac_rec(g, g, g, mode=mode) == pytest.approx(1.0)
    for _ in range(200):
        boxes = []
        for _ in range(3):
            x, y = rng.uniform(0, 80), rng.uniform(0, 80)
            boxes.append([x, y, x + rng.uniform(1, 30), y + rng.uniform(1, 30)])
        v = consistency.tac_rec(*boxes, mode=mode)
        assert 0.0 <= v <= 1.0
        # TAC never exceeds the answer's own accuracy (IoU with the gold) in triple and min modes
        if mode in ("triple", "min"):
            assert v <= consistency.iou(boxes[1], boxes[2]) + 1e-9
    assert consistency.tac_rec(None, g, g, mode=mode) == 0.0
    assert consistency.tac_rec(g, None, g, mode=mode) == 0.0
    with pytest.raises(ValueError, match="unknown tac_rec_mode 'avg'"):
        consistency.tac_rec(g, g, g, mode="avg")


@pytest.mark.parametrize("think,answer,ok", [
    ("a1 lrc find red : a1 yes count 1 so 1", "1", True), ("count 2 so 2", "3", False),
    ("2 > 1 -> yes", "yes", True), ("2 > 1 -> yes", "no", False), ("so b2 small blue circle", "blue", True),
    ("so b2 small blue circle", "b2", True), ("so b2 small blue circle", "red", False),
    ("The options are (A) and (B); the answer is B", "B", True), ("", "3", False), ("so 3", "", False)])
def test_last_value_rule(think, answer, ok):
    assert consistency.vqa_supports(think, answer, rule="last_value") is ok


def test_unknown_rule_names_the_known_ones():
    with pytest.raises(ValueError, match="unknown VQA consistency rule 'llm'"):
        consistency.vqa_supports("a", "b", rule="llm")


# ------------------------------------------------------------------------------------------------- frames
def test_smart_resize_matches_transformers():
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import smart_resize as reference

    rng = random.Random(0)
    for _ in range(300):
        h, w = rng.randint(28, 3000), rng.randint(28, 3000)
        if max(h, w) / min(h, w) > 200:
            continue
        lo = rng.choice([784, 3136, 12544])
        hi = rng.choice([12544, 50176, 200704, 12845056])
        if lo > hi:
            continue
        assert frames.smart_resize(h, w, PixelBounds(lo, hi)) == reference(h, w, min_pixels=lo, max_pixels=hi)


def test_visual_tokens_and_mapping_back():
    b = PixelBounds(784, 200704)
    assert frames.visual_tokens(112, 112, b) == 16 and frames.visual_tokens(168, 168, b) == 36
    assert frames.visual_tokens(168, 168, PixelBounds(784, 12544)) == 16  # TTRS shrinks 168 px to 112
    assert frames.given_size((168, 168), PixelBounds(784, 12544)) == (112, 112)
    assert frames.to_original([10, 20, 30, 40], given=(112, 112), original=(168, 168)) == [15, 30, 45, 60]
    with pytest.raises(FrameError, match="min_pixels"):
        PixelBounds(100, 10)
    with pytest.raises(FrameError, match="positive height"):
        frames.smart_resize(0, 10, b)


def test_pixel_bounds_as_restores_the_processor():
    from types import SimpleNamespace

    proc = SimpleNamespace(image_processor=SimpleNamespace(size={"shortest_edge": 784, "longest_edge": 200704}))
    with frames.pixel_bounds_as(proc, PixelBounds(12544, 12544)):
        assert frames.processor_bounds(proc) == PixelBounds(12544, 12544)
    assert frames.processor_bounds(proc) == PixelBounds(784, 200704)


# --------------------------------------------------------------------------------------------- TTRS, TTME
def test_scale_bounds_max_and_both():
    base = PixelBounds(784, 200704)
    assert ttrs.scale_bounds(base, train_pixels=12544, scale=1.0, bound="max") == PixelBounds(784, 12544)
    assert ttrs.scale_bounds(base, train_pixels=12544, scale=2.0, bound="both") == PixelBounds(25088, 25088)
    both = ttrs.scale_bounds(base, train_pixels=12544, scale=1.0, bound="both")
    assert frames.given_size((84, 84), both) == (112, 112)  # the small image is enlarged to the training size
    assert frames.given_size((84, 84), ttrs.scale_bounds(base, train_pixels=12544, scale=1.0)) == (84, 84)
    with pytest.raises(ValueError, match="ttrs_bound"):
        ttrs.scale_bounds(base, train_pixels=12544, scale=1.0, bound="min")
    with pytest.raises(ValueError, match="scale"):
        ttrs.scale_bounds(base, train_pixels=12544, scale=0, bound="max")


def test_choose_scale_prefers_the_training_scale_on_ties():
    assert ttrs.choose_scale({0.5: 0.2, 1.0: 0.6, 2.0: 0.6}) == 1.0
    assert ttrs.choose_scale({0.5: 0.7, 1.0: 0.6}) == 0.5
    with pytest.raises(ValueError):
        ttrs.choose_scale({})


def test_medoid_and_majority():
    boxes = [[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60]]
    assert ttrs.medoid(boxes) in (0, 1)
    assert ttrs.medoid([None, [1, 1, 2, 2], None]) == 1 and ttrs.medoid([None, None]) is None
    assert ttrs.majority(["red", "blue", "red"]) == 0
    assert ttrs.majority(["red", "blue", "green"], prefer=1) == 1  # a tie goes to the training scale
    assert ttrs.majority([None, "", None]) is None
    replies = ["<think></think><answer> red </answer>", "<think></think><answer> blue </answer>",
               "<think></think><answer> blue </answer>"]
    assert ttrs.fuse("vqa", replies, [None] * 3, train_scale_index=0) == 1
    assert ttrs.fuse("rec", replies, [None] * 3, train_scale_index=2) == 2  # nothing readable: training scale


# ---------------------------------------------------------------------------------------- the step rule
LOOK = "a1 lrc a2 . a3 syt a4 . b1 . b2 sbc b3 . b4 . c1 . c2 . c3 . c4 . d1 . d2 . d3 . d4 lgs"
WALK_RED = ("find red : a1 lrc large red circle : red yes -> yes a3 syt small yellow triangle : red no -> no "
            "b2 sbc small blue circle : red no -> no d4 lgs large green square : red no -> no .")


TWO_WALK = ("find red | blue : a1 lrc large red circle : red yes blue no -> 1 0 a2 . 1 0 a3 syt small yellow triangle "
            ": red no blue no -> 1 0 b2 sbc small blue circle : red no blue yes -> 1 1 .")


@pytest.mark.parametrize("think,answer,ok", [
    (f"{LOOK} {WALK_RED} count 1", "1", True),
    (f"{LOOK} {WALK_RED} count 2", "2", False),  # the count does not follow from the walk
    (f"{LOOK} find red : a1 lrc large red circle : red yes -> yes a3 syt small yellow triangle : red no -> no ... so 1",
     "1", False),  # an elided walk supports nothing
    (f"{LOOK} {WALK_RED} count 1 find circle : a1 lrc large red circle : circle yes -> yes a3 syt small yellow "
     "triangle : circle no -> no b2 sbc small blue circle : circle yes -> yes d4 lgs large green square : circle no "
     "-> no . count 2 1 > 2 -> no", "no", True),
    (f"{LOOK} {WALK_RED} count 1 find circle : a1 lrc large red circle : circle yes -> yes b2 sbc small blue circle "
     ": circle yes -> yes . count 2 1 + 2 = 4", "4", False),  # wrong sum
    (f"{LOOK} find blue circle : a1 lrc large red circle : blue no circle yes -> no b2 sbc small blue circle : "
     "blue yes circle yes -> yes . so b2 small blue circle", "blue", True),
    (f"{LOOK} find blue circle : a1 lrc large red circle : blue no circle yes -> no b2 sbc small blue circle : "
     "blue yes circle yes -> yes . so a1 large red circle", "red", False),  # concludes a cell marked no
    (f"{LOOK} find b2 : b2 sbc small blue circle . so b2 small blue circle", "circle", True),
    (f"{LOOK} find circle : a1 lrc large red circle : circle yes -> yes . so a1 large red circle find square : "
     "a1 lrc large red circle : square no -> no a3 syt small yellow triangle : square no -> no b2 sbc small blue "
     "circle : square no -> no d4 lgs large green square : square yes -> yes . so d4 large green square a1 left of "
     "d4 : column 1 4 -> yes", "yes", True),
    (f"{LOOK} find circle : a1 lrc large red circle : circle yes -> yes . so a1 large red circle right of a1 : "
     "a3 yes b2 yes d4 yes . count 3", "3", True),
    (f"{LOOK} {WALK_RED.replace('-> yes', '-> yes 1').replace('-> no', '-> no 1')} count 1", "1", True),
    (f"{LOOK} {WALK_RED.replace('-> yes', '-> yes 1').replace('-> no', '-> no 2')} count 1", "1", False),  # tally
    (f"{LOOK} find circle : a1 lrc large red circle : circle yes -> yes . so a1 large red circle right of a1 : "
     "a3 yes 1 b2 yes 2 d4 no 3 . count 3", "3", False),  # the tally counts a no
    ("find red : a1 lrc large red circle : red yes -> yes 1 a2 . 1 a3 syt small yellow triangle : red no -> no 1 "
     "a4 . 1 . count 1", "1", True),
    ("find red : a1 lrc large red circle : red yes -> yes 1 a2 . 2 a3 syt small yellow triangle : red no -> no 1 "
     "a4 . 1 . count 1", "1", False),  # an empty cell's tally is wrong
    (f"{LOOK} {TWO_WALK} count 1 1 1 > 1 -> no", "no", True),
    (f"{LOOK} {TWO_WALK} count 1 1 1 + 1 = 2", "2", True),
    (f"{LOOK} {TWO_WALK} count 1 2 1 + 2 = 3", "3", False),  # the count is not the last tallies
    (f"{LOOK} {TWO_WALK.replace('a2 . 1 0', 'a2 . 1 1')} count 1 1 1 > 1 -> no", "no", False),  # an empty cell's tally
    (f"{LOOK} {TWO_WALK.replace('red yes blue no -> 1 0', 'red yes blue no -> 1 1')} count 1 1", "1", False),
    (f"{LOOK} {TWO_WALK.replace('blue yes -> 1 1', 'red yes -> 1 1')} count 1 1 1 > 1 -> no", "no", False),  # word
    (f"{LOOK} {TWO_WALK} count 1", "1", False),  # one count after a two-count walk
    (f"{LOOK} {TWO_WALK} count 1 1 1 > 1 -> yes", "yes", False),  # wrong comparison
    ("so 3", "3", False), ("", "3", False), ("count 0", "", False),
])
def test_step_rule(think, answer, ok):
    assert consistency.vqa_supports(think, answer, rule="steps") is ok


def test_step_rule_checks_the_restated_words():
    think = (f"{LOOK} find blue circle : a1 lrc large red circle : blue no circle yes -> no b2 sbc small blue circle : "
             "blue yes circle yes -> yes . so b2 small red circle")
    assert not consistency.vqa_supports(think, "red", rule="steps")  # restates b2's words wrongly (probe 4's slip)
    read = f"{LOOK} find b2 : b2 sbc small blue circle . so b2 small green circle"
    assert not consistency.vqa_supports(read, "green", rule="steps")


def test_step_rule_accepts_every_gold_chain_of_the_vision_world_and_no_short_one():
    """The rule reads the world's own replies (conclusions restate the cell's code and words; walks visit every
    cell, empty ones as ``a2 .``): every gold long chain supports its answer, every short several-step chain none."""
    from longthink.vision_world.replies import answer_of, reply, think_of
    from longthink.vision_world.scenes import MULTI_STEP_KINDS, POSITION_KINDS, SINGLE_STEP_KINDS, generate_examples

    for kind in (*SINGLE_STEP_KINDS, *POSITION_KINDS, *MULTI_STEP_KINDS):
        for ex in generate_examples(15, seed=2, kinds=[kind]):
            long = reply(ex, style="long")
            assert consistency.vqa_supports(think_of(long), answer_of(long), rule="steps"), long
            if kind in MULTI_STEP_KINDS:
                short = reply(ex, style="short")
                assert not consistency.vqa_supports(think_of(short), answer_of(short), rule="steps"), short


def test_chain_lengths_by_kind_splits_whole_and_elided_chains_by_part_of_training():
    from longthink.taco.showcase import chain_lengths_by_kind

    def roll(step, index, completion, acc, cons):
        return {"step": step, "index": index, "completion": completion, "vqa_accuracy": acc, "consistency": cons}

    rollouts = [roll(0, 0, "a ... so 3", 1.0, 0.0), roll(0, 0, "count 3", 0.0, 1.0), roll(3, 0, "count 3", 1.0, 1.0),
                roll(3, 1, "so b2", 1.0, 1.0), {"step": 0, "index": 2, "completion": "[ 1 ]", "vqa_accuracy": None}]
    table = chain_lengths_by_kind(rollouts, ["count_cond", "colour_of", "ground"])
    first = next(r for r in table if r["kind"] == "count_cond" and r["part"] == "1/2")
    assert first == {"kind": "count_cond", "part": "1/2", "n": 2, "whole share": 0.5, "acc whole": 0.0,
                     "acc elided": 1.0, "consistency whole": 1.0, "consistency": 0.5}
    late = next(r for r in table if r["kind"] == "count_cond" and r["part"] == "2/2")
    assert late["whole share"] == 1.0 and late["acc elided"] is None
    assert {r["kind"] for r in table} == {"count_cond", "colour_of"}  # REC rows carry no VQA accuracy
    assert chain_lengths_by_kind([], ["ground"]) == []
