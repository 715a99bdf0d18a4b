"""TACO's live controls: one grounding question at another resolution, answered at each test-time scale.

:class:`ResolutionExplorer` holds a VLM (through a reply function) and the same scene rendered at several input
resolutions (the evaluation split at the training resolution and at each shifted one). :meth:`ResolutionExplorer.view`
is the view function of both sliders: at TTRS scale ``s`` the processor's pixel bounds become ``s × train_pixels``
(``longthink.taco.ttrs.scale_bounds``; "as given" keeps the training bounds, no TTRS), the model answers greedily,
and the :class:`ScaleView` shows the image the model was actually given (``w̄ × h̄``, its visual tokens) with the
box in *that* frame, next to the original image with the box mapped back (``longthink.taco.frames.to_original``) and
the gold box, scored like the evaluation (IoU, Acc@0.5, think-answer consistency). Tests call :meth:`view`
directly; the notebook calls :meth:`ResolutionExplorer.show` (live sliders in JupyterLab, a few fixed settings
under papermill: ``longthink.widgets``).
"""

from __future__ import annotations

import base64
import dataclasses
import html
import io
from collections.abc import Callable, Sequence
from typing import Any

from longthink.taco.answers import answer_box, parse_reply, think_box
from longthink.taco.frames import PixelBounds
from longthink.taco.inference import Replies
from longthink.taco.rewards import RewardSettings
from longthink.taco.ttrs import scale_bounds
from longthink.widgets import Panel, Slider, panel

AS_GIVEN = "as given"  # the scale slider's label for "the training bounds, no TTRS"
EXTRA_SCALES = (0.5, 0.75, 1.0, 1.5, 2.0)  # the slider's marks besides the recipe's ttrs_scales
DISPLAY_PX = 224  # both images are drawn this wide (nearest-neighbour), so a 84 px and a 168 px scene compare
COLOURS = {"gold": "#2e7d32", "answer": "#d32f2f", "think": "#1565c0"}


@dataclasses.dataclass
class ScaleView:
    """One reply at one scale: the frame the model was given, its boxes in that frame and in the original."""

    label: str
    row: dict[str, Any]
    scale: float | None
    bounds: PixelBounds
    given_size: tuple[int, int]
    visual_tokens: int
    reply: str
    box_given: list[float] | None  # the answer box as the model wrote it (pixels of the given image)
    box: list[float] | None  # the same box in the original frame
    think_box: list[float] | None  # the reasoning's last box, original frame
    iou: float
    correct: bool
    consistent: bool

    @property
    def original_size(self) -> tuple[int, int]:
        w, h = self.row["image_size"]
        return int(w), int(h)

    def summary(self) -> str:
        scale = AS_GIVEN if self.scale is None else f"TTRS scale {self.scale:g}"
        (w, h), (gw, gh) = self.original_size, self.given_size
        box = "no readable answer box" if self.box is None else (
            f"box {_fmt(self.box_given)} in the given frame -> {_fmt(self.box)} in the original; IoU with the gold "
            f"{self.iou:.2f}: {'right' if self.correct else 'wrong'} (Acc@0.5)")
        return (f"{self.label}, {scale}: the {w} x {h} image was given to the model at {gw} x {gh} "
                f"({self.visual_tokens} visual tokens); {box}; reasoning and answer "
                f"{'agree' if self.consistent else 'do not agree'}")

    def __str__(self) -> str:
        return f"{self.summary()}\n{self.row['question']} (gold {self.row['answer']})\n{self.reply}"

    def __repr__(self) -> str:
        return str(self)

    def images(self):
        """``(given, original)``: PIL images with the boxes drawn, both ``DISPLAY_PX`` wide."""
        from PIL import Image

        image = self.row["image"].convert("RGB")
        given = image.resize(self.given_size, Image.BICUBIC)
        return (_draw(given, [(self.box_given, COLOURS["answer"])]),
                _draw(image, [(self.row["box"], COLOURS["gold"]), (self.think_box, COLOURS["think"]),
                              (self.box, COLOURS["answer"])]))

    def _repr_html_(self) -> str:
        given, original = (_png(im) for im in self.images())
        (w, h), (gw, gh) = self.original_size, self.given_size
        colour = "#1b5e20" if self.correct else "#b71c1c"
        legend = (f"<span style='color:{COLOURS['gold']}'>gold</span>, <span style='color:{COLOURS['answer']}'>"
                  f"answer</span>, <span style='color:{COLOURS['think']}'>last box of the reasoning</span>")
        return (f"<div><b style='color:{colour}'>{html.escape(self.summary())}</b><br>"
                f"<code>{html.escape(self.row['question'])}</code>"
                f"<table><tr><td style='text-align:center'>what the model was given ({gw} x {gh})<br>"
                f"<img src='data:image/png;base64,{given}'></td>"
                f"<td style='text-align:center'>the original ({w} x {h}), boxes mapped back<br>"
                f"<img src='data:image/png;base64,{original}'></td></tr></table>"
                f"<small>{legend}</small><pre style='white-space:pre-wrap'>{html.escape(self.reply)}</pre></div>")


