"""TACO's exercises (``longthink.exercises``): the triple-IoU think-answer consistency reward for a box, the ADS
sampling weight from the ECDF percentile band, and mapping a box from the resized image back to the original frame.
Each is checked against the function the kit itself runs (``longthink.taco.consistency.tac_rec``,
``longthink.taco.ads.DifficultyTracker``, ``longthink.taco.frames``)."""

from __future__ import annotations

import random

from longthink.exercises import Exercise, close
from longthink.taco.ads import DifficultyTracker, band_weights, ecdf_midrank
from longthink.taco.consistency import tac_rec, triple_iou
from longthink.taco.frames import PixelBounds, given_size, smart_resize, to_original


# ------------------------------------------------------------------------------------------------ triple IoU
def _tac(think_box, answer_box, gold) -> float:
    return tac_rec(think_box, answer_box, gold, mode="triple", no_think_value=0.0, plus=0.0)


def _box(rng: random.Random, size: int = 112) -> list[int]:
    x1, y1 = rng.randint(0, size - 8), rng.randint(0, size - 8)
    return [x1, y1, rng.randint(x1 + 1, size), rng.randint(y1 + 1, size)]


def _near(rng: random.Random, box: list[int], jitter: int) -> list[int]:
    x1, y1, x2, y2 = (v + rng.randint(-jitter, jitter) for v in box)
    return [x1, y1, max(x1 + 1, x2), max(y1 + 1, y2)]


def _tac_cases(rng: random.Random) -> list[tuple]:
    # (think_box, answer_box, gold)
    g = [10, 10, 50, 50]
    edge = [
        (g, g, g),                                   # all three agree: 1
        ([10, 10, 50, 50], [10, 10, 50, 50], [30, 30, 70, 70]),  # think = answer, both off the gold
        ([60, 60, 90, 90], [10, 10, 50, 50], g),     # answer right, reasoning elsewhere: 0 (the hack TAC stops)
        ([10, 10, 30, 50], [30, 10, 50, 50], g),     # think and answer only touch: 0
        ([0, 0, 100, 100], [10, 10, 50, 50], g),     # a huge think box: the union grows
        ([20, 20, 40, 40], [15, 15, 45, 45], g),     # nested boxes
        ([10, 10, 50, 50], [20, 0, 60, 40], [0, 20, 40, 60]),   # three partial overlaps (inclusion-exclusion)
        (None, [10, 10, 50, 50], g),                 # no box in the reasoning: 0
        ([10, 10, 50, 50], None, g),                 # no answer box: 0
        ([10, 10, 10, 50], [10, 10, 50, 50], g),     # a zero-width think box
    ]
    rand = []
    for _ in range(50):
        gold = _box(rng)
        answer = _near(rng, gold, rng.choice([0, 3, 10, 30]))
        think = _near(rng, answer, rng.choice([0, 2, 8, 40])) if rng.random() < 0.85 else _box(rng)
        rand.append((think, answer, gold))
    return edge + rand


# ----------------------------------------------------------------------------------------------------- ADS
def _ads(mean_rewards, p_lo, p_hi, w_min) -> list[float]:
    tracker = DifficultyTracker(len(mean_rewards), p_lo=p_lo, p_hi=p_hi, w_min=w_min)
    for i, r in enumerate(mean_rewards):
        tracker.record(i, r)
    return tracker.weights()


def _ads_cases(rng: random.Random) -> list[tuple]:
    # (mean_rewards, p_lo, p_hi, w_min)
    edge = [
        ([0.0, 0.25, 0.5, 0.75, 1.0], 0.2, 0.8, 0.1),   # distinct means: the ends are rare
        ([0.0, 0.0, 0.0, 1.0], 0.2, 0.8, 0.1),          # ties sit at their mid-rank
        ([0.5], 0.2, 0.8, 0.1),                         # one sample: position 0.5
        ([0.3, 0.3, 0.3], 0.2, 0.8, 0.25),              # all tied: all favoured
        ([0.0, 1.0], 0.25, 0.75, 0.1),                  # positions 0.25 and 0.75: the band is closed
        ([1.0, 0.0, 0.5, 0.5, 0.125, 0.875], 0.3, 0.7, 0.0),
    ]
    rand = []
    levels = [0.0, 0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 1.0]  # group means of G = 8 0/1 rewards
    for _ in range(50):
        lo = rng.choice([0.1, 0.2, 0.25, 0.3])
        rand.append(([rng.choice(levels) for _ in range(rng.randint(1, 12))], lo, rng.choice([0.7, 0.75, 0.8, 0.9]),
                     rng.choice([0.0, 0.1, 0.2])))
    return edge + rand


