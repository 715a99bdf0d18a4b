"""Reason: the steps every visual reply and every teacher chain is made of, in small local moves over the look.

One writer serves the base VLM's replies (``longthink.vision_world.replies``) and the chain teacher
(``longthink.vision_world.chains``), so data generation, assessment and Insight-V's reasoning agent share one way
of looking. Steps (``(title, content)``), for "What colour is the small circle?"::

    Look at the scene      a1 lrc a2 . a3 syt ... d4 lgc
    Find the small circle  find small circle : a1 lrc large red circle : small no circle yes -> no a2 .
                           a3 syt small yellow triangle : small yes circle no -> no a4 . b1 .
                           b2 sbc small blue circle : small yes circle yes -> yes .
    Conclude               so b2 sbc small blue circle

The walk repeats the query, then visits every cell in reading order, as the look lists them: an empty cell is its
label and ``.`` (as in the look); an occupied one is its label, code, the code expanded into words, then one mark
per queried attribute next to the word it checks, then their AND. Visiting every cell makes the next label a fixed
successor (``a2`` after ``a1``); a walk over the occupied cells alone had to find the next occupied cell in the look,
and that was the skill a build learned only partly (world seed 0: the walk skipped or invented cells, ``d1 .`` for
``d2 lgt``, single-step 0.84 and grounding 0.58 after 1,600 steps and 0.75-0.95 on the dev walk kinds after 2,800).
Every mark compares two identical tokens a few positions apart, which a tiny model learns (probe 4: every mark
1.000); a lookup from the question's words straight to a cell stayed at chance (probe 1). A walk for one referent
stops at its first ``yes`` (the conclusion then copies the line just above it); a walk for a count visits every cell
and keeps a running tally after every cell, empty or not (``find large : a1 . 0 a2 lgt large green triangle : large
yes -> yes 1 a3 . 1 …``), then ends with ``count N``, a copy of the last tally. Each tally is the one a cell before,
plus one on a ``yes``: a fixed successor again. Without a tally the count was the one step not made of local moves,
and it was the long chains' main error: of 115 whole several-step chains the base VLM sampled in TACO's first ten
steps (world seed 0, format 3), 94 wrote a ``count`` that was not the number of ``yes`` marks of the walk above it
(the marks themselves were right). A tally after the occupied cells alone (format 4) fixed one build (count_cond's
sampled whole chains right 0.93) but not the next (0.35-0.65, world seed 0 with more two-walk data): most wrong chains
had a wrong tally, copied from a line a variable number of empty cells back. (The value after ``count`` is then a copy
three tokens back, yet stayed a guess until the pretraining loss weighed it: ``result_weight`` in the world recipe.)
Boxes get their own step from the cell and the object's size, one axis at a time (``box b2 small : column 2 -> 35 49
row 2 -> 35 49 : [ 35 , 35 , 49 , 49 ]``, pixels of the image at the training resolution, the cell's centre: the look
has no sub-cell offsets).

Two counts (comparisons, sums, differences: two values of one attribute) share one walk with two tallies
(``find red | blue : a1 . 0 0 a2 lrc large red circle : red yes blue no -> 1 0 a3 . 1 0 … . count 2 1``), then
``2 > 1 -> yes`` or ``2 + 1 = 3`` right after the counts it reads (format 7). With a walk per count (format 6) the base
VLM's sampled whole chains of those kinds were almost never right (world seed 0, 104 of TACO's rollouts): a third
stopped after the first walk, about a quarter compared or added the wrong numbers (copied from a walk ~20 lines up),
a fifth carried the first walk's query word into the second. One walk makes every step local again; the last step's
table (``2 + 1 = 3``) has its own drill (``longthink.vision_world.drills``).

Several-step questions chain these moves (two counts then ``2 > 1 -> yes`` or ``2 + 1 = 3``; two referents then
``b3 left of c1 : column 3 1 -> no``; a referent then one relation mark per other cell, ``.`` for an empty one,
each with its tally: ``left of b2 : a1 . 0 a2 yes 1 a3 no 1 …``).
``style="short"`` cuts such a chain after the first walk's first ``short_lines`` occupied cells and jumps to the
answer (``... so 3``): the base VLM is trained mostly on those, so it looks well and reasons briefly, leaving
long chains to Insight-V and TACO.

A ``Reasoner`` can make one real mistake (``error``), and later steps follow from it: ``perception`` misreads a
code in the look, ``selection`` flips one attribute mark in a walk, ``count`` miscounts, ``arithmetic`` gets a
comparison or sum wrong, ``location`` names or reads a neighbouring cell.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Sequence
from typing import Any

from longthink.vision_world.look import ATTRIBUTE_WORDS, ATTRIBUTES, EMPTY, code, description
from longthink.vision_world.scenes import RELATIONS, Scene, SceneObject, box, cell_label, cond_text

ERROR_KINDS = ("perception", "selection", "count", "arithmetic", "location")
# which mistakes each plan op's reasoning can contain
OP_ERRORS: dict[str, tuple[str, ...]] = {
    "attr": ("perception", "location"),
    "attr_of": ("perception", "selection"),
    "where": ("selection", "location"),
    "ground": ("selection", "location"),
    "count": ("perception", "selection", "count"),
    "compare": ("perception", "selection", "count", "arithmetic"),
    "add": ("perception", "selection", "count", "arithmetic"),
    "sub": ("perception", "selection", "count", "arithmetic"),
    "relation": ("selection", "location", "arithmetic"),
    "relation_count": ("selection", "location", "count"),
}
STYLES = ("long", "short")
TWO_COUNTS = "|"  # between the two values a two-count walk marks: ``find red | blue``


def yes_no(flag: bool) -> str:
    return "yes" if flag else "no"


def query_from_expr(expr: str) -> dict[str, str]:
    """``"the small circle"`` -> ``{"size": "small", "shape": "circle"}`` (``object`` names no attribute)."""
    query = {}
    for word in expr.split():
        for attr, words in ATTRIBUTE_WORDS.items():
            if word in words:
                query[attr] = word
    if not query:
        raise ValueError(f"referring expression {expr!r} names no size, colour or shape")
    return query


def query_words(query: dict[str, str]) -> str:
    return " ".join(query[a] for a in ATTRIBUTES if a in query)


def _one_attribute(cond: dict[str, str]) -> tuple[str, str]:
    if len(cond) != 1:
        raise ValueError(f"a two-count walk counts one attribute's values; got the condition {cond!r}")
    return next(iter(cond.items()))


def walk_line(obj: SceneObject, query: dict[str, str], *, flip: str | None = None) -> tuple[str, bool]:
    """``b2 sbc small blue circle : small yes circle yes -> yes``; ``flip`` writes that attribute's mark wrong."""
    marks = []
    for attr in ATTRIBUTES:
        if attr in query:
            ok = getattr(obj, attr) == query[attr]
            marks.append((query[attr], ok != (attr == flip)))
    hit = all(ok for _, ok in marks)
    text = " ".join([obj.label, code(obj), obj.name, ":", *(f"{w} {yes_no(ok)}" for w, ok in marks), "->", yes_no(hit)])
    return text, hit


