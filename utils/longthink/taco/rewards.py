"""TACO's rewards, in a registry, each with TRL's reward-function signature.

``REWARDS`` maps a name to a scorer; :func:`reward_functions` turns names into callables that ``GRPOTrainer`` calls
as ``f(prompts=..., completions=..., completion_ids=..., **columns)`` and that return one float (or ``None``: "does
not apply to this sample", which TRL ignores) per completion. The dataset columns they read: ``task`` (``rec`` or
``vqa``), ``answer`` (the gold text), ``box`` (the gold box, original pixel frame), ``image_size`` (``[W, H]`` of the
original image), ``question``, and optionally ``given_size`` (``[w̄, h̄]`` the model saw; else recomputed with
``smart_resize`` from the pixel bounds, card §2.5).

* ``format`` (0/1): exactly one ``<think>`` block then one ``<answer>`` block and nothing else; a REC answer holds
  exactly one valid box, a VQA answer one value (no hedge).
* ``rec_accuracy`` (REC only): continuous IoU of the answer box with the gold, in the original frame (VLM-R1's
  ``iou_reward``; ``iou_plus=1`` for its pixel-inclusive convention).
* ``vqa_accuracy`` (VQA only): 1 iff the one answer is not hedged and ``longthink.grading.grade`` accepts it.
* ``consistency`` (TAC): REC ``tac_rec_mode`` over (think box, answer box, gold); VQA 1 iff the reasoning supports
  the answer (tiny: a rule; paper: an LLM judge) and the answer is right (``longthink.taco.consistency``).

Guarantees (tests/test_taco_rewards.py checks them on many adversarial strings): a reward never raises, whatever
the completion or column; and a hedged answer ("A or B or C", several answer blocks, several boxes), an empty
answer, a box outside the image or with a NaN never earns more than an honest wrong answer.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import Any

from longthink.taco.answers import (
    Reply,
    answer_box,
    answer_text,
    box_is_valid,
    find_boxes,
    is_hedged,
    parse_reply,
    think_box,
)
from longthink.taco.consistency import rec_agrees, tac_rec, vqa_supports
from longthink.taco.frames import PixelBounds, given_size, to_original

TASKS = ("rec", "vqa")


class RewardConfigError(ValueError):
    """The reward settings cannot score a batch (e.g. ``tac_vqa: judge`` without a judge); stops the run."""
ROW_KEYS = ("task", "answer", "box", "image_size", "given_size", "question", "kind")


@dataclasses.dataclass
class RewardSettings:
    """What the rewards need besides the reply and its row (recipe keys of the ``grpo`` stage)."""

    bounds: PixelBounds = dataclasses.field(default_factory=lambda: PixelBounds(28 * 28, 448 * 448))
    iou_plus: float = 0.0  # 1.0: pixel-inclusive boxes (VLM-R1); 0.0: exclusive corners (the tiny world)
    tac_rec_mode: str = "triple"
    tac_no_think_value: float = 0.0
    tac_vqa: str = "last_value"  # a rule of consistency.VQA_RULES, or "judge"
    judge: Callable[[list[dict]], list[float]] | None = None  # the LLM judge (tac_vqa: judge)


# ------------------------------------------------------------------------------------------------ one reply
def _frames(row: dict, settings: RewardSettings) -> tuple[tuple[int, int], tuple[int, int]]:
    """``(given (w̄, h̄), original (W, H))`` for a row."""
    w, h = (int(v) for v in row["image_size"])
    given = row.get("given_size")
    given = tuple(int(v) for v in given) if given else given_size((w, h), settings.bounds)
    return given, (w, h)


def original_box(box, row: dict, settings: RewardSettings) -> list[float] | None:
    """``box`` mapped to the original image's frame, if it is one valid box in the frame the model was given."""
    given, original = _frames(row, settings)
    if not box_is_valid(box, width=given[0], height=given[1]):
        return None
    return to_original(box, given=given, original=original)


