"""Look: the labelled description of a scene, one code token per cell, and the words every reply is made of.

The description names every cell in reading order, each label followed by one code (``.`` for an empty cell)::

    a1 lrc a2 . a3 syt a4 . b1 . b2 sbs ... d4 lgc

A code is the initials of size, colour and shape (``lrc`` = large red circle, ``syt`` = small yellow triangle);
the initials are distinct within each attribute, so a code names one object kind. The description is read
*positionally*: at the training resolution visual token ``k`` is cell ``k``, so writing the code after label
``k`` only needs token ``k``. That is the one visual skill a tiny Qwen2-VL learns fast on a CPU (0.994-1.000 per
cell in the probes; full words for colours did not bind to the image in the same budget, see
notes/cpu-calibration.md, "Look, then reason").

``world_words(grid, max_number)`` lists what must be one token of the world's tokenizer: cell labels, codes,
attribute words, numbers and the reasoning walk's words, each with the leading space it has in running text
(``longthink.vision_world.vlm.build_vision_tokenizer`` adds them whole). One token per word keeps a match
between a question's word and a walk's word a match between identical tokens.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from longthink.vision_world.scenes import COLOURS, EMPTY, SHAPES, SIZES, Scene, SceneObject, cell_label

ATTRIBUTES = ("size", "colour", "shape")  # the order attributes are written in (as in "small red circle")
ATTRIBUTE_WORDS: dict[str, tuple[str, ...]] = {"size": tuple(SIZES), "colour": tuple(COLOURS), "shape": SHAPES}
CODES: dict[str, tuple[str, str, str]] = {
    f"{z[0]}{c[0]}{s[0]}": (z, c, s) for z in SIZES for c in COLOURS for s in SHAPES
}
# The reasoning walk's own words (see longthink.vision_world.reasoning) and the answer's punctuation.
WALK_WORDS = ("find", ":", "yes", "no", "->", ".", "...", "so", "box", "count", "[", ",", "]", ">", "+", "-", "=", "|",
              "left", "right", "above", "below", "of", "column", "row")
DESCRIBE_PREFIX = "The scene:"


def code(obj: SceneObject) -> str:
    """``lrc`` for a large red circle."""
    return f"{obj.size[0]}{obj.colour[0]}{obj.shape[0]}"


def expand(code_token: str) -> str:
    """``lrc`` -> ``large red circle`` (KeyError for an unknown code)."""
    return " ".join(CODES[code_token])


def labels(grid: int) -> list[str]:
    return [cell_label(r, c) for r in range(grid) for c in range(grid)]


def description(scene: Scene) -> str:
    """Every cell in reading order: its label, then its object's code or ``.`` (empty)."""
    parts = []
    for r in range(scene.grid):
        for c in range(scene.grid):
            obj = scene.at(r, c)
            parts += [cell_label(r, c), code(obj) if obj else EMPTY]
    return " ".join(parts)


def believed_scene(cells: dict[str, str], *, grid: int) -> Scene:
    """The scene a description states (codes only: no offsets), e.g. to reason over what a model said it saw."""
    objects = []
    for r in range(grid):
        for c in range(grid):
            value = cells.get(cell_label(r, c))
            if value in CODES:
                size, colour, shape = CODES[value]
                objects.append(SceneObject(colour=colour, shape=shape, size=size, row=r, col=c))
    return Scene(grid, tuple(objects))


_LABEL_RE = re.compile(r"^[a-h][1-8]$")


def look_part(text: str) -> str:
    """The description part of a reply: after ``<think>`` or ``The scene:``, before the walk (``find``)."""
    for start in ("<think>", DESCRIBE_PREFIX):
        if start in text:
            text = text.split(start, 1)[1]
            break
    return re.split(r"\s(?:find|so)\s|</think>", " " + text, maxsplit=1)[0]


def parse_description(text: str, *, grid: int) -> dict[str, str]:
    """``{label: code or "."}`` for the labels a description states (the first time each appears)."""
    tokens = look_part(text).split()
    valid = set(labels(grid))
    out: dict[str, str] = {}
    for i in range(len(tokens) - 1):
        if tokens[i] in valid and _LABEL_RE.match(tokens[i]) and tokens[i] not in out:
            out[tokens[i]] = tokens[i + 1]
    return out


def cell_accuracy(text: str, scene: Scene) -> float:
    """Share of the scene's cells whose code (or ``.``) the text's description states right."""
    want = dict(zip(*[iter(description(scene).split())] * 2))
    got = parse_description(text, grid=scene.grid)
    return sum(got.get(k) == v for k, v in want.items()) / len(want)


def cell_errors(text: str, scene: Scene) -> dict[str, int]:
    """What went wrong cell by cell: ``missing`` label, ``empty_as_object``, ``object_as_empty``, or which
    attribute of an object was misread (``size``, ``colour``, ``shape``; one cell can count in several)."""
    got = parse_description(text, grid=scene.grid)
    errors = {k: 0 for k in ("missing", "empty_as_object", "object_as_empty", "invalid", *ATTRIBUTES)}
    for r in range(scene.grid):
        for c in range(scene.grid):
            lab, obj = cell_label(r, c), scene.at(r, c)
            said = got.get(lab)
            if said is None:
                errors["missing"] += 1
            elif obj is None:
                errors["empty_as_object"] += said != EMPTY
            elif said == EMPTY:
                errors["object_as_empty"] += 1
            elif said not in CODES:
                errors["invalid"] += 1
            else:
                for attr, value in zip(ATTRIBUTES, CODES[said]):
                    errors[attr] += value != getattr(obj, attr)
    return errors


def world_words(grid: int, max_number: int) -> list[str]:
    """The words that must each be one token (with their leading space): labels, codes, attribute words,
    numbers ``0..max_number`` and the walk's words."""
    words: Sequence[str] = [*labels(grid), *CODES, *(w for a in ATTRIBUTES for w in ATTRIBUTE_WORDS[a]),
                            *(str(n) for n in range(max_number + 1)), *WALK_WORDS]
    return [" " + w for w in dict.fromkeys(words)]
