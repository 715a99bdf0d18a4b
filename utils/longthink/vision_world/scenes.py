"""The tiny visual world: scenes of coloured shapes on a grid, rendered with Pillow, with questions and boxes.

A scene is a ``grid × grid`` board; each occupied cell holds one object with a colour, a shape, a size and a
small seeded offset inside its cell. ``render(scene, resolution)`` draws it at any square resolution, so the
same scene can be shown at the training resolution and at shifted ones (TACO's test-time resolution scaling).

Two choices make the world learnable by a tiny model in minutes on a CPU, and are part of its design:

* The background shades left→right and top→bottom. Qwen2-VL's vision tower has only relative (rotary)
  positions, so without it a tiny model cannot tell *where* an object is; with it every patch sees its place,
  as real photographs give context.
* At the training resolution (``grid × 28`` px) one merged visual token covers exactly one grid cell.

Questions come in kinds (see ``QUESTION_KINDS``): single-step ones (an attribute at a cell, the cell of a
referent) and several-step ones (counting with a condition, comparing counts, arithmetic on counts, spatial
relations), each with a gold answer; referring expressions come with gold boxes in pixel coordinates of the
rendered image. Everything is seeded: ``generate_examples(n, seed=...)`` gives the same examples every time.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable, Sequence
from typing import Any

from longthink.boxes import iou, parse_box  # noqa: F401 (the world's scoring; re-exported)

COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (214, 39, 40),
    "green": (34, 150, 52),
    "blue": (31, 80, 200),
    "yellow": (240, 200, 20),
}
SHAPES = ("circle", "square", "triangle")
SIZES: dict[str, float] = {"small": 0.5, "large": 0.82}  # side of the object as a fraction of the cell
EMPTY = "."
MAX_OFFSET = 0.06  # the object's centre moves at most this fraction of a cell from the cell's centre
PIXELS_PER_CELL = 28  # Qwen2-VL: patch 14 × spatial merge 2 → one merged visual token per cell


class SceneError(ValueError):
    """Bad scene settings or a bad question request; the message names the value at fault."""


@dataclasses.dataclass(frozen=True)
class SceneObject:
    colour: str
    shape: str
    size: str
    row: int  # 0-based
    col: int  # 0-based
    dx: float = 0.0  # offset of the centre, fraction of a cell
    dy: float = 0.0

    @property
    def name(self) -> str:
        return f"{self.size} {self.colour} {self.shape}"

    @property
    def label(self) -> str:
        return cell_label(self.row, self.col)

    @property
    def where(self) -> str:
        return position_text(self.row, self.col)


@dataclasses.dataclass(frozen=True)
class Scene:
    grid: int
    objects: tuple[SceneObject, ...]

    def at(self, row: int, col: int) -> SceneObject | None:
        for obj in self.objects:
            if obj.row == row and obj.col == col:
                return obj
        return None

    def to_dict(self) -> dict[str, Any]:
        return {"grid": self.grid, "objects": [dataclasses.asdict(o) for o in self.objects]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Scene:
        return cls(int(data["grid"]), tuple(SceneObject(**o) for o in data["objects"]))


ROW_LETTERS = "abcdefgh"
MAX_GRID = len(ROW_LETTERS)  # rows are letters a..h, columns digits 1..8: every cell label is one short word


def cell_label(row: int, col: int) -> str:
    """The cell's name, chess-style: row letter (a = top) and column number (1 = left), e.g. ``b3``."""
    return f"{ROW_LETTERS[row]}{col + 1}"


def position_text(row: int, col: int) -> str:
    """How questions name a place: ``cell b3`` (the same label the description uses)."""
    return f"cell {cell_label(row, col)}"


def default_resolution(grid: int) -> int:
    """The training resolution: one merged Qwen2-VL token (28 px) per cell."""
    return grid * PIXELS_PER_CELL