def valid_answer_box(reply: Reply, row: dict, settings: RewardSettings) -> list[float] | None:
    """The answer box in the original frame (None when the answer holds no valid box)."""
    return original_box(answer_box(reply), row, settings)


def valid_think_box(reply: Reply, row: dict, settings: RewardSettings) -> list[float] | None:
    """The last box of the reasoning in the original frame (None when there is no valid one)."""
    return original_box(think_box(reply), row, settings)


def _vqa_answer(reply: Reply, row: dict) -> str | None:
    """The one unhedged answer of a VQA reply."""
    answer = answer_text(reply)
    if answer is None or is_hedged(answer, str(row.get("answer", ""))):
        return None
    return answer


def format_score(reply: Reply, row: dict, settings: RewardSettings) -> float:
    if not reply.well_formed:
        return 0.0
    if row.get("task") == "rec":
        return float(len(find_boxes(answer_text(reply))) == 1 and valid_answer_box(reply, row, settings) is not None)
    return float(_vqa_answer(reply, row) is not None)


def rec_accuracy_score(reply: Reply, row: dict, settings: RewardSettings) -> float | None:
    if row.get("task") != "rec":
        return None
    from longthink.taco.consistency import iou

    box = valid_answer_box(reply, row, settings)
    return 0.0 if box is None else iou(box, [float(v) for v in row["box"]], plus=settings.iou_plus)


def vqa_correct(reply: Reply, row: dict) -> bool:
    from longthink.grading import grade

    answer = _vqa_answer(reply, row)
    return answer is not None and grade(answer, str(row.get("answer", "")))


def vqa_accuracy_score(reply: Reply, row: dict, settings: RewardSettings) -> float | None:
    if row.get("task") != "vqa":
        return None
    return float(vqa_correct(reply, row))


def rec_consistency_score(reply: Reply, row: dict, settings: RewardSettings) -> float:
    ba = valid_answer_box(reply, row, settings)
    bt = valid_think_box(reply, row, settings) if think_box(reply) is not None else None
    if think_box(reply) is not None and bt is None:  # an invalid think box is no better than none
        return 0.0
    return tac_rec(bt, ba, [float(v) for v in row["box"]], mode=settings.tac_rec_mode,
                   no_think_value=settings.tac_no_think_value, plus=settings.iou_plus)


def vqa_supported(reply: Reply, row: dict, settings: RewardSettings) -> bool:
    """The tiny rule's half of VQA TAC: the reasoning supports the (unhedged, single) answer."""
    answer = _vqa_answer(reply, row)
    return answer is not None and len(reply.thinks) == 1 and vqa_supports(reply.think, answer, rule=settings.tac_vqa)


def consistency_scores(replies: Sequence[Reply], rows: Sequence[dict], settings: RewardSettings) -> list[float | None]:
    """TAC for a batch (the judge, when used, sees all VQA items of the batch at once)."""
    out: list[float | None] = [None] * len(replies)
    judged: list[int] = []
    for i, (reply, row) in enumerate(zip(replies, rows)):
        task = row.get("task")
        if task == "rec":
            out[i] = _guarded(rec_consistency_score, reply, row, settings)
        elif task == "vqa":
            if settings.tac_vqa == "judge":
                ok = _vqa_answer(reply, row) is not None and len(reply.thinks) == 1
                out[i] = 0.0
                if ok:
                    judged.append(i)
            else:
                out[i] = float(_guarded(lambda r, w, s: vqa_supported(r, w, s) and vqa_correct(r, w),
                                        reply, row, settings) or 0.0)
    if judged:
        if settings.judge is None:
            raise RewardConfigError("tac_vqa: judge needs a judge (longthink.taco.judge.LLMJudge) in the reward settings")
        items = [{"question": rows[i].get("question"), "think": replies[i].think, "answer": answer_text(replies[i]),
                  "gold": rows[i].get("answer")} for i in judged]
        try:
            verdicts = list(settings.judge(items))
        except Exception:  # a failing judge pays nothing rather than stopping training
            verdicts = [0.0] * len(items)
        for i, v in zip(judged, verdicts):
            out[i] = float(v) if isinstance(v, (int, float)) and math.isfinite(v) else 0.0
    return out


