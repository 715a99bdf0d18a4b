"""Reading a reply: its ``<think>`` and ``<answer>`` blocks, the boxes in them, and whether an answer hedges.

Every reward and every evaluation metric of the TACO room reads replies through this module, so they agree on
what a reply says. The readers never raise: any object (``None``, a number, a message list, a megabyte of noise)
reads as *something*, at worst an empty reply.

A reply in the R1 / VLM-R1 convention is ``<think> … </think><answer> … </answer>``. What counts:

* ``parse_reply(text)`` finds every ``<think>`` and ``<answer>`` block. A reply is *well formed* when it holds
  exactly one of each, the think block first, and nothing but white space around them. Several answer blocks are a
  hedge (the grader would have to pick one), so :func:`answer_text` returns ``None`` for them.
* A box is ``[x1, y1, x2, y2]`` (also inside JSON such as ``{"bbox_2d": [...], "label": ...}``), four finite
  numbers. ``answer_box`` demands exactly one box in the answer: two boxes are a hedge. A box must lie inside the
  image it refers to and have a positive area (``box_is_valid``); a NaN or an infinity is never a box.
* ``is_hedged(answer, gold)`` says whether a short answer offers alternatives ("red or blue", "3/4", "yes, no",
  "either", more values than the gold has); hedged answers are never paid (``rewards``).
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Sequence
from typing import Any

THINK_BLOCK = re.compile(r"<think>(.*?)</think>", re.S)
ANSWER_BLOCK = re.compile(r"<answer>(.*?)</answer>", re.S)
_WELL_FORMED = re.compile(r"^\s*<think>(?:(?!</?think>|</?answer>).)*</think>\s*<answer>"
                          r"(?:(?!</?think>|</?answer>).)*</answer>\s*$", re.S)
_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|[-+]?(?:nan|inf(?:inity)?)"
BOX = re.compile(rf"\[\s*({_NUMBER})\s*,\s*({_NUMBER})\s*,\s*({_NUMBER})\s*,\s*({_NUMBER})\s*\]", re.I)
NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d+)?|\.\d+)")
# words and marks that offer alternatives in a short answer
_ALTERNATIVES = re.compile(r"\bor\b|\beither\b|\bneither\b|\band/or\b|[|;/\\?]|\.\.\.|…", re.I)
MAX_CHARS = 20_000  # longer texts are cut before any regex runs (a reply is at most a few thousand characters)


def completion_text(completion: Any) -> str:
    """The text of one TRL completion: a string, or a message list (the last assistant turn's content, whose parts
    may be ``{"type": "text", "text": ...}``). Anything else reads as ``""``."""
    try:
        if isinstance(completion, str):
            return completion[:MAX_CHARS]
        if isinstance(completion, dict):
            completion = [completion]
        if isinstance(completion, (list, tuple)) and completion:
            message = completion[-1]
            content = message.get("content", "") if isinstance(message, dict) else message
            if isinstance(content, str):
                return content[:MAX_CHARS]
            if isinstance(content, (list, tuple)):
                parts = [p.get("text", "") for p in content if isinstance(p, dict) and isinstance(p.get("text"), str)]
                return "".join(parts)[:MAX_CHARS]
    except Exception:  # a malformed message is an empty reply, never an error
        return ""
    return ""


@dataclasses.dataclass(frozen=True)
class Reply:
    """What a reply says: its think and answer blocks (all of them, in order) and whether it is well formed."""

    text: str
    thinks: tuple[str, ...]
    answers: tuple[str, ...]
    well_formed: bool

    @property
    def think(self) -> str:
        """The (first) think block, ``""`` if none."""
        return self.thinks[0] if self.thinks else ""


def parse_reply(completion: Any) -> Reply:
    text = completion_text(completion)
    return Reply(text, tuple(m.strip() for m in THINK_BLOCK.findall(text)),
                 tuple(m.strip() for m in ANSWER_BLOCK.findall(text)), bool(_WELL_FORMED.match(text)))


def answer_text(reply: Reply) -> str | None:
    """The one answer of a reply; ``None`` when it has no answer block, several (a hedge) or an empty one."""
    if len(reply.answers) != 1 or not reply.answers[0].strip():
        return None
    return reply.answers[0].strip()


# ------------------------------------------------------------------------------------------------------ boxes
def find_boxes(text: str | None) -> list[list[float]]:
    """Every ``[x1, y1, x2, y2]`` in ``text`` in order (values as floats; NaN and infinities kept, to be refused)."""
    if not isinstance(text, str):
        return []
    out = []
    for match in BOX.finditer(text[:MAX_CHARS]):
        try:
            out.append([float(v) for v in match.groups()])
        except (ValueError, OverflowError):
            continue
    return out


def box_is_valid(box: Sequence[float] | None, *, width: float, height: float) -> bool:
    """Four finite numbers, a positive area, inside ``[0, width] × [0, height]`` (the frame the box is given in)."""
    if box is None or len(box) != 4:
        return False
    try:
        x1, y1, x2, y2 = (float(v) for v in box)
    except (TypeError, ValueError):
        return False
    if not all(math.isfinite(v) for v in (x1, y1, x2, y2)):
        return False
    return 0 <= x1 < x2 <= width and 0 <= y1 < y2 <= height


def answer_box(reply: Reply) -> list[float] | None:
    """The answer's box: exactly one box in the one answer block (several boxes or blocks are a hedge)."""
    answer = answer_text(reply)
    boxes = find_boxes(answer)
    return boxes[0] if len(boxes) == 1 else None


def think_box(reply: Reply) -> list[float] | None:
    """The last box stated in the think block (TAC's ``B_t``), ``None`` if it states none."""
    boxes = find_boxes(reply.think) if len(reply.thinks) == 1 else []
    return boxes[-1] if boxes else None


# --------------------------------------------------------------------------------------------------- answers
def normalise(answer: str | None) -> str:
    """Lower case, single spaces, no trailing full stop: how short answers are compared."""
    if not isinstance(answer, str):
        return ""
    return " ".join(answer.lower().strip().rstrip(".").split())


def is_hedged(answer: str | None, gold: str | None) -> bool:
    """True when ``answer`` offers alternatives where ``gold`` is one value.

    Alternatives: a word or mark that joins options ("or", "either", "/", "|", ";", "...") the gold does not use;
    more numbers than the gold holds; both "yes" and "no"; more words or commas than the gold. An empty answer is
    not a hedge (it is simply unpaid).
    """
    a, g = normalise(answer), normalise(gold)
    if not a:
        return False
    raw = answer.strip().lower() if isinstance(answer, str) else ""
    if _ALTERNATIVES.search(raw) and not _ALTERNATIVES.search(str(gold or "").lower()):
        return True
    if len(NUMBER.findall(a)) > max(1, len(NUMBER.findall(g))):
        return True
    words = set(re.findall(r"[a-z]+", a))
    if {"yes", "no"} <= words:
        return True
    return len(a.split()) > len(g.split()) or a.count(",") > g.count(",")