def _fmt(box: Sequence[float] | None) -> str:
    return "none" if box is None else "[" + ", ".join(f"{v:.0f}" for v in box) + "]"


def _draw(image, boxes: Sequence[tuple[Sequence[float] | None, str]]):
    """``image`` scaled to ``DISPLAY_PX`` wide (nearest neighbour) with each box outlined in its colour."""
    from PIL import Image, ImageDraw

    f = DISPLAY_PX / image.width
    out = image.resize((DISPLAY_PX, max(1, round(image.height * f))), Image.NEAREST)
    draw = ImageDraw.Draw(out)
    for box, colour in boxes:
        if box is not None:
            x1, y1, x2, y2 = (float(v) * f for v in box)
            draw.rectangle([min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)], outline=colour, width=2)
    return out


def _png(image) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


class ResolutionExplorer:
    """A VLM's replies to a few REC rows at any TTRS scale (kept per setting).

    ``reply_fn(rows, bounds) -> Replies`` asks the model with the processor at ``bounds`` (the given sizes read from
    the processor); ``base`` are the training bounds; ``train_pixels`` and ``bound`` are the recipe's TTRS keys.
    """

    def __init__(self, rows: Sequence[tuple[str, dict]], reply_fn: Callable[[list[dict], PixelBounds], Replies],
                 settings: RewardSettings, *, base: PixelBounds, train_pixels: int, bound: str = "max",
                 scales: Sequence[float] = (0.5, 1.0, 2.0)):
        if not rows:
            raise ValueError("ResolutionExplorer needs at least one row")
        bad = [label for label, r in rows if r.get("task") != "rec"]
        if bad:
            raise ValueError(f"the resolution explorer shows boxes: rows {bad} are not REC rows")
        self.rows, self.reply_fn, self.settings = list(rows), reply_fn, settings
        self.base, self.train_pixels, self.bound = base, train_pixels, bound
        self.scales = tuple(sorted({float(s) for s in scales}))
        self._seen: dict[tuple[int, float | None], ScaleView] = {}

    def bounds(self, scale: float | None) -> PixelBounds:
        """The processor bounds at ``scale`` (None: the training bounds)."""
        if scale is None:
            return self.base
        return scale_bounds(self.base, train_pixels=self.train_pixels, scale=scale, bound=self.bound)

    def view(self, row: int = 0, scale: float | None = None) -> ScaleView:
        """Row ``row`` answered at TTRS ``scale`` (None: as given), scored: the view function of both sliders."""
        from longthink.taco.evaluate import score
        from longthink.taco.rewards import _frames
        from longthink.taco.frames import to_original

        if not 0 <= row < len(self.rows):
            raise IndexError(f"row {row} is not one of the {len(self.rows)} rows (0..{len(self.rows) - 1})")
        key = (row, None if scale is None else float(scale))
        if key not in self._seen:
            label, r = self.rows[row]
            bounds = self.bounds(scale)
            replies = self.reply_fn([r], bounds)
            record = score([r], replies, self.settings)[0]
            reply = parse_reply(replies.texts[0])
            given = tuple(int(v) for v in replies.given_sizes[0])
            framed = dict(r, given_size=list(given))
            _, original = _frames(framed, self.settings)
            raw_think = think_box(reply)
            self._seen[key] = ScaleView(
                label, r, key[1], bounds, given, int(replies.visual_tokens[0]), replies.texts[0],
                answer_box(reply) if record["box"] is not None else None, record["box"],
                to_original(raw_think, given=given, original=original) if raw_think is not None else None,
                float(record["iou"]), bool(record["correct"]), bool(record["consistent"]))
        return self._seen[key]

    def sliders(self) -> list[Slider]:
        """A row slider (the input resolutions) and a scale slider (as given, then the scales). The static fallback
        shows every row as given and the first shifted row at each of the recipe's scales."""
        marks = sorted(set(self.scales) | set(EXTRA_SCALES))
        rows = tuple((label, i) for i, (label, _) in enumerate(self.rows))
        start = min(1, len(self.rows) - 1)  # the first shifted resolution: where TTRS has something to do
        return [Slider("row", "input", rows, start, static=tuple(i for i in range(len(self.rows)) if i != start)),
                Slider("scale", "TTRS scale", ((AS_GIVEN, None), *((f"{s:g}", s) for s in marks)), None,
                       static=self.scales)]

    def show(self, *, display: bool = True) -> Panel:
        """The two sliders over :meth:`view` (live in JupyterLab; a few fixed settings under papermill)."""
        return panel(self.view, self.sliders(), title="TACO test-time resolution scaling on one grounding question",
                     show=display)