def consistent(reply: Reply, row: dict, settings: RewardSettings) -> bool:
    """The evaluation's consistency test: the answer follows from the reasoning (REC: IoU(B_t, B_a) ≥ 0.5)."""
    if row.get("task") == "rec":
        return rec_agrees(valid_think_box(reply, row, settings), valid_answer_box(reply, row, settings))
    return vqa_supported(reply, row, settings)


# ------------------------------------------------------------------------------------------------- registry
def _per_item(score: Callable[[Reply, dict, RewardSettings], float | None]):
    def batch(replies: Sequence[Reply], rows: Sequence[dict], settings: RewardSettings) -> list[float | None]:
        return [_guarded(score, r, w, settings) for r, w in zip(replies, rows)]

    return batch


def _guarded(score, reply: Reply, row: dict, settings: RewardSettings) -> float | None:
    """Run one scorer; an exception or a non-finite number is 0, ``None`` stays ``None``."""
    try:
        value = score(reply, row, settings)
    except Exception:
        return 0.0
    if value is None:
        return None
    try:
        value = float(value)
    except (TypeError, ValueError):
        return 0.0
    return value if math.isfinite(value) else 0.0


REWARDS: dict[str, Callable[[Sequence[Reply], Sequence[dict], RewardSettings], list[float | None]]] = {
    "format": _per_item(format_score),
    "rec_accuracy": _per_item(rec_accuracy_score),
    "vqa_accuracy": _per_item(vqa_accuracy_score),
    "consistency": consistency_scores,
}


def _column(values: Any, i: int) -> Any:
    if isinstance(values, (list, tuple)):
        return values[i] if i < len(values) else None
    return values


def rows_from_kwargs(n: int, kwargs: dict) -> list[dict]:
    """One row dict per completion from TRL's column kwargs (lists aligned with the completions)."""
    return [{k: _column(kwargs[k], i) for k in ROW_KEYS if k in kwargs} for i in range(n)]


def reward_function(name: str, settings: RewardSettings):
    """The TRL reward function ``name`` (its ``__name__`` is what TRL logs: ``rewards/<name>/mean``)."""
    if name not in REWARDS:
        raise ValueError(f"unknown reward {name!r}; known: {sorted(REWARDS)}")
    batch = REWARDS[name]

    def reward(prompts=None, completions=None, completion_ids=None, **kwargs) -> list[float | None]:
        try:
            completions = list(completions or [])
        except TypeError:
            return []
        replies = [parse_reply(c) for c in completions]
        rows = rows_from_kwargs(len(replies), kwargs)
        try:
            scores = batch(replies, rows, settings)
        except RewardConfigError:
            raise  # a configuration error (e.g. tac_vqa: judge without a judge) must stop the run
        except Exception:
            scores = [0.0] * len(replies)
        return [s if s is None else (s if math.isfinite(s) else 0.0) for s in scores]

    reward.__name__ = name
    reward.__qualname__ = name
    return reward


def reward_functions(names: Sequence[str], settings: RewardSettings) -> list:
    return [reward_function(n, settings) for n in names]


def score_replies(replies: Sequence[Any], rows: Sequence[dict], settings: RewardSettings,
                  names: Sequence[str] = tuple(REWARDS)) -> list[dict[str, float | None]]:
    """Every reward of every reply (the notebook's tables and the evaluation use this), plus ``consistent``."""
    parsed = [parse_reply(r) for r in replies]
    columns = {n: REWARDS[n](parsed, rows, settings) for n in names}
    out = []
    for i, (reply, row) in enumerate(zip(parsed, rows)):
        scores = {n: columns[n][i] for n in names}
        scores["consistent"] = float(bool(_guarded(lambda r, w, s: float(consistent(r, w, s)), reply, row, settings)))
        out.append(scores)
    return out