# ------------------------------------------------------------------------------------------------- scenes
def make_scene(rng: random.Random, *, grid: int = 4, min_objects: int = 3, max_objects: int = 8) -> Scene:
    """A random scene: ``min_objects..max_objects`` objects in distinct cells, sorted in reading order."""
    if not isinstance(grid, int) or isinstance(grid, bool) or not 2 <= grid <= MAX_GRID:
        raise SceneError(f"grid must be an int in 2..{MAX_GRID}, got {grid!r}")
    if not 1 <= min_objects <= max_objects <= grid * grid:
        raise SceneError(
            f"need 1 <= min_objects <= max_objects <= grid*grid ({grid * grid}), got {min_objects!r}..{max_objects!r}"
        )
    n = rng.randint(min_objects, max_objects)
    cells = sorted(rng.sample(range(grid * grid), n))
    objects = tuple(
        SceneObject(
            colour=rng.choice(list(COLOURS)),
            shape=rng.choice(SHAPES),
            size=rng.choice(list(SIZES)),
            row=c // grid,
            col=c % grid,
            dx=round(rng.uniform(-MAX_OFFSET, MAX_OFFSET), 3),
            dy=round(rng.uniform(-MAX_OFFSET, MAX_OFFSET), 3),
        )
        for c in cells
    )
    return Scene(grid, objects)


def _check_resolution(resolution: Any) -> int:
    if not isinstance(resolution, int) or isinstance(resolution, bool) or resolution < 28:
        raise SceneError(f"resolution must be an int >= 28 (pixels per side), got {resolution!r}")
    return resolution


def box(obj: SceneObject, *, grid: int, resolution: int) -> list[int]:
    """The object's box ``[x1, y1, x2, y2]`` in pixels of the image rendered at ``resolution`` (x2, y2 exclusive)."""
    cell = _check_resolution(resolution) / grid
    cx, cy = (obj.col + 0.5 + obj.dx) * cell, (obj.row + 0.5 + obj.dy) * cell
    half = SIZES[obj.size] * cell / 2
    return [round(cx - half), round(cy - half), round(cx + half), round(cy + half)]


