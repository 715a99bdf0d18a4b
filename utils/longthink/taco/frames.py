"""Pixel frames: what size of image the model is given, how many visual tokens that is, and mapping boxes back.

Qwen2-VL and Qwen2.5-VL resize every image with ``smart_resize`` before they see it (taco.md §2.5): height and width
are rounded to multiples of 28 (patch 14 × merge 2); if the area exceeds ``max_pixels`` both sides shrink by
√(hw/max) (floored to 28), if it is below ``min_pixels`` they grow by √(min/hw) (ceiled). The model then sees
h̄·w̄/28² visual tokens and answers boxes in pixels of *that* h̄ × w̄ image (Qwen2.5-VL's convention), so a box is
mapped back to the original W × H image by x·W/w̄, y·H/h̄ before it is scored (VLM-R1 #198, Qwen #947: large
images drift when this is forgotten). Rewards recompute the frame from the row's original size and the pixel
bounds, without the processor's ``image_grid_thw`` (the card's TRL hook note).

TTRS changes the bounds at test time (:func:`set_pixel_bounds`); transformers 5 keeps them in
``image_processor.size = {"shortest_edge": min_pixels, "longest_edge": max_pixels}``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

FACTOR = 28  # patch 14 × spatial merge 2: one visual token per 28 × 28 pixels


class FrameError(ValueError):
    """Bad image sizes or pixel bounds; the message names the value."""


@dataclasses.dataclass(frozen=True)
class PixelBounds:
    """The processor's resize bounds (Qwen2-VL ``min_pixels`` / ``max_pixels``)."""

    min_pixels: int
    max_pixels: int

    def __post_init__(self) -> None:
        if not (isinstance(self.min_pixels, int) and isinstance(self.max_pixels, int)) or not (
                0 < self.min_pixels <= self.max_pixels):
            raise FrameError(f"need integer pixel bounds 0 < min_pixels <= max_pixels, got "
                             f"min_pixels={self.min_pixels!r}, max_pixels={self.max_pixels!r}")


def smart_resize(height: int, width: int, bounds: PixelBounds, *, factor: int = FACTOR) -> tuple[int, int]:
    """``(h̄, w̄)``: the size Qwen2-VL's image processor resizes an ``height × width`` image to."""
    if not (height >= 1 and width >= 1):
        raise FrameError(f"an image needs a positive height and width, got {height!r} x {width!r}")
    if max(height, width) / min(height, width) > 200:
        raise FrameError(f"aspect ratio must be below 200, got {height} x {width}")
    h_bar = max(factor, round(height / factor) * factor)
    w_bar = max(factor, round(width / factor) * factor)
    if h_bar * w_bar > bounds.max_pixels:
        beta = math.sqrt(height * width / bounds.max_pixels)
        h_bar = max(factor, math.floor(height / beta / factor) * factor)
        w_bar = max(factor, math.floor(width / beta / factor) * factor)
    elif h_bar * w_bar < bounds.min_pixels:
        beta = math.sqrt(bounds.min_pixels / (height * width))
        h_bar = math.ceil(height * beta / factor) * factor
        w_bar = math.ceil(width * beta / factor) * factor
    return h_bar, w_bar


def visual_tokens(height: int, width: int, bounds: PixelBounds) -> int:
    """How many visual tokens the model sees for an ``height × width`` image (after the 2 × 2 merge)."""
    h_bar, w_bar = smart_resize(height, width, bounds)
    return h_bar * w_bar // (FACTOR * FACTOR)


def to_original(box: Sequence[float], *, given: tuple[int, int], original: tuple[int, int]) -> list[float]:
    """Map a box from the given (resized) frame ``(w̄, h̄)`` to the original frame ``(W, H)``: x·W/w̄, y·H/h̄."""
    (gw, gh), (ow, oh) = given, original
    sx, sy = ow / gw, oh / gh
    x1, y1, x2, y2 = (float(v) for v in box)
    return [x1 * sx, y1 * sy, x2 * sx, y2 * sy]


def given_size(original: tuple[int, int], bounds: PixelBounds) -> tuple[int, int]:
    """``(w̄, h̄)`` for an original ``(W, H)`` (note: width first, as boxes are x then y)."""
    w, h = original
    h_bar, w_bar = smart_resize(int(h), int(w), bounds)
    return w_bar, h_bar


def processor_bounds(processor) -> PixelBounds:
    """The bounds a Qwen2/2.5-VL processor resizes into."""
    size = processor.image_processor.size
    return PixelBounds(int(size["shortest_edge"]), int(size["longest_edge"]))


def set_pixel_bounds(processor, bounds: PixelBounds):
    """Change the processor's bounds in place; returns it (use :func:`pixel_bounds_as` to restore them)."""
    processor.image_processor.size = {"shortest_edge": int(bounds.min_pixels), "longest_edge": int(bounds.max_pixels)}
    return processor


class pixel_bounds_as:  # noqa: N801 - used as a context manager, named like one
    """``with pixel_bounds_as(processor, bounds): ...`` runs a block at other bounds and restores the old ones."""

    def __init__(self, processor, bounds: PixelBounds):
        self.processor, self.bounds = processor, bounds

    def __enter__(self):
        self.old = processor_bounds(self.processor)
        return set_pixel_bounds(self.processor, self.bounds)

    def __exit__(self, *exc) -> None:
        set_pixel_bounds(self.processor, self.old)
