"""The chain teacher: step-by-step visual reasoning chains in Insight-V's step format, with real mistakes.

Insight-V's generator (Qwen2-VL-72B) writes one step per call as JSON ``{"title", "content", "next_action"}``
with ``next_action`` in ``{"continue", "final_answer"}`` (card §2.1). In the tiny world the teacher reads the
scene itself and writes the same steps: scan the scene (the dense description the base VLM is trained on), find
the objects that matter, count, compute, answer. With probability ``error_rate`` a chain gets one real mistake
(a misread object, a missed or extra object, a miscount, a wrong sum or comparison, a referent put in the wrong
cell) and every later step follows from the mistake, as a model's would; so the final answer is usually wrong and
Insight-V's answer filter and path scoring have something to catch. ``Chain.error`` records what went wrong, where.
"""

from __future__ import annotations

import dataclasses
import json
import random
from collections.abc import Sequence
from typing import Any

from longthink.vision_world.scenes import (
    COLOURS,
    RELATIONS,
    SHAPES,
    SIZES,
    Scene,
    SceneObject,
    box,
    cond_text,
    describe,
    format_box,
    iou,
    parse_box,
    position_text,
)

CONTINUE, FINAL = "continue", "final_answer"
ERROR_KINDS = ("perception", "selection", "count", "arithmetic", "location")
# which mistakes a question's reasoning can contain
OP_ERRORS: dict[str, tuple[str, ...]] = {
    "attr": ("perception", "location"),
    "attr_of": ("perception", "location"),
    "where": ("location",),
    "ground": ("location",),
    "count": ("perception", "selection", "count"),
    "compare": ("perception", "selection", "count", "arithmetic"),
    "add": ("perception", "selection", "count", "arithmetic"),
    "sub": ("perception", "selection", "count", "arithmetic"),
    "relation": ("location", "arithmetic"),
    "relation_count": ("location", "selection", "count"),
}
_OPTIONS = {"colour": list(COLOURS), "shape": list(SHAPES), "size": list(SIZES)}


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


class ChainTeacher:
    """Writes chains for examples from ``longthink.vision_world.scenes.generate_examples``.

    ``error_rate`` is the probability that a chain contains one mistake; ``chain(example, sample=k)`` is
    deterministic in ``(seed, example id, k)``, so ``chains(example, n)`` gives Insight-V's N runs per question.
    """

    def __init__(self, *, error_rate: float = 0.0, seed: int = 0, error_kinds: Sequence[str] = ERROR_KINDS):
        if isinstance(error_rate, bool) or not isinstance(error_rate, (int, float)) or not 0.0 <= error_rate <= 1.0:
            raise ValueError(f"error_rate must be a number in [0, 1], got {error_rate!r}")
        unknown = [k for k in error_kinds if k not in ERROR_KINDS]
        if unknown or not error_kinds:
            raise ValueError(f"unknown error kind(s) {unknown or list(error_kinds)!r}; known: {list(ERROR_KINDS)}")
        self.error_rate, self.seed, self.error_kinds = float(error_rate), seed, tuple(error_kinds)

    def chains(self, example: dict[str, Any], n: int) -> list[Chain]:
        return [self.chain(example, sample=k) for k in range(n)]

    def chain(self, example: dict[str, Any], *, sample: int = 0) -> Chain:
        for key in ("id", "scene", "plan", "answer", "kind", "resolution"):
            if key not in example:
                raise KeyError(f"example {example.get('id', '?')!r} has no {key!r}: build it with generate_examples")
        rng = random.Random(f"chain-{self.seed}-{example['id']}-{sample}")
        scene = Scene.from_dict(example["scene"])
        plan = example["plan"]
        op = plan["op"]
        if op not in _WRITERS:
            raise ValueError(f"example {example['id']!r}: no chain writer for plan op {op!r}")
        kinds = [k for k in OP_ERRORS[op] if k in self.error_kinds]
        error = rng.choice(kinds) if kinds and rng.random() < self.error_rate else None
        w = _Writer(scene, plan, example, rng, error)
        steps, answer = _WRITERS[op](w)
        steps.append(step("Final answer", answer, FINAL))
        err = {"kind": error, "step": w.error_step} if error and w.error_step is not None else None
        gold = example["answer"]
        return Chain(steps, answer, gold, answers_match(answer, gold, kind=example["kind"]), err)


