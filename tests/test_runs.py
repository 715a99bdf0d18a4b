import json
import os

import pytest

from longthink.runs import Run, RunError, Stage, atomic_dir, atomic_write_json, cached_build, config_hash, set_seed


def test_config_hash_is_stable_and_order_free():
    assert config_hash({"a": 1, "b": [1, 2]}) == config_hash({"b": [1, 2], "a": 1})
    assert config_hash({"a": 1}) != config_hash({"a": 2})
    assert config_hash({"lr": 2.0}) == config_hash({"lr": 2})


def test_stage_runs_once_and_skips_when_complete(tmp_path):
    calls = []

    def build(out):
        calls.append(1)
        (out / "data.txt").write_text("hello")
        return {"n": 3}

    run = Run("smoke", "paper", root=tmp_path)
    assert run.stage("s", {"x": 1}).run(build) == {"n": 3}
    assert run.stage("s", {"x": 1}).run(build) == {"n": 3}
    assert len(calls) == 1
    assert (tmp_path / "smoke" / "paper" / "s" / "data.txt").read_text() == "hello"
    run.stage("s", {"x": 2}).run(build)  # new settings: rebuilt
    assert len(calls) == 2


def test_interrupted_stage_leaves_nothing_that_looks_complete(tmp_path):
    stage = Stage(tmp_path / "s", "s", {"x": 1})

    def crash(out):
        (out / "half.bin").write_bytes(b"12")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        stage.run(crash)
    assert not stage.complete
    assert not stage.dir.exists()
    assert [p for p in tmp_path.iterdir()] == []  # the temp folder is gone too


def test_corrupted_stage_marker_is_reported(tmp_path):
    stage = Stage(tmp_path / "s", "s", {"x": 1})
    stage.dir.mkdir()
    (stage.dir / "stage.json").write_text("{not json")
    with pytest.raises(RunError, match="corrupted run folder"):
        stage.complete


def test_stage_must_return_a_dict(tmp_path):
    with pytest.raises(RunError, match="must return a dict"):
        Stage(tmp_path / "s", "s", {}).run(lambda out: [1, 2])
    assert not (tmp_path / "s").exists()


def test_atomic_dir_replaces_existing(tmp_path):
    target = tmp_path / "d"
    target.mkdir()
    (target / "old").write_text("1")
    with atomic_dir(target) as tmp:
        (tmp / "new").write_text("2")
    assert sorted(os.listdir(target)) == ["new"]


def test_cached_build(tmp_path):
    calls = []
    first = cached_build(tmp_path, "m", {"size": 1}, lambda out: calls.append(1) or {})
    second = cached_build(tmp_path, "m", {"size": 1}, lambda out: calls.append(1) or {})
    assert first == second and len(calls) == 1


def test_metrics_are_flat_numbers_with_environment(tmp_path):
    run = Run("tiny", "s1", root=tmp_path)
    run.record_metrics({"acc": 0.5}, seed=3)
    run.record_metrics({"s1/other": 2})
    data = json.loads(run.metrics_path.read_text())
    assert data["metrics"] == {"s1/acc": 0.5, "s1/other": 2}
    assert data["environment"]["packages"]["torch"].startswith("2.13.0")
    with pytest.raises(RunError, match="must be a number"):
        run.record_metrics({"bad": "high"})


def test_set_seed_drives_torch_and_random():
    import random

    import torch

    set_seed(7)
    a = (random.random(), torch.rand(1).item())
    set_seed(7)
    assert a == (random.random(), torch.rand(1).item())
    with pytest.raises(TypeError):
        set_seed("7")


def test_atomic_write_json_roundtrip(tmp_path):
    path = atomic_write_json(tmp_path / "x" / "a.json", {"a": 1})
    assert json.loads(path.read_text()) == {"a": 1}
