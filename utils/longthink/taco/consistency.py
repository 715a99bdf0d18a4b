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
from collections.abc import Callable

from longthink.boxes import Box, box_area, intersection, iou  # noqa: F401 (iou re-exported for the rewards)
from longthink.taco.answers import NUMBER, normalise



# ----------------------------------------------------------------------------------------------- geometry
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


_WALK_LINE = re.compile(r"(?:^|\s)([a-h][1-8])\s+\S+\s+(?:[a-z]+\s+){1,3}:\s+(?:[a-z]+\s+(?:yes|no)\s+)+->\s+(yes|no)\b"
                        r"(?:\s+(\d+)(?!\S))?")
_READ_LINE = re.compile(r"^find\s+([a-h][1-8])\s+:\s+([a-h][1-8])\s+\S+(?:\s+[a-z]+){1,3}\s+\.?")
_MARK = re.compile(r"(?:^|\s)([a-h][1-8])\s+(yes|no)\b(?:\s+(\d+)(?!\S))?")
_EMPTY_TALLY = re.compile(r"(?:^|\s)([a-h][1-8])\s+\.\s+(\d+)(?!\S)")
_COUNT = re.compile(r"^count\s+(\d+)(?:\s+(\d+))?$")
_TWO_WALK = re.compile(r"^find\s+([a-z]+)\s+\|\s+([a-z]+)\s+:")
_TWO_LINE = re.compile(r"(?:^|\s)[a-h][1-8]\s+(?:\S+\s+(?:[a-z]+\s+){1,3}:\s+([a-z]+)\s+(yes|no)\s+([a-z]+)\s+(yes|no)"
                       r"\s+->|\.)\s+(\d+)\s+(\d+)(?!\S)")
_COMPARE = re.compile(r"^(\d+)\s+>\s+(\d+)\s+->\s+(yes|no)$")
_ARITH = re.compile(r"^(\d+)\s+([+-])\s+(\d+)\s+=\s+(-?\d+)$")
_CONCLUDE = re.compile(r"^so\s+([a-h][1-8])((?:\s+[a-z]+){1,4}?)(?=\s+[a-h][1-8]\s|\s+(?:left|right|above|below)\s|$)")
_PLACE = re.compile(r"([a-h][1-8])\s+(left of|right of|above|below)\s+([a-h][1-8])\s+:\s+(column|row)\s+(\S+)\s+(\S+)"
                    r"\s+->\s+(yes|no)$")
_HOLDS = {"left of": lambda a, b: a < b, "right of": lambda a, b: a > b, "above": lambda a, b: a < b,
          "below": lambda a, b: a > b}
_ELIDED = re.compile(r"\.\.\.|…")


def is_elided(text: str) -> bool:
    """Whether a chain jumps over its reasoning (``...`` or ``…``): such a chain supports no answer."""
    return _ELIDED.search(text) is not None


def _steps(think: str) -> list[str]:
    """The reasoning after the look, one step per item: walks and reads (``find …``), ``count N``, conclusions
    (``so …``), comparisons and sums; trailing full stops dropped."""
    text = " ".join(think.split())
    if " find " in f" {text}":
        text = "find " + f" {text}".split(" find ", 1)[1]
    parts = re.split(r"\s+(?=find\s|count\s+\d|so\s|\d+\s+[>+-]\s+\d)", text)
    return [p.strip().rstrip(".").strip() for p in parts if p.strip().rstrip(".").strip()]


def _yes_marks(step: str) -> int | None:
    """How many cells a walk (``… -> yes 1``) or a relation walk (``left of b2 : a1 . 0 a2 yes 1 b3 no 1``) marked
    yes; None when it is neither, or when a running tally (after a mark or an empty cell) is not the number of yes
    marks so far."""
    start = 0
    found = [(m.start(), m.group(2), m.group(3)) for m in _WALK_LINE.finditer(step)]
    if not found and ":" in step:
        start = step.rindex(":") + 1
        found = [(start + m.start(), m.group(2), m.group(3)) for m in _MARK.finditer(step[start:])]
    if not found:
        return None
    found += [(start + m.start(), None, m.group(2)) for m in _EMPTY_TALLY.finditer(step[start:])]
    yes = 0
    for _position, mark, tally in sorted(found):
        yes += mark == "yes"
        if tally and int(tally) != yes:
            return None
    return yes


def _two_tallies(step: str) -> tuple[int, int] | None:
    """What a two-count walk (``find red | blue : a1 . 0 0 a2 lrc large red circle : red yes blue no -> 1 0 …``)
    counted for each value; None when it is not one, or when a mark names the other value or a running tally is
    not the yes marks so far."""
    head = _TWO_WALK.match(step)
    if not head:
        return None
    values, yes = head.groups(), [0, 0]
    lines = list(_TWO_LINE.finditer(step))
    if not lines:
        return None
    for line in lines:
        word_a, mark_a, word_b, mark_b, tally_a, tally_b = line.groups()
        if word_a is not None:
            if (word_a, word_b) != values:
                return None
            yes[0] += mark_a == "yes"
            yes[1] += mark_b == "yes"
        if [int(tally_a), int(tally_b)] != yes:
            return None
    return yes[0], yes[1]