def render(scene: Scene, resolution: int | None = None):
    """Draw the scene as an RGB ``PIL.Image`` of ``resolution × resolution`` pixels (deterministic)."""
    import numpy as np
    from PIL import Image, ImageDraw

    res = _check_resolution(resolution if resolution is not None else default_resolution(scene.grid))
    ramp = np.linspace(0.0, 1.0, res, dtype=np.float32)
    bg = np.empty((res, res, 3), dtype=np.float32)
    bg[..., 0] = 150 + 100 * ramp[None, :]  # left → right
    bg[..., 1] = 150 + 100 * ramp[:, None]  # top → bottom
    bg[..., 2] = 170
    image = Image.fromarray(bg.round().astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(image)
    for obj in scene.objects:
        x1, y1, x2, y2 = box(obj, grid=scene.grid, resolution=res)
        fill = COLOURS[obj.colour]
        if obj.shape == "circle":
            draw.ellipse([x1, y1, x2 - 1, y2 - 1], fill=fill)
        elif obj.shape == "square":
            draw.rectangle([x1, y1, x2 - 1, y2 - 1], fill=fill)
        else:
            draw.polygon([((x1 + x2 - 1) / 2, y1), (x2 - 1, y2 - 1), (x1, y2 - 1)], fill=fill)
    return image


# ----------------------------------------------------------------------------------------------- referents
_FULL = (("shape",), ("colour", "shape"), ("size", "colour", "shape"))
_NO_COLOUR = (("shape",), ("size", "shape"))
_NO_SHAPE = (("colour",), ("size", "colour"))


def referring_expression(scene: Scene, obj: SceneObject, *, keys: Sequence[Sequence[str]] = _FULL) -> str | None:
    """The shortest of "the <shape>", "the <colour> <shape>", "the <size> <colour> <shape>" naming only ``obj``.

    ``keys`` lists the attribute sets to try, shortest first; a set without a shape reads "the red object".
    """
    for ks in keys:
        matches = [o for o in scene.objects if all(getattr(o, k) == getattr(obj, k) for k in ks)]
        if matches == [obj]:
            noun = [] if "shape" in ks else ["object"]
            return "the " + " ".join([*(getattr(obj, k) for k in ks), *noun])
    return None


def unique_referents(scene: Scene) -> list[tuple[SceneObject, str]]:
    return [(o, e) for o in scene.objects if (e := referring_expression(scene, o)) is not None]


def _matches(obj: SceneObject, cond: dict[str, str]) -> bool:
    return all(getattr(obj, k) == v for k, v in cond.items())


def cond_text(cond: dict[str, str]) -> str:
    """``{"colour": "red"}`` → "red objects"; ``{"colour": "red", "shape": "circle"}`` → "red circles"."""
    words = [cond[k] for k in ("size", "colour") if k in cond]
    noun = cond["shape"] + "s" if "shape" in cond else "objects"
    return " ".join([*words, noun])


def _random_cond(rng: random.Random, n_keys: int) -> dict[str, str]:
    keys = rng.sample(["size", "colour", "shape"], n_keys)
    options = {"size": list(SIZES), "colour": list(COLOURS), "shape": list(SHAPES)}
    return {k: rng.choice(options[k]) for k in sorted(keys, key=["size", "colour", "shape"].index)}


def count(scene: Scene, cond: dict[str, str]) -> int:
    return sum(_matches(o, cond) for o in scene.objects)


# ----------------------------------------------------------------------------------------------- questions
# Each builder returns (question, answer, plan) or None when the scene does not suit it; ``plan`` is the
# structured reasoning the chain teacher turns into steps.
Q = tuple[str, str, dict[str, Any]] | None


def _q_colour_at(scene: Scene, rng: random.Random) -> Q:
    o = rng.choice(scene.objects)
    return f"What colour is the object in {o.where}?", o.colour, {"op": "attr", "obj": o, "attr": "colour"}


def _q_shape_at(scene: Scene, rng: random.Random) -> Q:
    o = rng.choice(scene.objects)
    return f"What shape is the object in {o.where}?", o.shape, {"op": "attr", "obj": o, "attr": "shape"}


def _q_colour_of(scene: Scene, rng: random.Random) -> Q:
    """Content lookup: the colour of an object named without its colour ("the triangle", "the small circle")."""
    refs = [(o, e) for o in scene.objects if (e := referring_expression(scene, o, keys=_NO_COLOUR)) is not None]
    if not refs:
        return None
    o, expr = rng.choice(refs)
    return f"What colour is {expr}?", o.colour, {"op": "attr_of", "obj": o, "expr": expr, "attr": "colour"}


def _q_shape_of(scene: Scene, rng: random.Random) -> Q:
    """Content lookup: the shape of an object named without its shape ("the red object")."""
    refs = [(o, e) for o in scene.objects if (e := referring_expression(scene, o, keys=_NO_SHAPE)) is not None]
    if not refs:
        return None
    o, expr = rng.choice(refs)
    return f"What shape is {expr}?", o.shape, {"op": "attr_of", "obj": o, "expr": expr, "attr": "shape"}


def _q_where(scene: Scene, rng: random.Random) -> Q:
    refs = unique_referents(scene)
    if not refs:
        return None
    o, expr = rng.choice(refs)
    return f"Where is {expr}?", o.label, {"op": "where", "obj": o, "expr": expr}


def _q_count_cond(scene: Scene, rng: random.Random) -> Q:
    cond = _random_cond(rng, rng.choice([1, 2]))
    n = count(scene, cond)
    return f"How many {cond_text(cond)} are there?", str(n), {"op": "count", "conds": [cond], "counts": [n]}


def _two_conds(rng: random.Random) -> tuple[dict[str, str], dict[str, str]]:
    key = rng.choice(["colour", "shape", "size"])
    options = {"size": list(SIZES), "colour": list(COLOURS), "shape": list(SHAPES)}[key]
    a, b = rng.sample(options, 2)
    return {key: a}, {key: b}


def _q_compare_counts(scene: Scene, rng: random.Random) -> Q:
    ca, cb = _two_conds(rng)
    na, nb = count(scene, ca), count(scene, cb)
    q = f"Are there more {cond_text(ca)} than {cond_text(cb)}?"
    return q, "yes" if na > nb else "no", {"op": "compare", "conds": [ca, cb], "counts": [na, nb]}


def _q_count_arith(scene: Scene, rng: random.Random) -> Q:
    ca, cb = _two_conds(rng)
    na, nb = count(scene, ca), count(scene, cb)
    if rng.random() < 0.5:
        q = f"What is the number of {cond_text(ca)} plus the number of {cond_text(cb)}?"
        return q, str(na + nb), {"op": "add", "conds": [ca, cb], "counts": [na, nb]}
    if na < nb:
        ca, cb, na, nb = cb, ca, nb, na
    q = f"How many more {cond_text(ca)} than {cond_text(cb)} are there?"
    return q, str(na - nb), {"op": "sub", "conds": [ca, cb], "counts": [na, nb]}


RELATIONS: dict[str, Callable[[SceneObject, SceneObject], bool]] = {
    "left of": lambda a, b: a.col < b.col,
    "right of": lambda a, b: a.col > b.col,
    "above": lambda a, b: a.row < b.row,
    "below": lambda a, b: a.row > b.row,
}


def _q_spatial(scene: Scene, rng: random.Random) -> Q:
    refs = unique_referents(scene)
    if len(refs) < 2:
        return None
    (a, ea), (b, eb) = rng.sample(refs, 2)
    rel = rng.choice(list(RELATIONS))
    holds = RELATIONS[rel](a, b)
    return f"Is {ea} {rel} {eb}?", "yes" if holds else "no", {
        "op": "relation", "objs": [a, b], "exprs": [ea, eb], "relation": rel}


def _q_spatial_count(scene: Scene, rng: random.Random) -> Q:
    refs = unique_referents(scene)
    if not refs:
        return None
    b, eb = rng.choice(refs)
    rel = rng.choice(list(RELATIONS))
    hits = [o for o in scene.objects if o is not b and RELATIONS[rel](o, b)]
    return f"How many objects are {rel} {eb}?", str(len(hits)), {
        "op": "relation_count", "obj": b, "expr": eb, "relation": rel, "hits": hits}


def _q_ground(scene: Scene, rng: random.Random) -> Q:
    refs = unique_referents(scene)
    if not refs:
        return None
    o, expr = rng.choice(refs)
    return f"Give the bounding box of {expr}.", "", {"op": "ground", "obj": o, "expr": expr}


# kind -> (builder, number of reasoning steps it needs)
QUESTION_KINDS: dict[str, tuple[Callable[[Scene, random.Random], Q], int]] = {
    "colour_of": (_q_colour_of, 1),
    "shape_of": (_q_shape_of, 1),
    "where": (_q_where, 1),
    "colour_at": (_q_colour_at, 1),
    "shape_at": (_q_shape_at, 1),
    "ground": (_q_ground, 1),
    "count_cond": (_q_count_cond, 2),
    "compare_counts": (_q_compare_counts, 3),
    "count_arith": (_q_count_arith, 3),
    "spatial": (_q_spatial, 2),
    "spatial_count": (_q_spatial_count, 3),
}
# Single-step: find an object by what it looks like, read one attribute or its place (content → answer).
# colour_at / shape_at go the other way (place → content): one step too, but reported apart (POSITION_KINDS).
SINGLE_STEP_KINDS = ("colour_of", "shape_of", "where")
POSITION_KINDS = ("colour_at", "shape_at")
MULTI_STEP_KINDS = ("count_cond", "compare_counts", "count_arith", "spatial", "spatial_count")
GROUNDING_KINDS = ("ground",)


def format_box(b: Sequence[int]) -> str:
    return "[" + ", ".join(str(int(v)) for v in b) + "]"


def make_question(scene: Scene, kind: str, rng: random.Random, *, resolution: int | None = None) -> dict | None:
    """One question of ``kind`` about ``scene`` (None if the scene has no suitable referent)."""
    if kind not in QUESTION_KINDS:
        raise SceneError(f"unknown question kind {kind!r}; known kinds: {sorted(QUESTION_KINDS)}")
    builder, steps = QUESTION_KINDS[kind]
    made = builder(scene, rng)
    if made is None:
        return None
    question, answer, plan = made
    res = resolution if resolution is not None else default_resolution(scene.grid)
    out = {"kind": kind, "question": question, "answer": answer, "steps": steps, "plan": plan, "resolution": res}
    if kind in GROUNDING_KINDS:
        gold = box(plan["obj"], grid=scene.grid, resolution=res)
        out.update(answer=format_box(gold), box=gold)
    return out


def generate_examples(
    n: int,
    *,
    seed: int,
    kinds: Sequence[str] = tuple(QUESTION_KINDS),
    grid: int = 4,
    min_objects: int = 3,
    max_objects: int = 8,
    resolution: int | None = None,
) -> list[dict[str, Any]]:
    """``n`` examples cycling through ``kinds``, each with its own scene; the same seed gives the same list.

    Each example: ``id, kind, question, answer, steps, resolution, scene`` (a dict; rebuild with
    ``Scene.from_dict``) and, for grounding, ``box`` in pixels of the image rendered at ``resolution``.
    ``plan`` is the question's structured reasoning (objects as ``[row, col]`` cells) for the chain teacher.
    """
    if not isinstance(n, int) or n < 0:
        raise SceneError(f"n must be a non-negative int, got {n!r}")
    unknown = [k for k in kinds if k not in QUESTION_KINDS]
    if unknown or not kinds:
        raise SceneError(f"unknown question kind(s) {unknown or list(kinds)!r}; known kinds: {sorted(QUESTION_KINDS)}")
    if resolution is not None:
        _check_resolution(resolution)
    rng = random.Random(f"scenes-{seed}")
    out: list[dict[str, Any]] = []
    i = 0
    while len(out) < n:
        kind = kinds[i % len(kinds)]
        i += 1
        ex = make_example(rng, kind, grid=grid, min_objects=min_objects, max_objects=max_objects,
                          resolution=resolution, example_id=f"{seed}-{len(out)}")
        if ex is not None:
            out.append(ex)
    return out


def make_example(rng: random.Random, kind: str, *, grid: int = 4, min_objects: int = 3, max_objects: int = 8,
                 resolution: int | None = None, example_id: str = "") -> dict[str, Any] | None:
    """One example of ``kind`` on a fresh scene drawn from ``rng`` (None if that scene does not suit the kind)."""
    scene = make_scene(rng, grid=grid, min_objects=min_objects, max_objects=max_objects)
    q = make_question(scene, kind, rng, resolution=resolution)
    if q is None:
        return None
    q["plan"] = plan_to_json(q["plan"])
    return {"id": example_id, **q, "scene": scene.to_dict()}


def plan_to_json(value: Any) -> Any:
    """Objects → ``[row, col]`` so plans can be stored with datasets (JSON)."""
    if isinstance(value, SceneObject):
        return [value.row, value.col]
    if isinstance(value, dict):
        return {k: plan_to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plan_to_json(v) for v in value]
    return value


def example_image(example: dict[str, Any], resolution: int | None = None):
    """Render an example's scene (at its own resolution unless given)."""
    return render(Scene.from_dict(example["scene"]), resolution or example["resolution"])


def rescale_box(b: Sequence[float], *, from_resolution: int, to_resolution: int) -> list[float]:
    """Map a box between pixel frames of the same scene rendered (or resized) at two resolutions."""
    s = to_resolution / from_resolution
    return [v * s for v in b]