class _Writer:
    """Holds the scene as the teacher *believes* it (a perception error changes the belief) and the mistake."""

    def __init__(self, scene: Scene, plan: dict, example: dict, rng: random.Random, error: str | None):
        self.scene, self.plan, self.example, self.rng, self.error = scene, plan, example, rng, error
        self.error_step: int | None = None
        self.steps: list[dict[str, str]] = []

    def obj(self, cell: Sequence[int]) -> SceneObject:
        found = self.scene.at(cell[0], cell[1])
        if found is None:
            raise ValueError(f"example {self.example['id']!r}: plan names cell {list(cell)} but it is empty")
        return found

    def take(self, kind: str) -> bool:
        """True once, at the step where the chosen mistake of ``kind`` happens."""
        if self.error == kind and self.error_step is None:
            self.error_step = len(self.steps)
            return True
        return False

    def add(self, title: str, content: str) -> None:
        self.steps.append(step(title, content))

    # -- shared steps ------------------------------------------------------------------------------------
    def scan(self, relevant: Sequence[SceneObject] = ()) -> None:
        """Step 1: the dense description; a perception error misreads one (preferably relevant) object."""
        if self.error == "perception":
            pool = list(relevant) or list(self.scene.objects)
            victim = self.rng.choice(pool)
            attr = self.rng.choice(self._perception_attrs())
            wrong = self.rng.choice([v for v in _OPTIONS[attr] if v != getattr(victim, attr)])
            believed = dataclasses.replace(victim, **{attr: wrong})
            self.take("perception")
            self.scene = Scene(self.scene.grid, tuple(believed if o is victim else o for o in self.scene.objects))
        self.add("Scan the scene", describe(self.scene, sep="; "))

    def _perception_attrs(self) -> list[str]:
        if self.plan["op"] in ("attr", "attr_of"):
            return [self.plan["attr"]]
        keys = {k for c in self.plan.get("conds", []) for k in c}
        return sorted(keys) or ["colour", "shape"]

    def locate(self, cell: Sequence[int], expr: str, title: str | None = None) -> SceneObject:
        """Find a referent; a location error puts it one cell away (another object if there is one there)."""
        obj = self.obj(cell)
        if self.error == "location" and self.error_step is None:
            g = self.scene.grid
            moves = [(obj.row + dr, obj.col + dc) for dr, dc in ((0, 1), (0, -1), (1, 0), (-1, 0))]
            moves = [(r, c) for r, c in moves if 0 <= r < g and 0 <= c < g]
            r, c = self.rng.choice(moves)
            self.take("location")
            obj = self.scene.at(r, c) or dataclasses.replace(obj, row=r, col=c, dx=0.0, dy=0.0)
            self.add(title or f"Find {expr}", f"{_cap(expr)} is in {position_text(r, c)}.")
            return obj
        self.add(title or f"Find {expr}", f"{_cap(expr)} is the {obj.name} in {obj.where}.")
        return obj

    def select(self, cond: dict[str, str]) -> list[SceneObject]:
        hits = [o for o in self.scene.objects if all(getattr(o, k) == v for k, v in cond.items())]
        if self.error == "selection" and self.error_step is None:
            others = [o for o in self.scene.objects if o not in hits]
            if hits and (not others or self.rng.random() < 0.5):
                missed = self.rng.choice(hits)
                hits = [o for o in hits if o is not missed]
            elif others:
                hits = sorted([*hits, self.rng.choice(others)], key=lambda o: (o.row, o.col))
            self.take("selection")
        listing = "; ".join(f"{o.name} in {o.where}" for o in hits) or "none"
        self.add(f"Find the {cond_text(cond)}", listing)
        return hits

    def count(self, hits: Sequence[SceneObject], what: str) -> int:
        n = len(hits)
        if self.take("count"):
            n = n + 1 if n == 0 or self.rng.random() < 0.5 else n - 1
        self.add(f"Count the {what}", f"The number of {what} is {n}.")
        return n


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


# ------------------------------------------------------------------------------------------- chain writers
def _w_attr(w: _Writer) -> tuple[list, str]:
    target = w.obj(w.plan["obj"])
    w.scan([target])
    believed = w.scene.at(target.row, target.col)
    obj = w.locate([believed.row, believed.col], f"the object in {believed.where}", title="Look at the cell")
    if obj.row == believed.row and obj.col == believed.col:
        w.steps[-1]["content"] = f"The object in {obj.where} is a {obj.name}."
    else:
        w.steps[-1]["content"] = f"The object in {believed.where} is a {obj.name}."
    attr = w.plan["attr"]
    w.add(f"Read its {attr}", f"Its {attr} is {getattr(obj, attr)}.")
    return w.steps, getattr(obj, attr)