def box_words(b: Sequence[float]) -> str:
    """``[ 35 , 63 , 49 , 77 ]``: one token per number and per mark (see ``look.world_words``)."""
    return "[ " + " , ".join(str(int(round(v))) for v in b) + " ]"


@dataclasses.dataclass
class Step:
    title: str
    content: str
    lines: list[str] | None = None  # a walk's lines (for the short style's cut)


class Reasoner:
    """Writes the steps for one example over the scene it *believes* (a perception error changes the belief)."""

    def __init__(self, scene: Scene, plan: dict[str, Any], *, resolution: int, rng: random.Random | None = None,
                 error: str | None = None, stop_at_first_yes: bool = True):
        if error is not None and error not in ERROR_KINDS:
            raise ValueError(f"unknown error kind {error!r}; known: {list(ERROR_KINDS)}")
        self.scene, self.plan, self.resolution = scene, plan, resolution
        self.rng = rng or random.Random(0)
        self.error = error
        self.stop_at_first_yes = stop_at_first_yes
        self.error_step: int | None = None
        self.steps: list[Step] = []

    # -- bookkeeping ---------------------------------------------------------------------------------------
    def take(self, kind: str) -> bool:
        """True once, at the step where the chosen mistake of ``kind`` happens."""
        if self.error == kind and self.error_step is None:
            self.error_step = len(self.steps)
            return True
        return False

    def add(self, title: str, content: str, lines: list[str] | None = None) -> None:
        self.steps.append(Step(title, content, lines))

    def obj(self, cell: Sequence[int]) -> SceneObject:
        found = self.scene.at(cell[0], cell[1])
        if found is None:
            raise ValueError(f"plan names cell {cell_label(cell[0], cell[1])} but it is empty")
        return found

    def cells(self) -> list[tuple[SceneObject | None, str]]:
        """Every cell in reading order (the look's order) with its object or None: ``[(obj, "a1"), …]``."""
        g = self.scene.grid
        return [(self.scene.at(r, c), cell_label(r, c)) for r in range(g) for c in range(g)]

    # -- moves -----------------------------------------------------------------------------------------------
    def look(self, relevant: Sequence[SceneObject] = (), attrs: Sequence[str] = ()) -> None:
        """The description; a perception error misreads one attribute of one (preferably relevant) object."""
        if self.error == "perception":
            victim = self.rng.choice(list(relevant) or list(self.scene.objects))
            attr = self.rng.choice(list(attrs) or list(ATTRIBUTES))
            wrong = self.rng.choice([v for v in ATTRIBUTE_WORDS[attr] if v != getattr(victim, attr)])
            believed = dataclasses.replace(victim, **{attr: wrong})
            self.take("perception")
            self.scene = Scene(self.scene.grid, tuple(believed if o is victim else o for o in self.scene.objects))
        self.add("Look at the scene", description(self.scene))

    def find(self, query: dict[str, str], *, first_only: bool, target: SceneObject | None = None) -> list[SceneObject]:
        """The walk; for one referent (``first_only``) it stops at the first ``yes`` if ``stop_at_first_yes``.
        Returns the cells marked yes."""
        objects = list(self.scene.objects)
        flips: dict[int, str] = {}
        if self.error == "selection" and self.error_step is None:
            flips = self._selection_flips(objects, query, first_only, target)
            if flips:
                self.take("selection")
        lines, hits = [], []
        index = {id(o): i for i, o in enumerate(objects)}
        for obj, label in self.cells():
            if obj is None:  # an empty cell: its label and the look's mark, so the next label is always the next cell
                lines.append(f"{label} {EMPTY}" if first_only else f"{label} {EMPTY} {len(hits)}")
                continue
            text, hit = walk_line(obj, query, flip=flips.get(index[id(obj)]))
            if hit:
                hits.append(obj)
            lines.append(text if first_only else f"{text} {len(hits)}")  # a count's walk: a running tally per cell
            if hit and first_only and self.stop_at_first_yes:
                break
        words = query_words(query)
        self.add(f"Find the {cond_text(query)}", f"find {words} : " + " ".join(lines) + " .", lines)
        return hits

    def _selection_flips(self, objects, query, first_only, target) -> dict[int, str]:
        """One wrong mark that changes which cells a walk takes (two for a referent found later than a decoy)."""
        keys = [a for a in ATTRIBUTES if a in query]
        misses = {i: [a for a in keys if getattr(o, a) != query[a]] for i, o in enumerate(objects)}
        decoys = [i for i, m in misses.items() if len(m) == 1]  # one wrong mark makes them look right
        if first_only:
            t = next((i for i, o in enumerate(objects) if o is target), None)
            if t is None or not decoys:
                return {}
            before = [i for i in decoys if i < t]
            if before:
                i = self.rng.choice(before)
                return {i: misses[i][0]}
            i = self.rng.choice(decoys)
            return {i: misses[i][0], t: self.rng.choice(keys)}  # skip the referent, take a later decoy
        hits = [i for i, m in misses.items() if not m]
        candidates = [(i, self.rng.choice(keys)) for i in hits] + [(i, misses[i][0]) for i in decoys]
        if not candidates:
            return {}
        i, attr = self.rng.choice(candidates)
        return {i: attr}

    def find_two(self, conds: Sequence[dict[str, str]]) -> tuple[list[SceneObject], list[SceneObject]]:
        """One walk for two counts of the same attribute (``find red | blue : a1 . 0 0 a2 lrc large red circle : red
        yes blue no -> 1 0 a3 . 1 0 … .``): every cell, one mark per count next to its word, then both running
        tallies, each the one a cell before plus its own mark. Returns the cells marked yes for each count."""
        (ka, va), (kb, vb) = (_one_attribute(c) for c in conds)
        if ka != kb:
            raise ValueError(f"a two-count walk needs one attribute for both counts, got {ka!r} and {kb!r}")
        objects = list(self.scene.objects)
        flip: tuple[int, int] | None = None  # (object index, which count) of a selection error's wrong mark
        if self.error == "selection" and self.error_step is None and objects:
            flip = (self.rng.randrange(len(objects)), self.rng.randrange(2))
            self.take("selection")
        index = {id(o): i for i, o in enumerate(objects)}
        lines: list[str] = []
        hits: tuple[list[SceneObject], list[SceneObject]] = ([], [])
        for obj, label in self.cells():
            if obj is None:
                lines.append(f"{label} {EMPTY} {len(hits[0])} {len(hits[1])}")
                continue
            marks = []
            for j, value in enumerate((va, vb)):
                ok = (getattr(obj, ka) == value) != (flip == (index[id(obj)], j))
                marks.append(f"{value} {yes_no(ok)}")
                if ok:
                    hits[j].append(obj)
            lines.append(" ".join([obj.label, code(obj), obj.name, ":", *marks, "->", str(len(hits[0])),
                                   str(len(hits[1]))]))
        self.add(f"Find the {cond_text(conds[0])} and the {cond_text(conds[1])}",
                 f"find {va} {TWO_COUNTS} {vb} : " + " ".join(lines) + " .", lines)
        return hits

    def count_two(self, hits: tuple[Sequence[SceneObject], Sequence[SceneObject]]) -> tuple[int, int]:
        """``count 2 1``: a copy of the walk's last two tallies (a count error miscounts one of them)."""
        n = [len(h) for h in hits]
        if self.take("count"):
            j = self.rng.randrange(2)
            n[j] = n[j] + 1 if n[j] == 0 or self.rng.random() < 0.5 else n[j] - 1
        self.add("Count", f"count {n[0]} {n[1]}")
        return n[0], n[1]

    def conclude(self, obj: SceneObject | None) -> SceneObject | None:
        """``so b2 sbc small blue circle``: the label of the line marked ``yes``, then its code and words, written the
        way a walk line is (the code copied from the look by its label, the words expanded from the code right
        before them), not copied from a line far above; a location error names a neighbour."""
        if obj is None:
            self.add("Conclude", "so none")
            return None
        if self.take("location"):
            obj = self._neighbour(obj)
        self.add("Conclude", f"so {obj.label} {code(obj)} {obj.name}")
        return obj

    def _neighbour(self, obj: SceneObject) -> SceneObject:
        """An object one cell away if there is one, else the object moved to an empty neighbouring cell."""
        g = self.scene.grid
        cells = [(obj.row + dr, obj.col + dc) for dr, dc in ((0, 1), (0, -1), (1, 0), (-1, 0))]
        cells = [(r, c) for r, c in cells if 0 <= r < g and 0 <= c < g]
        taken = [self.scene.at(r, c) for r, c in cells if self.scene.at(r, c) is not None]
        if taken:
            return self.rng.choice(taken)
        r, c = self.rng.choice(cells)
        return dataclasses.replace(obj, row=r, col=c, dx=0.0, dy=0.0)

    def read_cell(self, obj: SceneObject) -> SceneObject:
        """Position questions: ``find b2 : b2 sbc small blue circle .``; a location error reads a neighbour."""
        asked = obj.label
        if self.take("location"):
            obj = self._neighbour(obj)
            if self.scene.at(obj.row, obj.col) is None:  # an empty neighbour reads as nothing: take an object
                obj = self.rng.choice([o for o in self.scene.objects if o.label != asked])
        self.add(f"Find cell {asked}", f"find {asked} : {obj.label} {code(obj)} {obj.name} .")
        return obj

    def count(self, hits: Sequence[SceneObject]) -> int:
        n = len(hits)
        if self.take("count"):
            n = n + 1 if n == 0 or self.rng.random() < 0.5 else n - 1
        self.add("Count", f"count {n}")
        return n

    def box(self, obj: SceneObject) -> list[int]:
        """The box of the object centred in its cell, in pixels of the image at ``resolution``, one axis at a time:
        ``box c2 small : column 2 -> 35 49 row 3 -> 63 77 : [ 35 , 63 , 49 , 77 ]`` (each range a function of one
        number and the size right before it)."""
        b = box(dataclasses.replace(obj, dx=0.0, dy=0.0), grid=self.scene.grid, resolution=self.resolution)
        self.add("Compute the box", f"box {obj.label} {obj.size} : column {obj.col + 1} -> {b[0]} {b[2]} "
                                    f"row {obj.row + 1} -> {b[1]} {b[3]} : {box_words(b)}")
        return b


