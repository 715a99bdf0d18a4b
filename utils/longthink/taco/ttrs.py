"""Test-time resolution scaling (TTRS) and the multi-scale ensemble (TTME).

The claim (card §1): accuracy falls when the inference resolution differs from training; rescaling the input at test
time recovers it at balanced compute, and an ensemble over scales adds out-of-distribution gains. Scales and fusion
are not published; the kit's versions (card §2.5):

* **TTRS**: at scale ``s`` the processor's ``max_pixels`` becomes ``s × train_pixels`` (the pixels the model was
  trained at: the tiny world's 112 × 112 scenes, VLM-R1's 12,845,056 at paper scale). ``bound: both`` also raises
  ``min_pixels`` to the same target, so an image *smaller* than the target is enlarged too (the tiny world's 84 px
  shift needs it; with ``max`` only, the card's reading, small images pass unchanged). ``s`` is chosen per task from
  ``ttrs_scales`` on the dev split (:func:`choose_scale`), never on the evaluation set.
* **TTME**: the replies at K scales are fused: REC takes the *medoid* box (highest mean IoU to the other scales'
  boxes, all mapped to the original frame); VQA a majority vote over the answers, a tie going to the training scale
  (s = 1). The fused reply is the chosen scale's reply, so it is scored like any other.
* **Compute** is reported as visual tokens (one per 28 × 28 pixels of the image the model was given): TTRS costs
  what its one scale costs, TTME the sum over its K scales.
"""

from __future__ import annotations

import collections
from collections.abc import Sequence

from longthink.taco.answers import answer_text, normalise, parse_reply
from longthink.taco.consistency import iou
from longthink.taco.frames import FACTOR, PixelBounds

BOUND_MODES = ("max", "both")


def scale_bounds(base: PixelBounds, *, train_pixels: int, scale: float, bound: str = "max") -> PixelBounds:
    """The processor bounds at TTRS scale ``s``: ``max_pixels = s × train_pixels`` (and ``min_pixels`` with
    ``bound="both"``)."""
    if bound not in BOUND_MODES:
        raise ValueError(f"unknown ttrs_bound {bound!r}; known: {list(BOUND_MODES)}")
    if not (isinstance(train_pixels, int) and train_pixels >= 1):
        raise ValueError(f"ttrs_train_pixels must be an int >= 1, got {train_pixels!r}")
    if not (isinstance(scale, (int, float)) and scale > 0):
        raise ValueError(f"a TTRS scale must be a positive number, got {scale!r}")
    target = max(FACTOR * FACTOR, int(round(train_pixels * scale)))
    if bound == "both":
        return PixelBounds(target, target)
    return PixelBounds(min(base.min_pixels, target), target)


def choose_scale(accuracy_by_scale: dict[float, float]) -> float:
    """The best scale on the dev split; ties go to the scale closest to 1 (the training resolution)."""
    if not accuracy_by_scale:
        raise ValueError("no dev results to choose a TTRS scale from")
    best = max(accuracy_by_scale.values())
    return min((s for s, a in accuracy_by_scale.items() if a == best), key=lambda s: (abs(s - 1.0), s))


def medoid(boxes: Sequence[Sequence[float] | None]) -> int | None:
    """Index of the box with the highest mean IoU to the other (valid) boxes; ``None`` if no box is valid.
    With one valid box it is chosen; ties go to the earlier index."""
    valid = [i for i, b in enumerate(boxes) if b is not None]
    if not valid:
        return None
    if len(valid) == 1:
        return valid[0]

    def score(i: int) -> float:
        return sum(iou(boxes[i], boxes[j]) for j in valid if j != i) / (len(valid) - 1)

    return max(valid, key=lambda i: (score(i), -i))


def majority(answers: Sequence[str | None], *, prefer: int | None = None) -> int | None:
    """Index of a reply carrying the most common (normalised) answer; a tie prefers the reply ``prefer`` (the
    training scale's) if it is among the tied, else the earliest. ``None`` if no reply has an answer."""
    normed = [normalise(a) if a else "" for a in answers]
    counts = collections.Counter(a for a in normed if a)
    if not counts:
        return None
    top = max(counts.values())
    tied = {a for a, c in counts.items() if c == top}
    if prefer is not None and normed[prefer] in tied:
        return prefer
    return next(i for i, a in enumerate(normed) if a in tied)


def fuse(task: str, replies: Sequence[str], boxes_original: Sequence[Sequence[float] | None], *,
         train_scale_index: int | None) -> int:
    """Which of the K replies TTME keeps for one row (REC: the medoid box; VQA: the majority answer).
    A row where nothing is readable keeps the training scale's reply."""
    if task == "rec":
        chosen = medoid(boxes_original)
    else:
        chosen = majority([answer_text(parse_reply(r)) for r in replies], prefer=train_scale_index)
    if chosen is None:
        return train_scale_index if train_scale_index is not None else 0
    return chosen
