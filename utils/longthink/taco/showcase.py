"""What the notebook shows: hacked answers and what each reward pays them, and the card's failure modes (think and
answer disagreeing, hedged answers, KL spikes) found in the tiny runs' own rollouts and evaluations."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from longthink.taco.answers import answer_text, find_boxes, is_hedged, parse_reply
from longthink.taco.consistency import is_elided
from longthink.taco.rewards import REWARDS, RewardSettings, score_replies


def _box(b: Sequence[float]) -> str:
    return "[ " + " , ".join(str(int(round(v))) for v in b) + " ]"


def hacked_replies(rec_row: dict, vqa_row: dict) -> list[tuple[str, dict, str]]:
    """``(label, row, reply)``: honest and hacked replies to one REC and one VQA row of the data."""
    g = rec_row["box"]
    w, h = rec_row["image_size"]
    shift = [min(w - 1.0, v + 0.4 * (g[2] - g[0])) if i % 2 == 0 else v for i, v in enumerate(g)]
    far = [0.0, 0.0, max(2.0, 0.2 * w), max(2.0, 0.2 * h)] if g[0] > 0.3 * w else [0.7 * w, 0.7 * h, w - 1.0, h - 1.0]
    gold, wrong = vqa_row["answer"], ("4" if vqa_row["answer"] != "4" else "5")
    if gold in ("yes", "no"):
        wrong = "no" if gold == "yes" else "yes"
    R = lambda think, answer: f"<think> {think} </think><answer> {answer} </answer>"  # noqa: E731
    return [
        ("REC honest, right", rec_row, R(f"box {_box(g)}", _box(g))),
        ("REC honest, wrong", rec_row, R(f"box {_box(far)}", _box(far))),
        ("REC think and answer disagree", rec_row, R(f"box {_box(far)}", _box(g))),
        ("REC answer box but no box in think", rec_row, R("so it is there", _box(g))),
        ("REC two boxes in the answer", rec_row, R(f"box {_box(g)}", f"{_box(g)} {_box(far)}")),
        ("REC two answer blocks", rec_row, R(f"box {_box(g)}", _box(far)) + f"<answer> {_box(g)} </answer>"),
        ("REC box outside the image", rec_row, R("box", _box([-5, -5, w + 40, h + 40]))),
        ("REC NaN in the box", rec_row, R("box", "[ nan , 0 , 10 , 10 ]")),
        ("REC shifted box", rec_row, R(f"box {_box(shift)}", _box(shift))),
        ("REC no think", rec_row, f"<answer> {_box(g)} </answer>"),
        ("VQA honest, right", vqa_row, R(f"so {gold}", gold)),
        ("VQA honest, wrong", vqa_row, R(f"so {wrong}", wrong)),
        ("VQA right answer, reasoning says otherwise", vqa_row, R(f"so {wrong}", gold)),
        ("VQA hedge: A or B", vqa_row, R(f"so {gold}", f"{gold} or {wrong}")),
        ("VQA hedge: A/B", vqa_row, R(f"so {gold}", f"{wrong}/{gold}")),
        ("VQA two answer blocks", vqa_row, R(f"so {gold}", wrong) + f"<answer> {gold} </answer>"),
        ("VQA empty answer", vqa_row, R(f"so {gold}", "")),
        ("VQA no tags", vqa_row, gold),
    ]


def hacked_table(rec_row: dict, vqa_row: dict, settings: RewardSettings):
    """Each hacked reply with what each reward pays it, and the sum (the rewards' weights all 1)."""
    import pandas as pd

    cases = hacked_replies(rec_row, vqa_row)
    scores = score_replies([c[2] for c in cases], [c[1] for c in cases], settings)
    rows = []
    for (label, _, text), s in zip(cases, scores):
        paid = {n: (s[n] if s[n] is not None else float("nan")) for n in REWARDS}
        total = sum(v for v in paid.values() if v == v)
        rows.append({"reply": label, **paid, "sum": total, "text": text})
    return pd.DataFrame(rows).set_index("reply")


# ---------------------------------------------------------------------------------------- failure modes
def classify(text: str, row_task: str, gold: str) -> str:
    """``hedged`` (several answers, boxes or alternatives), ``no answer``, ``malformed`` or ``clean``."""
    reply = parse_reply(text)
    answer = answer_text(reply)
    if len(reply.answers) > 1:
        return "hedged"
    if answer is None:
        return "no answer"
    if row_task == "rec" and len(find_boxes(answer)) > 1:
        return "hedged"
    if row_task == "vqa" and is_hedged(answer, gold):
        return "hedged"
    return "clean" if reply.well_formed else "malformed"


def disagreements(records: Sequence[dict], *, n: int = 3) -> list[dict[str, Any]]:
    """Evaluation replies whose answer does not follow from their reasoning (the right ones first: a right answer
    after wrong reasoning is the card's R1-V #93 pitfall)."""
    bad = [r for r in records if not r["consistent"] and r["format"]]
    bad.sort(key=lambda r: -r["correct"])
    return [{"task": r["task"], "kind": r["kind"], "correct": r["correct"], "gold": r["gold"], "reply": r["reply"]}
            for r in bad[:n]]


def rollout_modes(rollouts: Sequence[dict]) -> dict[str, float]:
    """Shares of a run's sampled completions: hedged, without an answer, inconsistent (consistency 0 with a right
    answer), and flagged by RRS."""
    if not rollouts:
        return {}
    n = len(rollouts)
    hedged = sum(("<answer>" in r["completion"] and r["completion"].count("<answer>") > 1)
                 or (r.get("format") == 0.0 and answer_text(parse_reply(r["completion"])) is not None)
                 for r in rollouts)
    right = [r for r in rollouts if (r.get("rec_accuracy") or 0) > 0.5 or (r.get("vqa_accuracy") or 0) == 1.0]
    right_inconsistent = sum((r.get("consistency") or 0) < 0.5 for r in right)
    return {"completions": n, "hedged or malformed answer": hedged / n,
            "no answer": sum(answer_text(parse_reply(r["completion"])) is None for r in rollouts) / n,
            "right but inconsistent (of right)": right_inconsistent / max(1, len(right)),
            "flagged by RRS": sum(bool(r["flagged"]) for r in rollouts) / n}


def chain_lengths_by_kind(rollouts: Sequence[dict], kinds, *, halves: int = 2) -> list[dict[str, Any]]:
    """Per VQA kind and part of training (first half, second half): how many sampled chains were whole (no ``...``
    jump), and the accuracy and consistency of whole and elided chains. It shows where thinking longer pays and
    whether the run learned it. ``kinds[i]`` (a list or a dict) is the question kind of training row ``i``."""
    vqa = [r for r in rollouts if r.get("vqa_accuracy") is not None]
    if not vqa:
        return []
    last = max(r["step"] for r in vqa) + 1
    table: dict[tuple[str, int], list[dict]] = {}
    for r in vqa:
        table.setdefault((kinds[r["index"]], min(halves - 1, r["step"] * halves // last)), []).append(r)

    def mean(rows, key):
        return round(sum(r.get(key) or 0.0 for r in rows) / len(rows), 3) if rows else None

    out = []
    for (kind, part), rows in sorted(table.items()):
        whole = [r for r in rows if not is_elided(r["completion"])]
        short = [r for r in rows if is_elided(r["completion"])]
        out.append({"kind": kind, "part": f"{part + 1}/{halves}", "n": len(rows),
                    "whole share": round(len(whole) / len(rows), 3),
                    "acc whole": mean(whole, "vqa_accuracy"), "acc elided": mean(short, "vqa_accuracy"),
                    "consistency whole": mean(whole, "consistency"), "consistency": mean(rows, "consistency")})
    return out


def kl_spikes(rollouts: Sequence[dict], *, n: int = 3) -> list[dict[str, Any]]:
    """The completions with the largest KL to the reference, with their step and whether RRS flagged them."""
    with_kl = [r for r in rollouts if r.get("kl") is not None]
    with_kl.sort(key=lambda r: -r["kl"])
    return [{"step": r["step"], "kl": r["kl"], "flagged": r["flagged"], "format": r.get("format"),
             "completion": r["completion"][:300]} for r in with_kl[:n]]


def hedged_samples(rollouts: Sequence[dict], *, n: int = 3) -> list[dict[str, Any]]:
    """Sampled completions with several answer blocks or a well-formed answer the format reward refused."""
    out = []
    for r in rollouts:
        text = r["completion"]
        reply = parse_reply(text)
        if len(reply.answers) > 1 or (r.get("format") == 0.0 and reply.well_formed):
            out.append({"step": r["step"], "format": r.get("format"), "completion": text[:300]})
        if len(out) >= n:
            break
    return out