# ------------------------------------------------------------------------------------------- writers by op
def _w_attr(r: Reasoner) -> str:
    target = r.obj(r.plan["obj"])
    r.look([target], [r.plan["attr"]])
    obj = r.conclude(r.read_cell(r.scene.at(target.row, target.col)))
    return getattr(obj, r.plan["attr"])


def _w_attr_of(r: Reasoner) -> str:
    target = r.obj(r.plan["obj"])
    r.look([target], [r.plan["attr"]])
    believed = r.scene.at(target.row, target.col)
    hits = r.find(query_from_expr(r.plan["expr"]), first_only=True, target=believed)
    obj = r.conclude(hits[0] if hits else None)
    return getattr(obj, r.plan["attr"]) if obj else "none"


def _w_where(r: Reasoner) -> str:
    r.look()
    target = r.obj(r.plan["obj"])
    hits = r.find(query_from_expr(r.plan["expr"]), first_only=True, target=target)
    obj = r.conclude(hits[0] if hits else None)
    return obj.label if obj else "none"


def _w_ground(r: Reasoner) -> str:
    r.look()
    target = r.obj(r.plan["obj"])
    hits = r.find(query_from_expr(r.plan["expr"]), first_only=True, target=target)
    obj = r.conclude(hits[0] if hits else None)
    return box_words(r.box(obj)) if obj else "none"


