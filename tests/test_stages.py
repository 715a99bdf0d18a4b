"""The stage runner: keys on settings and declared inputs, checksums on reuse, locks, atomic folders."""

import json
import os
import threading
import time

import pytest

from longthink.stages import Artefact, Stage, StageError, cached_build, config_hash, stage_key


def test_config_hash_is_stable_and_order_free():
    assert config_hash({"a": 1, "b": [1, 2]}) == config_hash({"b": [1, 2], "a": 1})
    assert config_hash({"a": 1}) != config_hash({"a": 2})
    assert config_hash({"lr": 2.0}) == config_hash({"lr": 2})
    with pytest.raises(StageError, match="finite"):
        config_hash({"lr": float("nan")})


def test_key_holds_every_setting_and_exactly_the_declared_inputs():
    base = stage_key("s", {"lr": 1e-3, "epochs": 2}, {"data": "k1"})
    assert stage_key("s", {"lr": 1e-3, "epochs": 2}, {"data": "k1"}) == base
    assert stage_key("s", {"lr": 1e-3, "epochs": 3}, {"data": "k1"}) != base  # a default changed is a change
    assert stage_key("s", {"lr": 1e-3, "epochs": 2}, {"data": "k2"}) != base  # an input changed
    assert stage_key("t", {"lr": 1e-3, "epochs": 2}, {"data": "k1"}) != base  # another stage
    art = Artefact("data", "k1")
    assert stage_key("s", {"lr": 1e-3, "epochs": 2}, {"data": art}) == base  # an artefact counts by its key


def _writer(calls, payload=b"weights"):
    def build(out):
        calls.append(1)
        (out / "model.bin").write_bytes(payload)
        return {"n": len(calls)}
    return build


def test_stage_runs_once_and_skips_when_complete(tmp_path):
    calls = []
    a = Stage(tmp_path / "s", "s", {"x": 1}).run(_writer(calls))
    b = Stage(tmp_path / "s", "s", {"x": 1}).run(_writer(calls))
    assert len(calls) == 1 and a.key == b.key and b["n"] == 1
    record = json.loads((tmp_path / "s" / "stage.json").read_text())
    assert record["manifest"]["model.bin"]["size"] == 7 and len(record["manifest"]["model.bin"]["sha256"]) == 64
    Stage(tmp_path / "s", "s", {"x": 2}).run(_writer(calls))  # new settings: rebuilt
    assert len(calls) == 2


def test_a_damaged_artefact_is_never_used_unchecked(tmp_path, capsys):
    calls = []
    stage = Stage(tmp_path / "s", "s", {"x": 1})
    stage.run(_writer(calls))
    target = tmp_path / "s" / "model.bin"
    target.write_bytes(b"WEIGHTS")  # same size, other bytes
    assert Stage(tmp_path / "s", "s", {"x": 1}).problems() == ["model.bin: contents changed since it was written "
                                                                "(checksum mismatch)"]
    Stage(tmp_path / "s", "s", {"x": 1}).run(_writer(calls))
    assert len(calls) == 2 and target.read_bytes() == b"weights"
    err = capsys.readouterr().err
    assert "damaged" in err and str(tmp_path / "s") in err and "model.bin" in err
    target.write_bytes(b"wei")  # truncated
    assert "3 bytes, 7 written" in Stage(tmp_path / "s", "s", {"x": 1}).problems()[0]
    target.unlink()
    assert Stage(tmp_path / "s", "s", {"x": 1}).problems() == ["model.bin: missing"]


def test_interrupted_stage_leaves_nothing_that_looks_complete(tmp_path):
    stage = Stage(tmp_path / "s", "s", {"x": 1})

    def crash(out):
        (out / "half.bin").write_bytes(b"12")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        stage.run(crash)
    assert not stage.complete
    assert not stage.dir.exists()
    assert [p.name for p in tmp_path.iterdir()] == [".s.lock"]  # the temp folder is gone; the lock file stays


def test_corrupted_stage_marker_rebuilds(tmp_path):
    calls = []
    stage = Stage(tmp_path / "s", "s", {"x": 1})
    stage.run(_writer(calls))
    (stage.dir / "stage.json").write_text("{not json")
    assert Stage(tmp_path / "s", "s", {"x": 1}).problems() == ["stage.json is not valid JSON"]
    Stage(tmp_path / "s", "s", {"x": 1}).run(_writer(calls))
    assert len(calls) == 2


def test_stage_must_return_a_dict(tmp_path):
    with pytest.raises(StageError, match="must return a dict"):
        Stage(tmp_path / "s", "s", {}).run(lambda out: [1, 2])
    assert not (tmp_path / "s").exists()


def test_cached_build_keys_the_folder(tmp_path):
    calls = []
    first = cached_build(tmp_path, "m", {"size": 1}, lambda out: calls.append(1) or {})
    second = cached_build(tmp_path, "m", {"size": 1}, lambda out: calls.append(1) or {})
    third = cached_build(tmp_path, "m", {"size": 1}, lambda out: calls.append(1) or {}, inputs={"tok": "other"})
    assert first.dir == second.dir and len(calls) == 2 and third.dir != first.dir
    assert first.dir.name == f"m-{first.key}"


def test_two_builders_of_one_entry_build_once(tmp_path):
    calls = []

    def slow(out):
        calls.append(1)
        time.sleep(0.5)
        (out / "w").write_text("x")
        return {}

    threads = [threading.Thread(target=lambda: Stage(tmp_path / "s", "s", {"x": 1}).run(slow)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1


def test_results_honour_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        stage = Stage(tmp_path / "s", "s", {"x": 1})
        stage.run(_writer([]))
        assert oct(stage.dir.stat().st_mode & 0o777) == oct(0o755)
        for name in ("model.bin", "stage.json", "result.json"):
            assert oct((stage.dir / name).stat().st_mode & 0o777) == oct(0o644), name
    finally:
        os.umask(old)