_LINE_WORDS = re.compile(r"(?:^|\s)([a-h][1-8])\s+(\S+)\s+((?:[a-z]+\s+){0,2}[a-z]+)\s+:\s+(?:[a-z]+\s+(?:yes|no)\s+)+->\s+(yes|no)\b")


def _backed(step_before: str, label: str, words: list[str]) -> bool:
    """A conclusion names a cell the step before marked ``yes`` (a walk) or read (``find d1 : d1 …``), and restates
    that cell's words as the step wrote them, with or without its code (``so b2 sbc small blue circle`` or ``so b2
    small blue circle``)."""
    for lab, code, said, mark in _LINE_WORDS.findall(step_before):
        if lab == label and mark == "yes":
            return words in (said.split(), [code, *said.split()])
    read = _READ_LINE.match(step_before)
    if read and read.group(1) == read.group(2) == label:
        written = step_before[read.start(2):].split()  # label, code, words
        return words in (written[2:2 + len(words)], written[1:1 + len(words)])
    return False


def _place_value(v: str, axis: str) -> int | None:
    if axis == "column":
        return int(v) if v.isdigit() else None
    return ord(v) - ord("a") if len(v) == 1 and v.isalpha() else None


def supports_by_steps(think: str, answer: str) -> bool:
    """The tiny world's step rule: every step follows from the one before, and the answer is the last step's value.

    The vision world writes its reasoning in small steps (its reasoning module, reached here only through the text):
    after the look, a walk ``find <query> : <cell> <code> <words> : <word> yes|no … -> yes|no …`` or a read ``find d1
    : d1 <code> <words>``, then ``count N``, a conclusion ``so <cell> <words>``, a comparison ``a > b -> yes|no``, a
    sum ``a + b = c`` / difference ``a - b = c``, or a relation ``b3 left of c1 : column 3 1 -> no``. The answer is
    supported when every count equals the yes marks of the walk before it (and every running tally in that walk,
    ``-> yes 2`` or ``a3 . 2``, the yes marks so far; a two-count walk ``find red | blue : … -> 1 0 a3 . 1 0`` keeps
    two tallies, and ``count 1 0`` copies both), every conclusion names a cell that walk
    marked yes (or read) and restates its words as written there, comparisons and sums are right for the counts written, a relation is right for the places
    written, and the answer is the last step's value (a conclusion's cell or one of its words). A chain that elides
    its walk (``…``) and jumps to ``so 3`` supports nothing: an LLM judge asked "does the reasoning support the
    answer?" would not accept it either. This is the tiny stand-in for the paper's judge; ``last_value`` (the card's
    proxy) accepts the elided chain.
    """
    a = normalise(answer)
    steps = _steps(think or "")
    if not a or not steps or is_elided(think or ""):
        return False
    counts: list[int] = []
    value: set[str] = set()
    for i, step in enumerate(steps):
        before = steps[i - 1] if i else ""
        if (m := _COUNT.match(step)) and m.group(2) is not None:  # two counts of one walk
            pair = int(m.group(1)), int(m.group(2))
            if _two_tallies(before) != pair:
                return False
            counts.extend(pair)
            value = set()
        elif m:
            n = int(m.group(1))
            if _TWO_WALK.match(before) or _yes_marks(before) != n:
                return False
            counts.append(n)
            value = {str(n)}
        elif m := _CONCLUDE.match(step):
            label, words = m.group(1), m.group(2).split()
            if not _backed(before, label, words):
                return False
            value = {label, *words}
            rest = step[m.end():].strip()
            if rest:
                place = _PLACE.search(rest)
                relation_marks = _yes_marks(rest)
                if place:
                    x, rel, y, axis, u, v, mark = place.groups()
                    pu, pv = _place_value(u, axis), _place_value(v, axis)
                    if pu is None or pv is None or (mark == "yes") != _HOLDS[rel](pu, pv):
                        return False
                    value = {mark}
                elif relation_marks is not None:
                    value = set()  # a relation walk: the count step after it gives the value
                else:
                    return False
        elif m := _COMPARE.match(step):
            x, y, mark = int(m.group(1)), int(m.group(2)), m.group(3)
            if counts[-2:] != [x, y] or (mark == "yes") != (x > y):
                return False
            value = {mark}
        elif m := _ARITH.match(step):
            x, sign, y, z = int(m.group(1)), m.group(2), int(m.group(3)), int(m.group(4))
            if counts[-2:] != [x, y] or z != (x + y if sign == "+" else x - y):
                return False
            value = {str(z)}
        elif step.startswith("find"):
            value = set()
        else:
            return False
    return a in value


VQA_RULES: dict[str, Callable[[str, str], bool]] = {
    "last_value": supports_last_value,
    "steps": supports_by_steps,
}


def vqa_supports(think: str, answer: str, *, rule: str = "last_value") -> bool:
    if rule not in VQA_RULES:
        raise ValueError(f"unknown VQA consistency rule {rule!r}; known: {sorted(VQA_RULES)}")
    return bool(VQA_RULES[rule](think or "", answer or ""))
