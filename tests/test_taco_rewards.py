"""TACO's rewards: TRL's signature, never raising, and never paying a hack more than an honest wrong answer.

The property tests build, for REC and VQA rows, an honest right reply, honest wrong replies, and many adversarial
replies (hedges, several answer blocks, several boxes, empty answers, boxes outside the image, NaN and infinite
coordinates, broken tags, huge and odd texts). For every reward and every adversarial reply, the reward must not
exceed what the *worst* honest reply earns."""

from __future__ import annotations

import itertools
import math
import random

import pytest

from longthink.taco.frames import PixelBounds
from longthink.taco.rewards import (
    REWARDS,
    RewardConfigError,
    RewardSettings,
    reward_function,
    reward_functions,
    score_replies,
)

SETTINGS = RewardSettings(bounds=PixelBounds(784, 448 * 448), iou_plus=0.0)
NAMES = list(REWARDS)
GOLD_BOX = [30.0, 40.0, 60.0, 70.0]
REC = {"task": "rec", "answer": "[30, 40, 60, 70]", "box": GOLD_BOX, "image_size": [112, 112], "question": "Box it."}


def vqa_row(gold: str) -> dict:
    return {"task": "vqa", "answer": gold, "box": None, "image_size": [112, 112], "question": "How many?"}


def reply(think: str, answer: str) -> str:
    return f"<think> {think} </think><answer> {answer} </answer>"


def box_text(b) -> str:
    return "[ " + " , ".join(str(v) for v in b) + " ]"


def call(name: str, completions, rows, settings=SETTINGS):
    keys = rows[0].keys()
    kwargs = {k: [r.get(k) for r in rows] for k in keys}
    return reward_function(name, settings)(prompts=[None] * len(completions), completions=completions,
                                           completion_ids=None, **kwargs)


# ---------------------------------------------------------------------------------------------- adversaries
def rec_adversaries() -> list[str]:
    g = box_text([30, 40, 60, 70])
    far = box_text([80, 80, 100, 100])
    out = [
        reply(f"box {g}", f"{g} {far}"),  # two boxes in the answer
        reply(f"box {g}", f"{g} or {far}"),
        reply(f"box {g}", g) + f"<answer> {far} </answer>",  # several answer blocks
        f"<answer> {g} </answer><answer> {g} </answer>",
        reply(f"box {g}", ""),  # empty answer
        reply(f"box {g}", "   "),
        reply(f"box {g}", "[ -10 , -10 , 200 , 200 ]"),  # outside the image
        reply(f"box {g}", "[ 30 , 40 , 60 , 700 ]"),
        reply(f"box {g}", "[ 0 , 0 , 113 , 112 ]"),
        reply(f"box {g}", "[ nan , 40 , 60 , 70 ]"),  # NaN / infinite
        reply(f"box {g}", "[ 30 , 40 , inf , 70 ]"),
        reply(f"box {g}", "[ 30 , 40 , 1e999 , 70 ]"),
        reply(f"box {g}", "[ 60 , 70 , 30 , 40 ]"),  # inverted corners
        reply(f"box {g}", "[ 30 , 40 , 30 , 70 ]"),  # zero area
        reply(f"box {g}", '{"bbox_2d": [30, 40, 60, 70], "alt": [80, 80, 100, 100]}'),
        reply(f"box {g}", "[30, 40, 60]"),
        f"<think> box {g} </think>",  # no answer
        f"<answer> {g}",  # unclosed
        f"{g}",  # no tags at all
        "<think><think>" + g + "</think></answer>",
    ]
    return out


def vqa_adversaries(gold: str, other: str) -> list[str]:
    return [
        reply(f"so {gold}", f"{gold} or {other}"),
        reply(f"so {gold}", f"{other} or {gold}"),
        reply(f"so {gold}", f"{gold}/{other}"),
        reply(f"so {gold}", f"{gold}, {other}"),
        reply(f"so {gold}", f"either {gold} or {other}"),
        reply(f"so {gold}", f"{gold} | {other}"),
        reply(f"so {gold}", f"{gold}; {other}"),
        reply(f"so {gold}", f"{gold} {other}"),
        reply(f"so {gold}", f"{gold}..."),
        reply(f"so {gold}", f"{gold}?"),
        reply(f"so {gold}", "yes no") if gold in ("yes", "no") else reply(f"so {gold}", f"{gold} and {other}"),
        reply(f"so {gold}", gold) + f"<answer> {other} </answer>",
        f"<answer> {gold} </answer><answer> {gold} </answer>",
        reply(f"so {gold}", ""),
        reply(f"so {gold}", " "),
        reply(f"so {gold}", f"\\boxed{{{gold}}} \\boxed{{{other}}}"),
        reply(f"so {gold}", f"[{gold}, {other}]"),
        f"<think> so {gold} </think>",
        f"{gold}",
        f"<answer> {gold}",
        reply(f"so {gold}", "nan"),
    ]


