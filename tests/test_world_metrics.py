"""The text world's bars (expected/tiny/world.json) as metrics of their own, and on recorded runs when they exist."""

from __future__ import annotations

import json

import pytest

from longthink.report import check, read_expected
from longthink.text_world.showcase import world_metrics


class _Result:
    def __init__(self, accs):
        self.by_difficulty = dict(enumerate(accs, start=1))
        self.mean_tokens = 10.0


def _metrics(instruct, target, guider, build=300.0):
    results = {"instruct": _Result(instruct), "target": _Result(target), "guider_base": _Result(guider)}
    return world_metrics({"build_seconds": build, "seconds": 1.0}, results)


def _text_bars(repo_root):
    bars = read_expected(repo_root / "expected" / "tiny" / "world.json")["metrics"]
    return {k: v for k, v in bars.items() if not k.startswith("world/vlm") and "seconds" not in k}


def _failures(metrics, bars):
    return {k: metrics.get(k) for k, spec in bars.items() if k in metrics and check(metrics[k], spec, k) == "FAIL"}


def test_comparisons_are_metrics_of_their_own():
    m = _metrics([1.0, 0.9, 0.8, 0.2], [1.0, 0.95, 0.9, 0.2], [0.9, 0.5, 0.3, 0.1])
    assert m["world/target_minus_guider_base_min"] == pytest.approx(0.1)
    assert m["world/instruct_drop"] == pytest.approx(0.8)
    assert m["world/instruct_max_rise"] == pytest.approx(-0.1)


def test_bars_catch_each_failure(repo_root):
    bars = _text_bars(repo_root)
    good = _metrics([1.0, 0.9, 0.8, 0.2, 0.1], [1.0, 0.95, 0.9, 0.2, 0.2], [0.9, 0.5, 0.3, 0.1, 0.1])
    assert not _failures(good, bars)
    bad = _metrics([0.8, 0.9, 0.8, 0.6, 0.6], [1.0, 0.4, 0.9, 0.2, 0.2], [0.9, 0.5, 0.3, 0.1, 0.1])
    assert set(_failures(bad, bars)) >= {"world/instruct_acc_d1", "world/instruct_max_rise", "world/instruct_drop",
                                         "world/target_minus_guider_base_min"}


def test_recorded_tiny_world_meets_its_bars(repo_root):
    path = repo_root / "runs" / "tiny" / "world" / "metrics.json"
    if not path.exists():
        pytest.skip("runs/tiny/world/metrics.json not recorded yet (longthink run world --profile tiny)")
    metrics = json.loads(path.read_text())["metrics"]
    assert not _failures(metrics, _text_bars(repo_root))  # accuracy bars only: timings are benchmarks, not tests
