"""Issue 3's bars as a function of recorded metrics, and on runs/tiny/world/metrics.json when it exists."""

from __future__ import annotations

import json

import pytest

from longthink.text_world.showcase import bar_checks


def _metrics(instruct, target, guider, build=300.0):
    out = {"world/build_seconds": build}
    for name, accs in (("instruct", instruct), ("target", target), ("guider_base", guider)):
        out.update({f"world/{name}_acc_d{k}": a for k, a in enumerate(accs, start=1)})
    return out


def test_bars_hold_on_a_good_world():
    checks = bar_checks(_metrics([1.0, 0.9, 0.8, 0.2], [1.0, 0.95, 0.9, 0.2], [0.9, 0.5, 0.3, 0.1]), max_difficulty=4,
                        build_limit=480)
    assert len(checks) == 6 and all(checks.values()), checks


def test_bars_catch_each_failure():
    checks = bar_checks(_metrics([0.8, 0.9, 0.8, 0.6], [1.0, 0.4, 0.9, 0.2], [0.9, 0.5, 0.3, 0.1], build=600),
                        max_difficulty=4, build_limit=480)
    assert not any(checks.values()), checks


def test_recorded_tiny_world_meets_its_bars(repo_root):
    path = repo_root / "runs" / "tiny" / "world" / "metrics.json"
    if not path.exists():
        pytest.skip("runs/tiny/world/metrics.json not recorded yet (longthink run world --profile tiny)")
    metrics = json.loads(path.read_text())["metrics"]
    k = max(int(key.rsplit("_d", 1)[1]) for key in metrics if key.startswith("world/instruct_acc_d"))
    checks = bar_checks(metrics, max_difficulty=k)  # accuracy bars only: timings are benchmarks, not tests
    assert all(checks.values()), checks