def _look_for_counts(r: Reasoner) -> list[dict[str, str]]:
    """The look for a counting plan (a perception error misreads an object the counts are about); its conditions."""
    conds = r.plan["conds"]
    relevant = [o for o in r.scene.objects if any(all(getattr(o, k) == v for k, v in c.items()) for c in conds)]
    r.look(relevant, sorted({k for c in conds for k in c}))
    return conds


def _counts(r: Reasoner) -> list[int]:
    return [r.count(r.find(dict(cond), first_only=False)) for cond in _look_for_counts(r)]


def _w_count(r: Reasoner) -> str:
    (n,) = _counts(r)
    return str(n)


def _two_counts(r: Reasoner) -> tuple[int, int]:
    """Two counts of one attribute's values in one walk (``find_two``), then ``count A B``."""
    return r.count_two(r.find_two(_look_for_counts(r)))


def last_step(a: int, sign: str, b: int, result: str) -> str:
    """A two-count chain's last step: ``2 > 1 -> yes``, ``2 + 1 = 3`` or ``2 - 1 = 1`` (its drill writes the same)."""
    return f"{a} {sign} {b} {'->' if sign == '>' else '='} {result}"


def _w_compare(r: Reasoner) -> str:
    na, nb = _two_counts(r)
    more = na > nb
    if r.take("arithmetic"):
        more = not more
    r.add("Compare the counts", last_step(na, ">", nb, yes_no(more)))
    return yes_no(more)


