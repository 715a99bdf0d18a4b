"""Think-answer consistency (TAC): does the reasoning support the answer, and does the answer match the truth?

TACO adds a reward for replies whose ``<think>`` and ``<answer>`` agree with each other and with the gold, against
two failure modes of R1-style training (taco.md §6): a right answer after wrong reasoning (R1-V #93, #72) and an
answer that names something other than what the reasoning found (VLM-R1 #99). The paper's formulas are not public;
the kit's versions (card §2.2) are:

* **REC** (a box): ``B_t`` = the last box stated in ``<think>``, ``B_a`` = the answer box, ``B_gt`` = the gold, all
  in the original image's pixel frame. ``tac_rec_mode`` (:data:`TAC_REC_MODES`):
  ``triple`` = |B_t ∩ B_a ∩ B_gt| / |B_t ∪ B_a ∪ B_gt| (inclusion-exclusion), ``product`` = IoU(B_t, B_a) ·
  IoU(B_a, B_gt), ``min`` = the smallest of the three pairwise IoUs. No think box pays ``no_think_value`` (0).
* **VQA** (a word, number or letter): the card's judge pays 1 iff the reasoning supports the answer *and* the
  answer matches the gold. In the tiny profile a rule stands in for the judge (:data:`VQA_RULES`, checking
  *supports*; correctness is checked by the accuracy grader); at paper scale an LLM judge (``longthink.taco.judge``).

The same rules give the evaluation's *consistency rate*: the share of replies whose answer follows from their
reasoning (REC: IoU(B_t, B_a) ≥ 0.5; VQA: the rule or the judge asked about support alone).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from longthink.taco.answers import NUMBER, normalise

Box = Sequence[float]


# ----------------------------------------------------------------------------------------------- geometry
def box_area(b: Box, *, plus: float = 0.0) -> float:
    """Area of ``[x1, y1, x2, y2]``; ``plus=1`` is the pixel-inclusive convention (VLM-R1's ``iou_reward``)."""
    return max(0.0, b[2] - b[0] + plus) * max(0.0, b[3] - b[1] + plus)


def intersection(a: Box, b: Box) -> list[float]:
    return [max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])]


def iou(a: Box, b: Box, *, plus: float = 0.0) -> float:
    inter = box_area(intersection(a, b), plus=plus)
    union = box_area(a, plus=plus) + box_area(b, plus=plus) - inter
    return inter / union if union > 0 else 0.0


def triple_iou(a: Box, b: Box, c: Box, *, plus: float = 0.0) -> float:
    """|a ∩ b ∩ c| / |a ∪ b ∪ c|, the union by inclusion-exclusion (1 iff the three boxes coincide)."""
    ab, bc, ac = (box_area(intersection(x, y), plus=plus) for x, y in ((a, b), (b, c), (a, c)))
    abc = box_area(intersection(intersection(a, b), c), plus=plus)
    union = box_area(a, plus=plus) + box_area(b, plus=plus) + box_area(c, plus=plus) - ab - bc - ac + abc
    return abc / union if union > 0 else 0.0


def _triple(bt: Box, ba: Box, bg: Box, plus: float) -> float:
    return triple_iou(bt, ba, bg, plus=plus)


def _product(bt: Box, ba: Box, bg: Box, plus: float) -> float:
    return iou(bt, ba, plus=plus) * iou(ba, bg, plus=plus)


def _min(bt: Box, ba: Box, bg: Box, plus: float) -> float:
    return min(iou(bt, ba, plus=plus), iou(ba, bg, plus=plus), iou(bt, bg, plus=plus))


TAC_REC_MODES: dict[str, Callable[[Box, Box, Box, float], float]] = {
    "triple": _triple,
    "product": _product,
    "min": _min,
}


def tac_rec(think_box: Box | None, answer_box: Box | None, gold: Box, *, mode: str = "triple",
            no_think_value: float = 0.0, plus: float = 0.0) -> float:
    """TAC for a box answer (all boxes in the original frame); no answer box pays 0, no think box pays
    ``no_think_value``."""
    if mode not in TAC_REC_MODES:
        raise ValueError(f"unknown tac_rec_mode {mode!r}; known: {sorted(TAC_REC_MODES)}")
    if answer_box is None:
        return 0.0
    if think_box is None:
        return float(no_think_value)
    return float(TAC_REC_MODES[mode](think_box, answer_box, gold, plus))


def rec_agrees(think_box: Box | None, answer_box: Box | None, *, threshold: float = 0.5) -> bool:
    """The consistency rate's REC test: the answer box is the box the reasoning found (IoU ≥ ``threshold``)."""
    return think_box is not None and answer_box is not None and iou(think_box, answer_box) >= threshold


# ------------------------------------------------------------------------------------------------ VQA rules
_YES_NO = re.compile(r"\b(yes|no)\b")
_OPTION = re.compile(r"(?:^|[\s(])([A-J])(?=[).:\s]|$)")
_CLAUSE_SPLIT = re.compile(r"\bso\b|\btherefore\b|\bthus\b|\banswer\b|[.\n]")


def _last(pattern: re.Pattern, text: str) -> str | None:
    found = pattern.findall(text)
    return found[-1] if found else None


def supports_last_value(think: str, answer: str) -> bool:
    """The card's tiny rule: the last value of the answer's kind stated in ``<think>`` equals the answer.

    A number answer is checked against the last number of the think, yes/no against the last yes/no, an option
    letter against the last option letter; any other answer must appear in the think's last clause (after the last
    "so", "therefore", full stop or line break that leaves some text), e.g. ``… so b2 small blue circle`` supports
    ``blue`` and ``b2``.
    """
    a, t = normalise(answer), normalise(think)
    if not a or not t:
        return False
    if NUMBER.fullmatch(a):
        last = _last(NUMBER, t)
        try:
            return last is not None and float(last) == float(a)
        except ValueError:
            return False
    if a in ("yes", "no"):
        return _last(_YES_NO, t) == a
    if re.fullmatch(r"\(?[a-j]\)?", a):
        last = _last(_OPTION, think.strip())
        return last is not None and last.lower() == a.strip("()")
    clauses = [c.strip() for c in _CLAUSE_SPLIT.split(t) if c and c.strip()]
    return bool(clauses) and re.search(rf"(?<![\w]){re.escape(a)}(?![\w])", clauses[-1]) is not None


VQA_RULES: dict[str, Callable[[str, str], bool]] = {
    "last_value": supports_last_value,
}


def vqa_supports(think: str, answer: str, *, rule: str = "last_value") -> bool:
    if rule not in VQA_RULES:
        raise ValueError(f"unknown VQA consistency rule {rule!r}; known: {sorted(VQA_RULES)}")
    return bool(VQA_RULES[rule](think or "", answer or ""))