# ------------------------------------------------------------------------------------------------ from a run
def telling_index(records: dict[str, list[dict]], factors: Sequence[float]) -> int:
    """The first REC row (index into the eval split) that TTRS fixes at some shifted resolution (wrong as given,
    right with TTRS); else the first the model gets right at the training resolution; else the first REC row."""
    rec = [i for i, r in enumerate(records["eval"]) if r["task"] == "rec"]
    if not rec:
        raise ValueError("the evaluation has no REC rows: the resolution explorer needs a grounding question")
    for i in rec:
        for f in factors:
            given, ttrs = records.get(f"eval_x{f:g}"), records.get(f"ttrs_x{f:g}")
            if given and ttrs and not given[i]["correct"] and ttrs[i]["correct"]:
                return i
    return next((i for i in rec if records["eval"][i]["correct"]), rec[0])


def resolution_explorer(ctx, data: dict, base, arms: dict, evaluations: dict, *,
                        name: str = "taco") -> ResolutionExplorer:
    """A :class:`ResolutionExplorer` for the model ``name`` (an arm of ``arms``, or ``"base"``: ``base`` is the
    resolved base VLM; an arm not evaluated at the shifted resolutions falls back to the base) and its evaluation
    (``pipeline.evaluate_all``): one eval scene (:func:`telling_index`) at the training resolution and at each
    shifted one, the recipe's TTRS settings, greedy replies."""
    from longthink.taco import pipeline
    from longthink.taco.inference import generate_replies

    if name not in evaluations or not evaluations[name].get("ttrs_scales"):
        name = "base"
    path, evaluation = (base.path if name == "base" else arms[name]["path"]), evaluations[name]
    ev, factors = ctx.settings("eval").kit, ctx.settings("data").kit.shift_factors
    records = {split: pipeline.read_records(evaluation, split) for split in ("eval", *(
        f"{p}_x{f:g}" for f in factors for p in ("eval", "ttrs")))}
    index = telling_index(records, factors)
    rows = [("training resolution", pipeline.load_split(data, "eval")[index])]
    for f in factors:
        row = pipeline.load_split(data, pipeline.shifted_name("eval", f))[index]
        rows.append((f"x{f:g} ({row['image_size'][0]} px)", row))
    rows[0] = (f"training resolution ({rows[0][1]['image_size'][0]} px)", rows[0][1])
    base = pipeline.training_bounds(ctx)
    with pipeline._threads(ctx):
        model, processor = pipeline.load_model(path, base)

    def reply(rows_: list[dict], bounds: PixelBounds) -> Replies:
        with pipeline._threads(ctx):
            return generate_replies(model, processor, rows_, bounds=bounds, max_new_tokens=ev.max_new_tokens,
                                    batch_size=1)

    return ResolutionExplorer(rows, reply, pipeline.reward_settings(ctx), base=base,
                              train_pixels=ev.ttrs_train_pixels, bound=ev.ttrs_bound, scales=ev.ttrs_scales)
