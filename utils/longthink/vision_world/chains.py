"""The chain teacher: step-by-step visual reasoning chains in Insight-V's step format, with real mistakes.

Insight-V's generator (Qwen2-VL-72B) writes one step per call as JSON ``{"title", "content", "next_action"}``
with ``next_action`` in ``{"continue", "final_answer"}`` (card §2.1). In the tiny world the teacher reads the
scene itself and writes the same steps as the base VLM's ``<think>`` (``longthink.vision_world.reasoning``): the
look (the labelled description, one code per cell), then walks over the cells that mark each queried attribute,
then counts, comparisons, sums or a box, then the final answer. So data generation, assessment and the reasoning
agent share one way of looking: ``" ".join`` of a correct chain's step contents is the full-length ``<think>`` of
``replies.reply(example, style="long")``.

Insight-V's agents read and write the chains with one-word titles (``short_titles``) and, in the tiny profile, a
first ``Plan`` step naming the steps to come (``plan_step``); the world's own titles stay the longer ones its
tokenizer was trained on.

With probability ``error_rate`` a chain gets one real mistake (a misread code in the look, a wrong mark in a walk,
a miscount, a wrong comparison or sum, a neighbouring cell named or read) and every later step follows from it,
as a model's would; so the final answer is usually wrong and Insight-V's answer filter and path scoring have
something to catch. ``Chain.error`` records what went wrong, where.
"""

from __future__ import annotations

import dataclasses
import json
import random
from collections.abc import Sequence
from typing import Any

from longthink.vision_world.reasoning import ERROR_KINDS, OP_ERRORS, reason
from longthink.vision_world.scenes import iou, parse_box

CONTINUE, FINAL = "continue", "final_answer"


@dataclasses.dataclass
class Chain:
    steps: list[dict[str, str]]
    answer: str
    gold: str
    correct: bool
    error: dict[str, Any] | None = None  # {"kind": ..., "step": index of the step that went wrong}

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def step(title: str, content: str, next_action: str = CONTINUE) -> dict[str, str]:
    return {"title": title, "content": content, "next_action": next_action}


def format_thoughts(chain: Chain | Sequence[dict[str, str]], *, with_final: bool = True) -> str:
    """Insight-V's reasoning-agent target: ``<thoughts>`` + one ``title: content`` line per step + ``</thoughts>``."""
    steps = chain.steps if isinstance(chain, Chain) else list(chain)
    if not with_final:
        steps = [s for s in steps if s["next_action"] != FINAL]
    return "<thoughts>\n" + "\n".join(f"{s['title']}: {s['content']}" for s in steps) + "\n</thoughts>"


def steps_as_json(chain: Chain) -> list[str]:
    """The steps as the generator's replies (one JSON object per call)."""
    return [json.dumps(s) for s in chain.steps]


def answers_match(answer: str | None, gold: str, *, kind: str | None = None) -> bool:
    """Normalised exact match; boxes match at IoU > 0.5."""
    if answer is None:
        return False
    if kind == "ground" or gold.startswith("["):
        pred, ref = parse_box(answer), parse_box(gold)
        return pred is not None and ref is not None and iou(pred, ref) > 0.5
    norm = lambda s: " ".join(s.lower().strip().rstrip(".").split())  # noqa: E731
    return norm(answer) == norm(gold)


PLAN_TITLE = "Plan"


def short_title(title: str) -> str:
    """A step's one-word title: ``Look at the scene`` -> ``Look``, ``Find the red squares`` -> ``Find``, a count's
    comparison or sum and a box -> ``Compute``, ``Compare the places`` -> ``Compare``.

    Insight-V's reasoning agent writes ``title: content`` lines. Titles that restated the question (``Find the
    yellow objects and the green objects``) or told alike steps apart (``Compare the counts`` after one count walk,
    ``Compute`` after another) were where its chains went wrong, while the content, the base VLM's own text, came
    out right (world seed 0, dev split, 2026-12-04: ``Find the squares and the square`` with the walk's query
    dropped, comparisons titled ``Compute`` and sums ``Compare``). One word a step, one token each, is what the
    agent learns surely. (The world's own titles stay as they are: its tokenizer was trained on them.)
    """
    if title.startswith(("Compare the counts", "Compute")):
        return "Compute"
    return title.split()[0]


class ChainTeacher:
    """Writes chains for examples from ``longthink.vision_world.scenes.generate_examples``.

    ``error_rate`` is the probability that a chain contains one mistake; ``chain(example, sample=k)`` is
    deterministic in ``(seed, example id, k)``, so ``chains(example, n)`` gives Insight-V's N runs per question.
    """

    def __init__(self, *, error_rate: float = 0.0, seed: int = 0, error_kinds: Sequence[str] = ERROR_KINDS,
                 stop_at_first_yes: bool = True, short_titles: bool = False, plan_step: bool = False):
        if isinstance(error_rate, bool) or not isinstance(error_rate, (int, float)) or not 0.0 <= error_rate <= 1.0:
            raise ValueError(f"error_rate must be a number in [0, 1], got {error_rate!r}")
        unknown = [k for k in error_kinds if k not in ERROR_KINDS]
        if unknown or not error_kinds:
            raise ValueError(f"unknown error kind(s) {unknown or list(error_kinds)!r}; known: {list(ERROR_KINDS)}")
        self.error_rate, self.seed, self.error_kinds = float(error_rate), seed, tuple(error_kinds)
        self.stop_at_first_yes = stop_at_first_yes  # as the base VLM's walks (its world_vision.json reply_options)
        self.short_titles = short_titles  # one-word step titles (short_title), as Insight-V's agents learn them
        self.plan_step = plan_step  # a first step that names the steps to come (``Plan: Look Find Count Compute``)

    def chains(self, example: dict[str, Any], n: int) -> list[Chain]:
        return [self.chain(example, sample=k) for k in range(n)]

    def chain(self, example: dict[str, Any], *, sample: int = 0) -> Chain:
        for key in ("id", "scene", "plan", "answer", "kind", "resolution"):
            if key not in example:
                raise KeyError(f"example {example.get('id', '?')!r} has no {key!r}: build it with generate_examples")
        rng = random.Random(f"chain-{self.seed}-{example['id']}-{sample}")
        op = example["plan"]["op"]
        if op not in OP_ERRORS:
            raise ValueError(f"example {example['id']!r}: no chain writer for plan op {op!r}")
        kinds = [k for k in OP_ERRORS[op] if k in self.error_kinds]
        error = rng.choice(kinds) if kinds and rng.random() < self.error_rate else None
        written, answer, error_step = reason(example, error=error, rng=rng, style="long",
                                             stop_at_first_yes=self.stop_at_first_yes)
        steps = [step(short_title(s.title) if self.short_titles else s.title, s.content) for s in written]
        if self.plan_step:  # each later title is then a copy of the plan's next word, the last one says stop
            steps.insert(0, step(PLAN_TITLE, " ".join(s["title"] for s in steps)))
            error_step = None if error_step is None else error_step + 1
        steps.append(step("Final answer", answer, FINAL))
        err = {"kind": error, "step": error_step} if error and error_step is not None else None
        gold = example["answer"]
        return Chain(steps, answer, gold, answers_match(answer, gold, kind=example["kind"]), err)