NOISE = ["", " ", "\x00", "<think>", "</answer>", "<answer></answer>", "🙂" * 50, "[" * 1000, "<think>" * 500,
         "<answer>" + "9" * 5000 + "</answer>", "[1e308, 1e308, 1e308, 1e308]", "[ -0 , -0 , -0 , -0 ]",
         "<think>[1,2,3,4]</think><answer>[1,2,3,4]</answer>" * 3]


def assert_no_hack_beats_an_honest_reply(name, honest, adversarial, row):
    """Every adversarial reply is paid at most the lowest honest reply's reward (or, like them, nothing)."""
    h = call(name, honest, [row] * len(honest))
    a = call(name, adversarial, [row] * len(adversarial))
    floor = min(v for v in h if v is not None) if any(v is not None for v in h) else None
    for text, value in zip(adversarial, a):
        if floor is None:
            assert value is None, (name, text)
        else:
            assert value is not None and value <= floor + 1e-9, f"{name} pays {value} > {floor} for {text[:80]!r}"


@pytest.mark.parametrize("name", NAMES)
def test_rec_hacks_never_beat_an_honest_wrong_box(name):
    g, far = box_text([30, 40, 60, 70]), box_text([80, 80, 100, 100])
    honest = [reply(f"box {g}", g), reply(f"box {far}", far), reply(f"box {box_text([0, 0, 20, 20])}", "[ 0 , 0 , 20 , 20 ]")]
    adversarial = rec_adversaries() + NOISE
    assert_no_hack_beats_an_honest_reply(name, honest, adversarial, REC)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("gold,other", [("3", "4"), ("yes", "no"), ("red", "blue"), ("b2", "c3"), ("0", "1")])
def test_vqa_hacks_never_beat_an_honest_wrong_answer(name, gold, other):
    row = vqa_row(gold)
    honest = [reply(f"so {gold}", gold), reply(f"so {other}", other), reply(f"count {other}", other)]
    adversarial = vqa_adversaries(gold, other) + NOISE
    assert_no_hack_beats_an_honest_reply(name, honest, adversarial, row)


def test_honest_right_replies_are_paid():
    g = box_text([30, 40, 60, 70])
    rec = call("rec_accuracy", [reply(f"box {g}", g)], [REC])
    assert rec == [pytest.approx(1.0)]
    for gold in ("3", "yes", "red", "b2"):
        row = vqa_row(gold)
        r = reply(f"so {gold}", gold)
        assert call("vqa_accuracy", [r], [row]) == [1.0]
        assert call("format", [r], [row]) == [1.0]
        assert call("consistency", [r], [row]) == [1.0]


def test_rewards_apply_to_their_task_only():
    g = box_text([30, 40, 60, 70])
    rows = [REC, vqa_row("3")]
    comps = [reply(f"box {g}", g), reply("so 3", "3")]
    assert call("rec_accuracy", comps, rows)[1] is None
    assert call("vqa_accuracy", comps, rows)[0] is None


def _random_text(rng: random.Random) -> str:
    pieces = ["<think>", "</think>", "<answer>", "</answer>", "[", "]", ",", " ", "3", "-1", "nan", "inf", "1e9",
              ".", "or", "yes", "no", "red", "{", "}", '"bbox_2d":', "\n", "so", "count", "\\boxed{", "é", "\x00"]
    return "".join(rng.choice(pieces) for _ in range(rng.randint(0, 40)))


@pytest.mark.parametrize("name", NAMES)
def test_rewards_never_raise_on_any_text_or_column(name):
    rng = random.Random(0)
    texts = [_random_text(rng) for _ in range(300)]
    odd_completions = [None, 3, 3.5, {"role": "assistant"}, [{"role": "assistant", "content": None}],
                       [{"role": "assistant", "content": [{"type": "text", "text": "<answer> 3 </answer>"}]}],
                       [], object(), b"<answer>3</answer>", float("nan")]
    rows = [REC, vqa_row("3"), {"task": "vqa"}, {"task": "rec"}, {"task": "rec", "box": "x", "image_size": [0, 0]},
            {"task": "rec", "box": [float("nan")] * 4, "image_size": [112, 112]}, {"task": None}, {}]
    completions = texts + odd_completions
    for row in rows:
        values = call(name, completions, [dict(row, question="q")] * len(completions))
        assert len(values) == len(completions)
        for v in values:
            assert v is None or (isinstance(v, float) and math.isfinite(v) and -1e-9 <= v <= 1 + 1e-9)


