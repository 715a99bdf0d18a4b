"""The world's tokenizer and base models, built on demand and cached by config hash.

``world_model_path(name, profile)`` returns a folder holding a model and its tokenizer (``save_pretrained``,
safetensors), building it on first use under ``$LONGTHINK_CACHE/world/<name>-<hash>``. The hash covers every
setting that shapes the model (its stage, the tasks, the tokenizer, the seed, ``WORLD_VERSION``), so a changed
recipe builds a new model and an unchanged one loads in seconds. The names:

* ``instruct``: answers with short reasoning (s1's Qwen2.5-32B-Instruct analog);
* ``target``: the larger model that never saw long reasoning (ThinkLogit's Qwen2.5-32B analog);
* ``guider_base``: the small base with the same tokenizer (ThinkLogit's Qwen2.5-Math-1.5B analog).
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

from longthink.runs import atomic_write_json, cache_dir, cached_build, config_hash
from longthink.text_world.settings import MODEL_NAMES, world_settings

WORLD_VERSION = 6  # bump when the world's code changes what a build produces
BUILD_ORDER = ("guider_base", "instruct", "target")
_SEED_OFFSETS = {"guider_base": 11, "instruct": 22, "target": 33}


class WorldError(ValueError):
    """An unknown world model name or profile."""


def world_root() -> Path:
    return cache_dir() / "world"


def _check_name(name: str) -> str:
    if name not in MODEL_NAMES:
        raise WorldError(f"unknown world model {name!r}; known world models: {list(MODEL_NAMES)}")
    return name


def tokenizer_config(profile: str) -> dict:
    s = world_settings(profile)
    return {"version": WORLD_VERSION, "seed": s.seed, "tasks": s.stage("tasks").as_dict(),
            "tokenizer": s.stage("tokenizer").as_dict()}


def model_config(name: str, profile: str) -> dict:
    s = world_settings(profile)
    return {**tokenizer_config(profile), "name": name, "model": s.stage(name).as_dict(),
            "eval": s.stage("eval").as_dict()}


def tokenizer_corpus(*, size: int, seed: int, max_difficulty: int, domains) -> list[str]:
    """World text for the BPE: chat prompts, short answers, drills and both teachers' long traces."""
    from longthink.text_world.pretrain import prompt_text
    from longthink.text_world.tasks import make_problem
    from longthink.text_world.teacher import (TeacherSettings, distill_trace, long_trace, run_drill, s1_assistant,
                                              short_completion)

    teacher = TeacherSettings(p_rethink=0.5, p_continue=0.5, distill_p_merged=0.5)
    rng = random.Random(seed)
    corpus = []
    for _ in range(size):
        p = make_problem(rng, domain=rng.choice(list(domains)), difficulty=rng.randint(1, max_difficulty))
        trace, distill = long_trace(p, rng, teacher), distill_trace(p, rng, teacher)
        q, c = run_drill(p, rng)
        corpus += [prompt_text(p.question) + short_completion(p), s1_assistant(trace["thinking"], trace["attempt"]),
                   f"{distill['thinking']}\nAnswer: {distill['attempt']}", prompt_text(q) + c]
    return corpus


def tokenizer_path(profile: str = "tiny") -> Path:
    """The folder of the world tokenizer for ``profile`` (built on first use)."""
    from longthink.tokenizer import build_tokenizer

    config = tokenizer_config(profile)

    def build(tmp: Path) -> dict:
        start = time.perf_counter()
        s = world_settings(profile)
        tasks, tok = s.stage("tasks").kit, s.stage("tokenizer").kit
        corpus = tokenizer_corpus(size=tok.corpus_size, seed=s.seed, max_difficulty=tasks.max_difficulty,
                                  domains=tasks.domains)
        tokenizer = build_tokenizer(corpus, vocab_size=tok.vocab_size)
        tokenizer.save_pretrained(str(tmp))
        return {"vocab": len(tokenizer), "seconds": round(time.perf_counter() - start, 2)}

    return cached_build(world_root(), "tokenizer", config, build)


def _eval_questions(profile: str) -> frozenset[str]:
    from longthink.text_world.pool import eval_sets

    return frozenset(r["question"] for rows in eval_sets(profile=profile, as_rows=True).values() for r in rows)


def world_model_path(name: str, profile: str = "tiny", *, progress: bool = True) -> Path:
    """The folder of world model ``name`` for ``profile``: model + tokenizer, built once and cached."""
    _check_name(name)
    config = model_config(name, profile)

    def build(tmp: Path) -> dict:
        start = time.perf_counter()
        from longthink.text_world.pretrain import build_model, pretrain
        from longthink.tokenizer import load_tokenizer

        s = world_settings(profile)
        tasks, stage = s.stage("tasks").kit, s.stage(name).kit
        tokenizer = load_tokenizer(tokenizer_path(profile))
        seed = s.seed * 1000 + _SEED_OFFSETS[name]
        model = build_model(stage, tokenizer, seed=seed)
        stats = pretrain(model, tokenizer, stage, max_difficulty=tasks.max_difficulty, domains=tasks.domains,
                         seed=seed, exclude=_eval_questions(profile), progress=progress, desc=f"world:{name}")
        model.save_pretrained(str(tmp), safe_serialization=True)
        tokenizer.save_pretrained(str(tmp))
        return {"name": name, "profile": profile, **stats, "build_seconds": round(time.perf_counter() - start, 2)}

    return cached_build(world_root(), name, config, build)


