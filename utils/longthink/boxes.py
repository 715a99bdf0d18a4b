"""Boxes ``[x1, y1, x2, y2]`` in pixels (exclusive corners): reading one from text, areas, intersection and IoU.

One place for the geometry the vision world's scoring, Insight-V's answer filter and TACO's rewards share.
``plus=1`` is the pixel-inclusive convention some reward code uses (VLM-R1's ``iou_reward``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

Box = Sequence[float]

BOX_TEXT = re.compile(r"\[\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*,"
                      r"\s*(-?\d+(?:\.\d+)?)\s*\]")


def parse_box(text: str | None) -> list[float] | None:
    """The last ``[x1, y1, x2, y2]`` in ``text`` (also inside JSON such as ``{"bbox_2d": [...]}``), else None."""
    found = BOX_TEXT.findall(text or "")
    return [float(v) for v in found[-1]] if found else None


def box_area(b: Box, *, plus: float = 0.0) -> float:
    """Area of ``b``; 0 for an empty or inverted box."""
    return max(0.0, b[2] - b[0] + plus) * max(0.0, b[3] - b[1] + plus)


def intersection(a: Box, b: Box) -> list[float]:
    return [max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])]


def iou(a: Box, b: Box, *, plus: float = 0.0) -> float:
    """Intersection over union; 0 when the union is empty."""
    inter = box_area(intersection(a, b), plus=plus)
    union = box_area(a, plus=plus) + box_area(b, plus=plus) - inter
    return inter / union if union > 0 else 0.0