def test_trl_signature_and_logged_names():
    fns = reward_functions(NAMES, SETTINGS)
    assert [f.__name__ for f in fns] == NAMES
    import inspect

    for f in fns:
        params = inspect.signature(f).parameters
        assert {"prompts", "completions", "completion_ids"} <= set(params)
        assert any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    # TRL passes extra kwargs (trainer_state, log_extra, log_metric, image): accepted and ignored
    out = fns[0](prompts=["p"], completions=["<think> a </think><answer> 3 </answer>"], completion_ids=[[1]],
                 trainer_state=None, log_extra=lambda *a: None, log_metric=lambda *a: None, image=[None],
                 task=["vqa"], answer=["3"], box=[None], image_size=[[112, 112]])
    assert out == [1.0]


def test_boxes_are_scored_in_the_original_frame():
    # the model saw a 224 x 224 version of a 112 x 112 image (given_size); its box is in that frame
    row = dict(REC, given_size=[224, 224])
    doubled = box_text([60, 80, 120, 140])
    assert call("rec_accuracy", [reply(f"box {doubled}", doubled)], [row]) == [pytest.approx(1.0)]
    assert call("rec_accuracy", [reply(f"box {box_text([30, 40, 60, 70])}", box_text([30, 40, 60, 70]))],
                [row])[0] < 0.5


def test_iou_plus_is_the_inclusive_convention():
    b = box_text([30, 40, 59, 69])
    inclusive = RewardSettings(bounds=SETTINGS.bounds, iou_plus=1.0)
    assert call("rec_accuracy", [reply("", b)], [REC])[0] < call("rec_accuracy", [reply("", b)], [REC], inclusive)[0]


@pytest.mark.parametrize("mode", ["triple", "product", "min"])
def test_consistency_pays_agreement_of_think_answer_and_gold(mode):
    settings = RewardSettings(bounds=SETTINGS.bounds, tac_rec_mode=mode)
    g, off = box_text([30, 40, 60, 70]), box_text([35, 45, 65, 75])
    agree = call("consistency", [reply(f"box {g}", g)], [REC], settings)[0]
    disagree = call("consistency", [reply(f"box {off}", g)], [REC], settings)[0]
    no_think_box = call("consistency", [reply("so b2", g)], [REC], settings)[0]
    assert agree == pytest.approx(1.0) and 0 < disagree < agree and no_think_box == 0.0
    assert call("consistency", [reply("so b2", g)], [REC],
                RewardSettings(bounds=SETTINGS.bounds, tac_rec_mode=mode, tac_no_think_value=0.5))[0] == 0.5


def test_vqa_consistency_needs_support_and_truth():
    row = vqa_row("3")
    assert call("consistency", [reply("count 3 so 3", "3")], [row]) == [1.0]
    assert call("consistency", [reply("count 2 so 2", "3")], [row]) == [0.0]  # think and answer disagree
    assert call("consistency", [reply("count 4 so 4", "4")], [row]) == [0.0]  # consistent but wrong


def test_the_judge_is_called_once_per_batch_and_a_missing_judge_is_a_config_error():
    calls = []

    def judge(items):
        calls.append(len(items))
        return [1.0 if item["answer"] == item["gold"] else 0.0 for item in items]

    settings = RewardSettings(bounds=SETTINGS.bounds, tac_vqa="judge", judge=judge)
    rows = [vqa_row("3"), vqa_row("3"), vqa_row("3")]
    out = call("consistency", [reply("x", "3"), reply("x", "4"), reply("x", "3 or 4")], rows, settings)
    assert out == [1.0, 0.0, 0.0] and calls == [2]  # the hedge never reaches the judge
    with pytest.raises(RewardConfigError, match="judge"):
        call("consistency", [reply("x", "3")], [vqa_row("3")], RewardSettings(tac_vqa="judge"))

    def broken(items):
        raise RuntimeError("judge server down")

    assert call("consistency", [reply("x", "3")], [vqa_row("3")],
                RewardSettings(tac_vqa="judge", judge=broken)) == [0.0]


def test_unknown_reward_names_the_known_ones():
    with pytest.raises(ValueError, match="unknown reward 'acc'.*consistency"):
        reward_function("acc", SETTINGS)


def test_score_replies_reports_every_reward_and_consistency():
    g = box_text([30, 40, 60, 70])
    scores = score_replies([reply(f"box {g}", g), reply("so 3", "4")], [REC, vqa_row("3")], SETTINGS)
    assert scores[0]["consistent"] == 1.0 and scores[0]["rec_accuracy"] == pytest.approx(1.0)
    assert scores[1]["consistent"] == 0.0 and scores[1]["vqa_accuracy"] == 0.0
    assert set(itertools.chain(*scores)) == {*NAMES, "consistent"}
