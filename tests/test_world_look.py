"""The look: the labelled description (one code per cell), its parser, and one token per world word."""

from __future__ import annotations

import random

import pytest

from longthink.vision_world.look import (
    ATTRIBUTE_WORDS,
    CODES,
    believed_scene,
    cell_accuracy,
    cell_errors,
    code,
    description,
    expand,
    labels,
    parse_description,
    world_words,
)
from longthink.vision_world.replies import reply, think_of
from longthink.vision_world.scenes import QUESTION_KINDS, Scene, generate_examples, make_scene


@pytest.fixture(scope="module")
def world_tokenizer():
    from longthink.vision_world.vlm import build_vision_tokenizer

    return build_vision_tokenizer(vocab_size=400, corpus_size=40, max_number=112)


def test_description_names_every_cell_once_in_reading_order():
    scene = make_scene(random.Random(3))
    words = description(scene).split()
    assert words[0::2] == labels(4) == [f"{r}{c}" for r in "abcd" for c in "1234"]
    for obj in scene.objects:
        assert words[2 * (obj.row * 4 + obj.col) + 1] == code(obj)
        assert expand(code(obj)) == obj.name
    assert words[1::2].count(".") == 16 - len(scene.objects)


def test_codes_are_distinct_initials():
    assert len(CODES) == 2 * 4 * 3
    assert code(make_scene(random.Random(0)).objects[0]) in CODES


def test_parse_description_round_trips_and_scores_cells():
    scene = make_scene(random.Random(5))
    text = "<think> " + description(scene) + " find red : a1 lrc large red circle : red yes -> yes ."
    assert parse_description(text, grid=4) == dict(zip(*[iter(description(scene).split())] * 2))
    assert cell_accuracy(text, scene) == 1.0
    assert believed_scene(parse_description(text, grid=4), grid=4).objects == tuple(
        o.__class__(**{**o.__dict__, "dx": 0.0, "dy": 0.0}) for o in scene.objects)
    wrong = description(scene).split()
    first = next(i for i in range(1, 32, 2) if wrong[i] != ".")
    z, c, s = CODES[wrong[first]]
    other = next(x for x in ATTRIBUTE_WORDS["colour"] if x != c)
    wrong[first] = f"{z[0]}{other[0]}{s[0]}"
    assert cell_accuracy(" ".join(wrong), scene) == 15 / 16
    assert cell_errors(" ".join(wrong), scene)["colour"] == 1
    assert cell_accuracy("The scene: a1", scene) < 1 / 16 + 1e-9


def test_every_label_code_attribute_and_number_is_one_token(world_tokenizer):
    unk = world_tokenizer.unk_token_id
    for word in world_words(4, 112):
        ids = world_tokenizer(word, add_special_tokens=False)["input_ids"]
        assert len(ids) == 1 and ids[0] != unk, (word, world_tokenizer.convert_ids_to_tokens(ids))
    assert {" a1", " d4", " lrc", " syt", " red", " triangle", " small", " 0", " 112", " yes", " no"} <= set(
        world_words(4, 112))


def test_every_reply_is_one_token_per_word_and_decodes_back(world_tokenizer):
    """In running text too: each word of every kind's <think> (both styles) is one token, and decoding is exact."""
    for ex in generate_examples(len(QUESTION_KINDS) * 3, seed=11):
        for style in ("long", "short"):
            text = reply(ex, style=style)
            think = think_of(text)
            ids = world_tokenizer(" " + think, add_special_tokens=False)["input_ids"]
            assert len(ids) == len(think.split()), (ex["kind"], style, world_tokenizer.convert_ids_to_tokens(ids))
            full = world_tokenizer(text, add_special_tokens=False)["input_ids"]
            assert world_tokenizer.decode(full) == text
        q = world_tokenizer(ex["question"], add_special_tokens=False)["input_ids"]
        tokens = world_tokenizer.convert_ids_to_tokens(q)
        for word in ex["question"].rstrip("?.").split():  # the question's attribute words are the walk's tokens
            if any(word in ws for ws in ATTRIBUTE_WORDS.values()):
                assert " " + word in tokens, (ex["question"], tokens)


def test_bad_grid_names_the_value():
    from longthink.vision_world.scenes import SceneError

    with pytest.raises(SceneError, match="grid"):
        make_scene(random.Random(0), grid=9)
    assert Scene(2, ()).grid == 2
