"""The visual world's scenes: deterministic rendering, questions with gold answers, boxes in pixels."""

from __future__ import annotations

import random

import numpy as np
import pytest

from longthink.vision_world.scenes import (
    COLOURS,
    GROUNDING_KINDS,
    QUESTION_KINDS,
    Scene,
    SceneError,
    box,
    example_image,
    generate_examples,
    iou,
    make_scene,
    parse_box,
    referring_expression,
    render,
)


def test_same_seed_same_examples_and_pixels():
    a = generate_examples(30, seed=3)
    b = generate_examples(30, seed=3)
    assert a == b
    assert generate_examples(30, seed=4) != a
    assert np.array_equal(np.asarray(example_image(a[0])), np.asarray(example_image(b[0])))


def test_every_kind_has_gold_answers():
    examples = generate_examples(9 * 20, seed=0)
    assert {e["kind"] for e in examples} == set(QUESTION_KINDS)
    for e in examples:
        assert e["answer"], e
        assert e["steps"] >= 1
    assert max(e["steps"] for e in examples) >= 3  # several-step questions exist


def test_gold_answers_are_right():
    rng = random.Random(0)
    for e in generate_examples(200, seed=1):
        scene = Scene.from_dict(e["scene"])
        plan = e["plan"]
        if plan["op"] == "count":
            cond = plan["conds"][0]
            n = sum(all(getattr(o, k) == v for k, v in cond.items()) for o in scene.objects)
            assert e["answer"] == str(n)
        if plan["op"] == "attr":
            obj = scene.at(*plan["obj"])
            assert e["answer"] == getattr(obj, plan["attr"])
        if plan["op"] in ("where", "ground"):
            obj = scene.at(*plan["obj"])
            assert referring_expression(scene, obj) == plan["expr"]
    assert rng  # deterministic helpers only


def test_boxes_are_in_pixels_of_the_rendered_image():
    scene = make_scene(random.Random(5), grid=4)
    for res in (84, 112, 168):
        image = np.asarray(render(scene, res)).astype(int)
        assert image.shape == (res, res, 3)
        for obj in scene.objects:
            x1, y1, x2, y2 = box(obj, grid=4, resolution=res)
            assert 0 <= x1 < x2 <= res and 0 <= y1 < y2 <= res
            cx, cy = (x1 + x2) // 2, (y1 + y2 - 1) // 2 + 1
            assert tuple(image[min(cy, y2 - 1), cx]) == COLOURS[obj.colour]  # the object is drawn inside its box


def test_grounding_examples_carry_boxes_that_scale_with_resolution():
    small = generate_examples(5, seed=2, kinds=list(GROUNDING_KINDS), resolution=112)
    large = generate_examples(5, seed=2, kinds=list(GROUNDING_KINDS), resolution=224)
    for a, b in zip(small, large):
        assert parse_box(a["answer"]) == a["box"]
        assert iou([2 * v for v in a["box"]], b["box"]) > 0.8


def test_cells_are_named_like_the_description():
    scene = make_scene(random.Random(1), grid=4)
    obj = scene.objects[0]
    assert obj.label == "abcd"[obj.row] + str(obj.col + 1) and obj.where == f"cell {obj.label}"
    where = generate_examples(3, seed=0, kinds=["where"])
    assert all(e["answer"] == Scene.from_dict(e["scene"]).at(*e["plan"]["obj"]).label for e in where)
    at = generate_examples(1, seed=0, kinds=["colour_at"])[0]
    assert at["question"].startswith("What colour is the object in cell ")


def test_parse_box_and_iou():
    assert parse_box('<answer>{"bbox_2d": [1, 2, 30, 40]}</answer>') == [1, 2, 30, 40]
    assert parse_box("no box") is None
    assert iou([0, 0, 10, 10], [0, 0, 10, 10]) == 1.0
    assert iou([0, 0, 10, 10], [20, 20, 30, 30]) == 0.0


@pytest.mark.parametrize(
    "call, needle",
    [
        (lambda: generate_examples(3, seed=0, kinds=["counting"]), "counting"),
        (lambda: generate_examples(-1, seed=0), "-1"),
        (lambda: render(make_scene(random.Random(0)), 10), "10"),
        (lambda: make_scene(random.Random(0), grid=1), "grid"),
        (lambda: make_scene(random.Random(0), grid=9), "grid"),
        (lambda: make_scene(random.Random(0), grid=2, max_objects=9), "max_objects"),
    ],
)
def test_bad_input_names_the_value(call, needle):
    with pytest.raises(SceneError, match=needle):
        call()