# --------------------------------------------------------------------------------------------- box mapping
def _map_back(box, original, max_pixels) -> list[float]:
    bounds = PixelBounds(28 * 28, max_pixels)
    return [round(v, 6) for v in to_original(box, given=given_size(tuple(original), bounds), original=tuple(original))]


def _map_cases(rng: random.Random) -> list[tuple]:
    # (box in the given frame, original (W, H), max_pixels)
    edge = [
        ([28, 28, 84, 84], (112, 112), 112 * 112),       # already a multiple of 28 within the bound: unchanged
        ([0, 0, 56, 56], (168, 168), 112 * 112),         # too many pixels: shrunk to 112 x 112, boxes grow 1.5x
        ([10, 20, 30, 40], (100, 60), 448 * 448),        # rounded to 112 x 56
        ([14, 14, 70, 42], (640, 480), 224 * 224),       # a photo: shrunk (floored to 28s) and mapped back
        ([0, 0, 28, 28], (84, 84), 112 * 112),           # a small image passes at 84 x 84
    ]
    rand = []
    for _ in range(40):
        w, h = rng.randint(40, 900), rng.randint(40, 900)
        mp = rng.choice([112 * 112, 224 * 224, 448 * 448])
        gw, gh = given_size((w, h), PixelBounds(28 * 28, mp))
        x1, y1 = rng.randint(0, gw - 2), rng.randint(0, gh - 2)
        rand.append(([x1, y1, rng.randint(x1 + 1, gw), rng.randint(y1 + 1, gh)], (w, h), mp))
    return edge + rand


EXERCISES: dict[str, Exercise] = {
    "taco.triple_iou": Exercise(
        name="taco.triple_iou",
        signature="tac_rec(think_box, answer_box, gold)",
        task=("TACO's think-answer consistency reward for a grounding reply. think_box is the last box stated in "
              "<think> (or None), answer_box the box in <answer> (or None), gold the true box; each [x1, y1, x2, y2] "
              "in the original image's pixels. Return the triple IoU |T ∩ A ∩ G| / |T ∪ A ∪ G| (areas of "
              "[x1, y1, x2, y2] are max(0, x2 - x1) * max(0, y2 - y1); the union of three boxes by inclusion-"
              "exclusion), 0.0 when there is no answer box or no think box, and 0.0 when the union is empty."),
        reference=_tac,
        cases=_tac_cases,
        compare=close(1e-6),
        hint=("the intersection of two boxes is [max x1, max y1, min x2, min y2]; |T ∪ A ∪ G| = |T| + |A| + |G| - "
              "|T∩A| - |A∩G| - |T∩G| + |T∩A∩G|."),
        solution=(tac_rec, triple_iou),
    ),
    "taco.ads_weights": Exercise(
        name="taco.ads_weights",
        signature="ads_weights(mean_rewards, p_lo, p_hi, w_min)",
        task=("Adaptive difficulty sampling. mean_rewards[i] is the mean reward of training prompt i's latest GRPO "
              "group. Return one sampling weight per prompt: its ECDF position p_i = (#{r < r_i} + 0.5 * #{r = r_i}) "
              "/ n over all prompts (ties at their mid-rank), and weight 1.0 if p_lo <= p_i <= p_hi (moderate "
              "difficulty), else w_min."),
        reference=_ads,
        cases=_ads_cases,
        compare=close(1e-9),
        hint="count the values below and equal to r_i; the band is closed at both ends.",
        solution=(ecdf_midrank, band_weights, DifficultyTracker.weights),
    ),
    "taco.map_back": Exercise(
        name="taco.map_back",
        signature="map_back(box, original, max_pixels)",
        task=("Qwen2-VL resizes an original (W, H) image before it sees it (smart_resize): h̄ = round(H / 28) * 28 "
              "and w̄ = round(W / 28) * 28 (at least 28); if h̄ * w̄ > max_pixels, with beta = sqrt(H * W / "
              "max_pixels), h̄ = floor(H / beta / 28) * 28 and w̄ = floor(W / beta / 28) * 28 (at least 28). The "
              "model answers its box in pixels of that w̄ × h̄ image. Return the box [x1, y1, x2, y2] mapped back to "
              "the original frame: x * W / w̄, y * H / h̄, as floats. (min_pixels is 28 * 28 here, so no image grows.)"),
        reference=_map_back,
        cases=_map_cases,
        compare=close(1e-6),
        hint="compute (w̄, h̄) first (mind round versus floor), then scale x by W / w̄ and y by H / h̄.",
        solution=(smart_resize, to_original),
    ),
}
