"""Control, Scaling (points per doubling of thinking tokens) and Performance; Table 3 is recovered."""

from __future__ import annotations

import pytest

from longthink.s1.metrics import RunPoint, control, method_table, performance, scaling


def test_control_counts_runs_within_limits():
    runs = [RunPoint("m", "a", 100, 0.1, a_max=128), RunPoint("m", "b", 300, 0.2, a_max=256),
            RunPoint("m", "c", 50, 0.1, a_min=64, a_max=128)]
    assert control(runs) == pytest.approx(1 / 3)
    assert control([RunPoint("m", "a", 100, 0.1)]) is None


def test_scaling_is_mean_pairwise_slope_on_log2_tokens():
    runs = [RunPoint("m", "a", 1024, 0.30), RunPoint("m", "b", 2048, 0.40), RunPoint("m", "c", 4096, 0.45)]
    # slopes in points per doubling: (10/1 + 15/2 + 5/1) / 3
    assert scaling(runs) == pytest.approx((10 + 7.5 + 5) / 3)
    assert scaling(runs[:1]) is None
    assert performance(runs) == 0.45


def test_negative_scaling_and_order_by_measured_tokens():
    runs = [RunPoint("RS", "big budget", 8000, 0.30), RunPoint("RS", "small budget", 4000, 0.40)]
    assert scaling(runs) == pytest.approx(-10.0)


def test_method_table_rows():
    runs = [RunPoint("BF", "1", 100, 0.2, a_max=128), RunPoint("BF", "2", 200, 0.3, a_max=256),
            RunPoint("CCC", "short", 150, 0.1)]
    table = {r["method"]: r for r in method_table(runs)}
    assert table["BF"]["control"] == 1.0 and table["BF"]["scaling"] == pytest.approx(10.0)
    assert table["CCC"]["control"] is None and table["CCC"]["scaling"] is None
