"""What the text world offers the papers, registered with the resolver (``world:<name>``).

* models: ``world:instruct``, ``world:target``, ``world:guider_base`` (folders, built on first use);
* data sets: ``world:pool`` (the s1K-style pool: s1K's columns plus ``answer``, ``difficulty``, ``domain``,
  ``teacher_correct``, ``rechecks`` and ``flaw``), ``world:by_difficulty`` (the MATH500 analog) and ``world:hard``
  (the AIME analog): rows with ``question``, ``answer``, ``difficulty``;
* tools: ``world:tasks`` (the task module: ``solve``, ``parse_question``, ``make_problem``) and
  ``world:trace_check`` (``well_formed(thinking, attempt)``: is a pool trace made of well-formed steps?).

Each entry's key covers the world settings it depends on and the seed, so a stage that reads it is keyed on it.
"""

from __future__ import annotations

import functools

from longthink.resolver import Resolved, provides
from longthink.stages import config_hash
from longthink.text_world.models import WORLD_VERSION, world_model_artefact
from longthink.text_world.settings import MODEL_NAMES, world_settings


def _model(name: str):
    def provide(*, profile: str, seed: int) -> Resolved:
        artefact = world_model_artefact(name, profile, seed)
        return Resolved(f"world:{name}", "model", artefact.key, str(artefact.dir), info=dict(artefact.result))

    provide.__doc__ = f"the text world's {name} model"
    return provide


for _name in MODEL_NAMES:
    provides("world", _name, kind="model")(_model(_name))


def _eval_key(profile: str, seed: int) -> str:
    s = world_settings(profile, seed)
    return config_hash({"version": WORLD_VERSION, "seed": s.seed, "tasks": s.stage("tasks").as_dict(),
                        "eval": s.stage("eval").as_dict()})


@functools.lru_cache(maxsize=8)
def _eval_rows(profile: str, seed: int) -> dict[str, list[dict]]:
    from longthink.text_world.pool import eval_sets

    return eval_sets(profile=profile, seed=seed, as_rows=True)


def _eval_set(split: str):
    def provide(*, profile: str, seed: int) -> Resolved:
        return Resolved(f"world:{split}", "dataset", f"{split}-{_eval_key(profile, seed)}",
                        loader=lambda: _eval_rows(profile, seed)[split])

    provide.__doc__ = f"the text world's held-out {split} evaluation set"
    return provide


provides("world", "by_difficulty", kind="dataset")(_eval_set("by_difficulty"))
provides("world", "hard", kind="dataset")(_eval_set("hard"))


@functools.lru_cache(maxsize=4)
def _pool_rows(profile: str, seed: int) -> tuple[dict, ...]:
    from longthink.text_world.pool import build_pool

    return tuple(build_pool(profile=profile, seed=seed).to_list())


@provides("world", "pool", kind="dataset")
def pool(*, profile: str, seed: int) -> Resolved:
    """the text world's s1K-style pool of questions with teacher traces"""
    s = world_settings(profile, seed)
    key = config_hash({"version": WORLD_VERSION, "pool": s.stage("pool").as_dict(), "eval": _eval_key(profile, seed)})
    return Resolved("world:pool", "dataset", f"pool-{key}", loader=lambda: list(_pool_rows(profile, seed)))


@provides("world", "tasks", kind="tool")
def tasks(*, profile: str, seed: int) -> Resolved:
    """the text world's task module (solve, parse_question, make_problem)"""
    from longthink.text_world import tasks as module

    return Resolved("world:tasks", "tool", f"tasks-{WORLD_VERSION}", loader=lambda: module)


@provides("world", "trace_check", kind="tool")
def trace_check(*, profile: str, seed: int) -> Resolved:
    """well_formed(thinking, attempt): every line of a trace is a step or a re-check"""
    from longthink.text_world.teacher import well_formed_trace

    return Resolved("world:trace_check", "tool", f"trace_check-{WORLD_VERSION}", loader=lambda: well_formed_trace)


@provides("world", "diagnosis", kind="tool")
def diagnosis(*, profile: str, seed: int) -> Resolved:
    """why world answers are wrong: error kinds (misread, value, cut short, format) and read accuracy by position"""
    from longthink.text_world import diagnosis as module

    return Resolved("world:diagnosis", "tool", f"diagnosis-{WORLD_VERSION}", loader=lambda: module)
