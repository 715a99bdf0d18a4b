"""Drills: the final step of a two-count chain (``2 > 1 -> yes``, ``2 + 1 = 3``, ``2 - 1 = 1``) on its own, as text.

A chain's last step is a table lookup over two small counts, not a copy of a nearby token, and a several-step
question writes it only in its whole form (a third of a few percent of the world's examples): teacher-forced on
gold whole chains, the sum's result stayed at p(gold) 0.22-0.34 (world seeds 0 and 1, format 6) while every mark,
tally and count was >= 0.99. A drill gives the table its own examples, so it is learned to saturation like the
walk's moves: the question is the step's left side, the reply the step itself, with no image and nothing given.
The counts range over what a scene can hold: two values of one attribute in at most ``max_total`` objects.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from longthink.vision_world.reasoning import last_step, yes_no

# the last step's operations, by name: its sign and its result for counts a, b
OPS: dict[str, tuple[str, Callable[[int, int], str]]] = {
    "compare": (">", lambda a, b: yes_no(a > b)),
    "add": ("+", lambda a, b: str(a + b)),
    "sub": ("-", lambda a, b: str(a - b)),
}


def arith_drill(rng: random.Random, *, max_total: int = 8, example_id: str = "") -> dict[str, Any]:
    """One drill: ``{"kind": "arith", "question": "2 + 1 =", "reply": "<think> 2 + 1 = 3 </think><answer> 3
    </answer>", "text_only": True, "given": ""}``."""
    from longthink.vision_world.replies import format_reply

    total = rng.randint(0, max_total)
    a = rng.randint(0, total)
    name = rng.choice(sorted(OPS))
    b = total - a
    if name == "sub":  # the world asks "how many more" of the larger count
        a, b = max(a, b), min(a, b)
    sign, result = OPS[name]
    answer = result(a, b)
    return {"id": example_id, "kind": "arith", "question": f"{a} {sign} {b} {'?' if sign == '>' else '='}",
            "answer": answer, "reply": format_reply(last_step(a, sign, b, answer), answer), "text_only": True,
            "given": ""}


DRILLS: dict[str, Callable[..., dict[str, Any]]] = {"arith": arith_drill}  # by name, as recipes give them
DRILL_KINDS = tuple(DRILLS)