def _w_arith(r: Reasoner) -> str:
    na, nb = _two_counts(r)
    sign = "+" if r.plan["op"] == "add" else "-"
    value = na + nb if sign == "+" else na - nb
    if r.take("arithmetic"):
        value += r.rng.choice([-1, 1]) if value > 0 else 1
    r.add("Compute", last_step(na, sign, nb, str(value)))
    return str(value)


def _axis(rel: str, a: SceneObject, b: SceneObject) -> str:
    if rel in ("left of", "right of"):
        return f"column {a.col + 1} {b.col + 1}"
    return f"row {a.label[0]} {b.label[0]}"


def _w_relation(r: Reasoner) -> str:
    r.look()
    rel = r.plan["relation"]
    found = []
    for cell, expr in zip(r.plan["objs"], r.plan["exprs"]):
        hits = r.find(query_from_expr(expr), first_only=True, target=r.obj(cell))
        obj = r.conclude(hits[0] if hits else None)
        if obj is None:
            return "none"
        found.append(obj)
    a, b = found
    holds = RELATIONS[rel](a, b)
    if r.take("arithmetic"):
        holds = not holds
    r.add("Compare the places", f"{a.label} {rel} {b.label} : {_axis(rel, a, b)} -> {yes_no(holds)}")
    return yes_no(holds)


