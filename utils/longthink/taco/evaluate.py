"""Evaluation: Acc@0.5 for REC, accuracy for VQA, the think-answer consistency rate, at any resolution and scale.

A reply is scored with the same readers as the rewards (``longthink.taco.rewards``), so training and evaluation
agree on what a reply says:

* REC is right when the one valid answer box, mapped from the frame the model was given back to the original
  image, overlaps the gold at IoU > 0.5 (Acc@0.5; VLM-R1 ``test_rec_r1.py``: an unreadable answer counts as wrong);
* VQA is right when the one unhedged answer grades equal to the gold (``longthink.grading``);
* a reply is *consistent* when its answer follows from its reasoning (REC: IoU(think box, answer box) ≥ 0.5; VQA:
  the recipe's rule or judge; ``longthink.taco.consistency``). The consistency rate is over all replies: a reply
  without reasoning or without an answer is not consistent.

:func:`evaluate_scales` runs the replies at several TTRS scales and :func:`ttme` fuses them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from longthink.taco.answers import answer_text, is_hedged, parse_reply
from longthink.taco.frames import PixelBounds
from longthink.taco.inference import Replies, generate_replies
from longthink.taco.rewards import RewardSettings, score_replies, valid_answer_box
from longthink.taco.ttrs import choose_scale, fuse, scale_bounds


def score(rows: Sequence[dict], replies: Replies, settings: RewardSettings) -> list[dict[str, Any]]:
    """One record per row: right or wrong, IoU (REC), consistent, well formed, hedged, visual tokens, the reply."""
    framed = [dict(r, given_size=list(g)) for r, g in zip(rows, replies.given_sizes)]
    scores = score_replies(replies.texts, framed, settings)
    out = []
    for row, text, s, tokens in zip(framed, replies.texts, scores, replies.visual_tokens):
        reply = parse_reply(text)
        record = {"id": row["id"], "task": row["task"], "kind": row["kind"], "objects": row.get("objects"),
                  "resolution": row.get("resolution"), "reply": text, "visual_tokens": tokens,
                  "format": s["format"] or 0.0, "consistent": s["consistent"], "tac": s["consistency"] or 0.0,
                  "gold": row["answer"], "given_size": row["given_size"]}
        if row["task"] == "rec":
            record["iou"] = s["rec_accuracy"] or 0.0
            record["correct"] = float(record["iou"] > 0.5)
            box = valid_answer_box(reply, row, settings)
            record["box"] = box
            record["hedged"] = float(len(reply.answers) > 1 or (answer_text(reply) is not None and box is None))
        else:
            record["correct"] = s["vqa_accuracy"] or 0.0
            answer = answer_text(reply)
            record["answer"] = answer
            record["box"] = None
            record["hedged"] = float(len(reply.answers) > 1 or is_hedged(answer, row["answer"]))
        out.append(record)
    return out


def _mean(values: Sequence[float]) -> float | None:
    values = [float(v) for v in values]
    return sum(values) / len(values) if values else None


def summarize(records: Sequence[dict]) -> dict[str, float | None]:
    """``rec_acc50``, ``vqa_acc``, ``acc`` (both tasks pooled), ``consistency``, ``format``, ``hedged``,
    ``visual_tokens`` (mean per question) and the counts."""
    rec = [r for r in records if r["task"] == "rec"]
    vqa = [r for r in records if r["task"] == "vqa"]
    return {
        "rec_acc50": _mean([r["correct"] for r in rec]),
        "vqa_acc": _mean([r["correct"] for r in vqa]),
        "acc": _mean([r["correct"] for r in records]),
        "consistency": _mean([r["consistent"] for r in records]),
        "consistency_rec": _mean([r["consistent"] for r in rec]),
        "consistency_vqa": _mean([r["consistent"] for r in vqa]),
        "format": _mean([r["format"] for r in records]),
        "hedged": _mean([r["hedged"] for r in records]),
        "visual_tokens": _mean([r["visual_tokens"] for r in records]),
        "n_rec": len(rec),
        "n_vqa": len(vqa),
    }


def by_kind(records: Sequence[dict]) -> dict[str, dict[str, float | None]]:
    """Accuracy and consistency per question kind (the error table a diagnosis starts from)."""
    kinds = sorted({r["kind"] for r in records})
    return {k: {"acc": _mean([r["correct"] for r in records if r["kind"] == k]),
                "consistency": _mean([r["consistent"] for r in records if r["kind"] == k]),
                "n": sum(r["kind"] == k for r in records)} for k in kinds}


def evaluate(model, processor, rows: Sequence[dict], settings: RewardSettings, *, bounds: PixelBounds | None = None,
             max_new_tokens: int = 256, batch_size: int = 32) -> list[dict[str, Any]]:
    """Greedy replies to ``rows`` (at ``bounds``), scored."""
    replies = generate_replies(model, processor, rows, bounds=bounds, max_new_tokens=max_new_tokens,
                               batch_size=batch_size)
    return score(rows, replies, settings)


def evaluate_scales(model, processor, rows: Sequence[dict], settings: RewardSettings, *, scales: Sequence[float],
                    base: PixelBounds, train_pixels: int, bound: str = "max", max_new_tokens: int = 256,
                    batch_size: int = 32) -> dict[float, list[dict[str, Any]]]:
    """The scored replies at every TTRS scale (``{scale: records}``)."""
    return {float(s): evaluate(model, processor, rows, settings,
                               bounds=scale_bounds(base, train_pixels=train_pixels, scale=s, bound=bound),
                               max_new_tokens=max_new_tokens, batch_size=batch_size) for s in scales}


def choose_scale_per_task(dev_by_scale: dict[float, list[dict]]) -> dict[str, float]:
    """TTRS's scale for each task, chosen on dev replies at every scale (best accuracy; ties: the scale nearest 1)."""
    tasks = sorted({r["task"] for recs in dev_by_scale.values() for r in recs})
    return {task: choose_scale({s: _mean([r["correct"] for r in recs if r["task"] == task]) or 0.0
                                for s, recs in dev_by_scale.items()}) for task in tasks}


def ttme(records_by_scale: dict[float, list[dict]], *, train_scale: float = 1.0) -> list[dict[str, Any]]:
    """TTME: per row, the record of the scale whose reply the fusion keeps; ``visual_tokens`` is the sum over the K
    scales (the ensemble's compute)."""
    scales = list(records_by_scale)
    if not scales:
        return []
    prefer = scales.index(train_scale) if train_scale in scales else None
    n = len(records_by_scale[scales[0]])
    fused = []
    for i in range(n):
        row_records = [records_by_scale[s][i] for s in scales]
        chosen = fuse(row_records[0]["task"], [r["reply"] for r in row_records], [r["box"] for r in row_records],
                      train_scale_index=prefer)
        record = dict(row_records[chosen], scale=scales[chosen],
                      visual_tokens=sum(r["visual_tokens"] for r in row_records))
        fused.append(record)
    return fused