def _w_attr_of(w: _Writer) -> tuple[list, str]:
    target = w.obj(w.plan["obj"])
    attr = w.plan["attr"]
    if w.error == "perception":  # misread the attribute asked for
        w.scan([target])
        obj = w.scene.at(target.row, target.col)
        w.add(f"Find {w.plan['expr']}", f"{_cap(w.plan['expr'])} is the {obj.name} in {obj.where}.")
    else:
        w.scan()
        obj = w.locate(w.plan["obj"], w.plan["expr"])
    w.add(f"Read its {attr}", f"Its {attr} is {getattr(obj, attr)}.")
    return w.steps, getattr(obj, attr)


def _w_where(w: _Writer) -> tuple[list, str]:
    w.scan()
    obj = w.locate(w.plan["obj"], w.plan["expr"])
    return w.steps, position_text(obj.row, obj.col)


def _w_ground(w: _Writer) -> tuple[list, str]:
    w.scan()
    obj = w.locate(w.plan["obj"], w.plan["expr"])
    res = w.example["resolution"]
    cell = res / w.scene.grid
    b = box(obj, grid=w.scene.grid, resolution=res)
    w.add("Compute the box", f"Each cell is {cell:g} pixels wide; a {obj.size} object in {obj.where} "
          f"spans {format_box(b)}.")
    return w.steps, format_box(b)


def _count_conds(w: _Writer) -> list[int]:
    conds = w.plan["conds"]
    relevant = [o for o in w.scene.objects if any(all(getattr(o, k) == v for k, v in c.items()) for c in conds)]
    w.scan(relevant)
    counts = []
    for cond in conds:
        hits = w.select(cond)
        counts.append(w.count(hits, cond_text(cond)))
    return counts


def _w_count(w: _Writer) -> tuple[list, str]:
    (n,) = _count_conds(w)
    return w.steps, str(n)


def _w_compare(w: _Writer) -> tuple[list, str]:
    na, nb = _count_conds(w)
    more = na > nb
    if w.take("arithmetic"):
        more = not more
    a, b = (cond_text(c) for c in w.plan["conds"])
    verdict = f"{na} is more than {nb}" if more else f"{na} is not more than {nb}"
    w.add("Compare the counts", f"{a}: {na}, {b}: {nb}; {verdict}.")
    return w.steps, "yes" if more else "no"


def _w_arith(w: _Writer) -> tuple[list, str]:
    na, nb = _count_conds(w)
    sym = "+" if w.plan["op"] == "add" else "-"
    value = na + nb if sym == "+" else na - nb
    if w.take("arithmetic"):
        value += w.rng.choice([-1, 1]) if value > 0 else 1
    w.add("Compute", f"{na} {sym} {nb} = {value}.")
    return w.steps, str(value)


def _w_relation(w: _Writer) -> tuple[list, str]:
    w.scan()
    (ca, cb), (ea, eb), rel = w.plan["objs"], w.plan["exprs"], w.plan["relation"]
    a = w.locate(ca, ea)
    b = w.locate(cb, eb)
    holds = RELATIONS[rel](a, b)
    if w.take("arithmetic"):
        holds = not holds
    axis = "column" if rel in ("left of", "right of") else "row"
    va, vb = (a.col + 1, b.col + 1) if axis == "column" else (a.row + 1, b.row + 1)
    w.add("Compare the positions", f"{_cap(ea)} is in {axis} {va} and {eb} in {axis} {vb}, so it is "
          f"{'' if holds else 'not '}{rel} it.")
    return w.steps, "yes" if holds else "no"


def _w_relation_count(w: _Writer) -> tuple[list, str]:
    w.scan()
    rel, expr = w.plan["relation"], w.plan["expr"]
    b = w.locate(w.plan["obj"], expr)
    hits = [o for o in w.scene.objects if not (o.row == b.row and o.col == b.col) and RELATIONS[rel](o, b)]
    if w.take("selection"):
        others = [o for o in w.scene.objects if o not in hits and not (o.row == b.row and o.col == b.col)]
        if hits and (not others or w.rng.random() < 0.5):
            missed = w.rng.choice(hits)
            hits = [o for o in hits if o is not missed]
        elif others:
            hits = sorted([*hits, w.rng.choice(others)], key=lambda o: (o.row, o.col))
    listing = "; ".join(f"{o.name} in {o.where}" for o in hits) or "none"
    w.add(f"Find the objects {rel} {expr}", listing)
    n = w.count(hits, "objects")
    return w.steps, str(n)


_WRITERS = {
    "attr": _w_attr,
    "attr_of": _w_attr_of,
    "where": _w_where,
    "ground": _w_ground,
    "count": _w_count,
    "compare": _w_compare,
    "add": _w_arith,
    "sub": _w_arith,
    "relation": _w_relation,
    "relation_count": _w_relation_count,
}