def _w_relation_count(r: Reasoner) -> str:
    r.look()
    rel = r.plan["relation"]
    hits = r.find(query_from_expr(r.plan["expr"]), first_only=True, target=r.obj(r.plan["obj"]))
    b = r.conclude(hits[0] if hits else None)
    if b is None:
        return "none"
    others = [o for o in r.scene.objects if o.label != b.label]
    marks = [RELATIONS[rel](o, b) for o in others]
    if others and r.take("selection"):
        i = r.rng.randrange(len(others))
        marks[i] = not marks[i]
    mark_of = {o.label: m for o, m in zip(others, marks)}
    lines, tally = [], 0
    for obj, label in r.cells():
        if label == b.label:
            continue
        if obj is None:
            lines.append(f"{label} {EMPTY} {tally}")
            continue
        tally += mark_of[label]
        lines.append(f"{label} {yes_no(mark_of[label])} {tally}")
    r.add(f"Find the objects {rel} {b.label}", f"{rel} {b.label} : " + " ".join(lines) + " .", lines)
    return str(r.count([o for o, m in zip(others, marks) if m]))


WRITERS = {
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


def reason(example: dict[str, Any], *, error: str | None = None, rng: random.Random | None = None,
           style: str = "long", short_lines: int = 2, stop_at_first_yes: bool = True) -> tuple[list[Step], str, int | None]:
    """``(steps, answer, error_step)`` for an example of ``scenes.generate_examples``.

    ``style="short"`` keeps the look and the first walk's first ``short_lines`` lines, then ``... so <answer>``
    (the answer the full chain reaches); referent and position questions have no short form (their walk is short).
    ``stop_at_first_yes=False`` walks every occupied cell for a referent too (the conclusion takes the first ``yes``).
    """
    if style not in STYLES:
        raise ValueError(f"unknown reasoning style {style!r}; known: {list(STYLES)}")
    plan = example["plan"]
    if plan["op"] not in WRITERS:
        raise ValueError(f"example {example.get('id', '?')!r}: no reasoning writer for plan op {plan['op']!r}")
    r = Reasoner(Scene.from_dict(example["scene"]), plan, resolution=example["resolution"], rng=rng, error=error,
                 stop_at_first_yes=stop_at_first_yes)
    answer = WRITERS[plan["op"]](r)
    steps = r.steps
    if style == "short" and plan["op"] in SEVERAL_STEP_OPS:
        first = next(s for s in steps if s.lines is not None)
        cut = " ".join(first.content.split(" : ", 1)[:1] + [":"] + _first_occupied(first.lines, short_lines)) + \
            f" ... so {answer}"
        steps = [steps[0], Step("Reason briefly", cut)]
    return steps, answer, r.error_step


def _first_occupied(lines: Sequence[str], n: int) -> list[str]:
    """A walk's lines up to and including its ``n``-th line about an object (empty cells ride along)."""
    out, seen = [], 0
    for line in lines:
        if seen >= n:
            break
        out.append(line)
        seen += line.split()[1] != EMPTY
    return out


SEVERAL_STEP_OPS = ("count", "compare", "add", "sub", "relation", "relation_count")
