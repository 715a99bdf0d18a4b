"""The pool (s1K's columns) and the held-out eval sets of the smoke world."""

from __future__ import annotations

import json

import pytest

from longthink.grading import grade
from longthink.text_world.pool import POOL_COLUMNS, build_pool, eval_sets, pool_rows
from longthink.text_world.tasks import TaskError, solve


@pytest.fixture(scope="module")
def pool():
    return build_pool(profile="smoke")


def test_pool_has_s1k_columns_and_size(pool):
    assert set(POOL_COLUMNS) <= set(pool.column_names)
    assert {"answer", "difficulty", "domain", "flaw", "teacher_correct", "steps", "deepseek_thinking_trajectory",
            "deepseek_attempt"} <= set(pool.column_names)
    assert len(pool) == 500
    row = pool[0]
    assert isinstance(row["thinking_trajectories"], list) and len(row["thinking_trajectories"]) == 1
    assert json.loads(row["metadata"])["difficulty"] == row["difficulty"]


def test_pool_mixes_difficulties_domains_flaws_and_wrong_answers(pool):
    assert set(pool["difficulty"]) == {1, 2, 3}
    assert len(set(pool["domain"])) == 5
    flaws = [f for f in pool["flaw"] if f]
    assert 0.02 < len(flaws) / len(pool) < 0.2
    wrong = sum(not c for c in pool["teacher_correct"])
    assert 0.05 < wrong / len(pool) < 0.5
    assert any("\nWait\n" in t[0] for t in pool["thinking_trajectories"])


def test_clean_rows_are_consistent(pool):
    for row in pool:
        if row["flaw"]:
            continue
        assert solve(row["question"]) == row["answer"]
        assert grade(f"Answer: {row['attempt']}", row["answer"]) == row["teacher_correct"]
        assert row["deepseek_attempt"] == row["answer"]  # the guider's teacher never slips
        assert row["rechecks"] == row["thinking_trajectories"][0].split("\n").count("Wait")
        assert row["teacher_correct"] == (row["steps"] == row["difficulty"]) or row["attempt"] == row["answer"]


def test_eval_sets_are_held_out(pool):
    sets = eval_sets(profile="smoke")
    assert set(sets) == {"by_difficulty", "hard"}
    assert sorted(set(sets["by_difficulty"]["difficulty"])) == [1, 2, 3]
    assert set(sets["hard"]["difficulty"]) == {3}
    held = set(sets["by_difficulty"]["question"]) | set(sets["hard"]["question"])
    assert not held & set(pool["question"])


def test_pool_is_deterministic():
    a = pool_rows(size=50, seed=3, difficulties=[1, 2])
    b = pool_rows(size=50, seed=3, difficulties=[1, 2])
    assert a == b


def test_bad_pool_settings():
    with pytest.raises(TaskError, match="pool size must be >= 1"):
        pool_rows(size=0, seed=0, difficulties=[1])
    with pytest.raises(TaskError, match="difficulty must be an integer in 1"):
        pool_rows(size=5, seed=0, difficulties=[0])
