"""Atomic writes, the leftovers a killed run leaves, and their cleanup."""

import json
import os
import subprocess
import sys
import time

from longthink.files import atomic_dir, atomic_write_json, entry_lock, is_locked, remove_leftovers, temp_leftovers


def test_atomic_write_json_roundtrip(tmp_path):
    path = atomic_write_json(tmp_path / "x" / "a.json", {"a": 1})
    assert json.loads(path.read_text()) == {"a": 1}
    assert [p.name for p in (tmp_path / "x").iterdir()] == ["a.json"]


def test_atomic_dir_replaces_existing(tmp_path):
    target = tmp_path / "d"
    target.mkdir()
    (target / "old").write_text("1")
    with atomic_dir(target) as tmp:
        (tmp / "new").write_text("2")
    assert sorted(os.listdir(target)) == ["new"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d"]


def test_leftovers_of_a_killed_build_are_found_and_removed_but_not_a_running_one(tmp_path):
    code = ("import sys, time; sys.path.insert(0, sys.argv[2]); from longthink.files import atomic_dir\n"
            "with atomic_dir(sys.argv[1]) as tmp:\n    (tmp / 'w').write_text('x'); print('ready', flush=True); "
            "time.sleep(60)\n")
    utils = os.path.join(os.path.dirname(__file__), "..", "utils")
    proc = subprocess.Popen([sys.executable, "-c", code, str(tmp_path / "model"), utils], stdout=subprocess.PIPE,
                            text=True)
    assert proc.stdout.readline().strip() == "ready"
    proc.kill()
    proc.wait()
    left = temp_leftovers(tmp_path)
    assert len(left) == 1 and left[0].name.startswith(".model.") and left[0].name.endswith(".tmp")
    (tmp_path / "runs").mkdir()
    with entry_lock(tmp_path / "runs" / "busy"):  # a build in progress: its temp folder stays
        (tmp_path / "runs" / ".busy.abc123.tmp").mkdir()
        assert is_locked(tmp_path / "runs" / "busy")
        assert remove_leftovers(tmp_path) == left
        assert (tmp_path / "runs" / ".busy.abc123.tmp").exists()
    assert not is_locked(tmp_path / "runs" / "busy")
    assert temp_leftovers(tmp_path)[0].name == ".busy.abc123.tmp"


def test_a_lock_dies_with_its_holder(tmp_path):
    code = ("import sys, time; sys.path.insert(0, sys.argv[2]); from longthink.files import entry_lock\n"
            "with entry_lock(sys.argv[1]):\n    print('held', flush=True); time.sleep(60)\n")
    utils = os.path.join(os.path.dirname(__file__), "..", "utils")
    proc = subprocess.Popen([sys.executable, "-c", code, str(tmp_path / "m"), utils], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    assert is_locked(tmp_path / "m")
    proc.kill()
    proc.wait()
    deadline = time.time() + 5
    while is_locked(tmp_path / "m") and time.time() < deadline:
        time.sleep(0.05)
    assert not is_locked(tmp_path / "m")


def test_jsonl_round_trip_skips_blank_lines(tmp_path):
    from pathlib import Path as P

    from longthink.files import read_jsonl, write_jsonl

    write_jsonl(tmp_path / "rows.jsonl", [{"a": 1}, {"path": P("x/y")}])
    (tmp_path / "rows.jsonl").write_text((tmp_path / "rows.jsonl").read_text() + "\n")
    assert read_jsonl(tmp_path / "rows.jsonl") == [{"a": 1}, {"path": "x/y"}]
