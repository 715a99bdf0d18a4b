"""The shared box geometry (longthink.boxes): reading a box from text and IoU."""

import pytest

from longthink.boxes import box_area, iou, parse_box


def test_parse_box_takes_the_last_box_also_inside_json():
    assert parse_box("first [1, 2, 3, 4] then [5, 6.5, 70, 80]") == [5.0, 6.5, 70.0, 80.0]
    assert parse_box('{"bbox_2d": [1, 2, 30, 40]}') == [1, 2, 30, 40]
    assert parse_box("no box") is None and parse_box(None) is None


def test_iou_of_same_disjoint_partial_and_empty_boxes():
    assert iou([0, 0, 10, 10], [0, 0, 10, 10]) == 1.0
    assert iou([0, 0, 10, 10], [20, 20, 30, 30]) == 0.0
    assert iou([0, 0, 10, 10], [5, 0, 15, 10]) == pytest.approx(50 / 150)
    assert iou([5, 5, 5, 5], [5, 5, 5, 5]) == 0.0  # an empty union scores 0, never a division by zero
    assert box_area([10, 10, 0, 0]) == 0.0  # an inverted box has no area
    assert iou([0, 0, 9, 9], [0, 0, 9, 9], plus=1) == 1.0 and box_area([0, 0, 9, 9], plus=1) == 100