def build_stats(name: str, profile: str = "tiny") -> dict:
    """What the build of ``name`` recorded (steps, seconds, steps/s, final loss, parameters)."""
    path = world_model_path(name, profile)
    return json.loads((path / "result.json").read_text())


def _spawn_build(name: str, profile: str):
    """Build one model in a child Python (one thread), so two models train side by side on a 2-core laptop."""
    import subprocess
    import sys

    code = ("from longthink.text_world.models import world_model_path; "
            f"world_model_path({name!r}, {profile!r}, progress=False)")
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)


def build_world(profile: str = "tiny", *, progress: bool = True, workers: int | None = None) -> dict:
    """Build (or load) the tokenizer and every world model; returns paths, seconds and per-model build stats.

    Models that are not cached yet are trained in up to ``workers`` child processes at once (default: one per
    CPU core, at most three, unless the models are small), each with one thread; cached ones load at once.
    """
    import os

    from tqdm.auto import tqdm

    start = time.perf_counter()
    paths = {"tokenizer": tokenizer_path(profile)}
    missing = [n for n in BUILD_ORDER if not _is_cached(n, profile)]
    if workers is None:  # child processes cost seconds of imports: only worth it for real training runs
        steps = sum(world_settings(profile).stage(n).kit.max_steps for n in missing)
        workers = min(3, os.cpu_count() or 1) if steps >= 1000 else 1
    workers = max(1, min(len(missing), workers))
    bar = tqdm(total=len(BUILD_ORDER), desc=f"tiny world ({profile})", disable=not progress)
    bar.update(len(BUILD_ORDER) - len(missing))
    if workers > 1:
        queue, running = list(reversed(missing)), {}  # the slowest (target) first
        while queue or running:
            while queue and len(running) < workers:
                name = queue.pop(0)
                running[name] = _spawn_build(name, profile)
            time.sleep(0.5)
            for name, proc in list(running.items()):
                if proc.poll() is None:
                    continue
                del running[name]
                if proc.returncode != 0:
                    for other in running.values():
                        other.kill()
                    raise WorldError(f"building world model {name!r} ({profile}) failed:\n{proc.stderr.read()[-3000:]}")
                bar.set_postfix_str(f"built {name}")
                bar.update(1)
    else:
        for name in missing:
            world_model_path(name, profile, progress=progress)
            bar.update(1)
    bar.close()
    for name in BUILD_ORDER:
        paths[name] = world_model_path(name, profile, progress=False)
    stats = {name: build_stats(name, profile) for name in BUILD_ORDER}
    hashes = {name: config_hash(model_config(name, profile)) for name in BUILD_ORDER}
    seconds = round(time.perf_counter() - start, 2)
    record = world_root() / f"world-{profile}-{config_hash(hashes)}.json"
    if len(missing) == len(BUILD_ORDER):  # built from nothing (models; the tokenizer may have been cached)
        atomic_write_json(record, {"build_seconds": seconds, "workers": workers,
                                   "load_average": list(os.getloadavg())})
    if record.exists():
        build_seconds = json.loads(record.read_text())["build_seconds"]
    else:  # built piecemeal: the sum of the parts, as recorded
        tok_stats = json.loads((paths["tokenizer"] / "result.json").read_text())
        build_seconds = tok_stats.get("seconds", 0) + sum(st.get("build_seconds", st["seconds"]) for st in stats.values())
    return {
        "paths": paths,
        "seconds": seconds,  # this call: building, or loading from the cache
        "build_seconds": round(build_seconds, 2),  # building the whole text world from nothing, as recorded
        "stats": stats,
        "hashes": hashes,
        "workers": workers,
    }


def _is_cached(name: str, profile: str) -> bool:
    from longthink.runs import Stage

    config = model_config(name, profile)
    return Stage(world_root() / f"{name}-{config_hash(config)}", name, config).complete


def load_world_model(name: str, profile: str = "tiny"):
    """``(model, tokenizer)`` for a world model, in eval mode (float32)."""
    import torch
    from transformers import AutoModelForCausalLM

    from longthink.tokenizer import load_tokenizer

    path = world_model_path(name, profile)
    model = AutoModelForCausalLM.from_pretrained(str(path), dtype=torch.float32, use_safetensors=True)
    model.eval()
    return model, load_tokenizer(path)
