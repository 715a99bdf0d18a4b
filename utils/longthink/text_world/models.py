"""The text world's tokenizer and base models, built on demand and cached by key.

``world_model_path(name, profile, seed)`` returns a folder holding a model and its tokenizer (``save_pretrained``,
safetensors), building it on first use under ``$LONGTHINK_CACHE/world/<name>-<key>``. The key covers every setting
that shapes the model (its stage, the tasks, the evaluation sets it must not see, the seed, ``WORLD_VERSION``) and
the tokenizer's key, so a changed recipe builds a new model and an unchanged one loads in seconds; the folder is
checked against its checksums before use (``longthink.stages``). The names:

* ``instruct``: answers with short reasoning (s1's Qwen2.5-32B-Instruct analog);
* ``target``: the larger model that never saw long reasoning (ThinkLogit's Qwen2.5-32B analog);
* ``guider_base``: the small base with the same tokenizer (ThinkLogit's Qwen2.5-Math-1.5B analog).

Paper code reaches these through the resolver (``world:instruct``; ``text_world.registry``), never directly.
"""

from __future__ import annotations

import json
import os
import random
import time
from pathlib import Path

from longthink.files import atomic_write_json
from longthink.stages import Artefact, Stage, cache_dir, cached_build, config_hash, stage_key
from longthink.text_world.settings import MODEL_NAMES, world_settings

WORLD_VERSION = 8  # bump when the world's code changes what a build produces (8: trained to saturation, checked; 7: issue 12's hurried passes, run drills, label smoothing)
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


def tokenizer_config(profile: str, seed: int | None = None) -> dict:
    s = world_settings(profile, seed)
    return {"version": WORLD_VERSION, "seed": s.seed, "tasks": s.stage("tasks").as_dict(),
            "tokenizer": s.stage("tokenizer").as_dict()}


def model_config(name: str, profile: str, seed: int | None = None) -> dict:
    s = world_settings(profile, seed)
    return {"version": WORLD_VERSION, "seed": s.seed, "tasks": s.stage("tasks").as_dict(), "name": name,
            "model": s.stage(name).as_dict(), "eval": s.stage("eval").as_dict()}


def tokenizer_corpus(*, size: int, seed: int, max_difficulty: int, domains) -> list[str]:
    """World text for the BPE: chat prompts, short answers, drills and both teachers' long traces."""
    from longthink.formats import s1_assistant
    from longthink.text_world.pretrain import prompt_text
    from longthink.text_world.tasks import make_problem
    from longthink.text_world.teacher import TeacherSettings, distill_trace, long_trace, run_drill, short_completion

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


def tokenizer_artefact(profile: str = "tiny", seed: int | None = None) -> Artefact:
    """The world tokenizer for ``profile`` and ``seed`` (built on first use)."""
    from longthink.tokenizer import build_tokenizer

    config = tokenizer_config(profile, seed)

    def build(tmp: Path) -> dict:
        start = time.perf_counter()
        s = world_settings(profile, seed)
        tasks, tok = s.stage("tasks").kit, s.stage("tokenizer").kit
        corpus = tokenizer_corpus(size=tok.corpus_size, seed=s.seed, max_difficulty=tasks.max_difficulty,
                                  domains=tasks.domains)
        tokenizer = build_tokenizer(corpus, vocab_size=tok.vocab_size)
        tokenizer.save_pretrained(str(tmp))
        return {"vocab": len(tokenizer), "seconds": round(time.perf_counter() - start, 2)}

    return cached_build(world_root(), "tokenizer", config, build)


def tokenizer_path(profile: str = "tiny", seed: int | None = None) -> Path:
    return tokenizer_artefact(profile, seed).dir


def _eval_questions(profile: str, seed: int | None) -> frozenset[str]:
    from longthink.text_world.pool import eval_sets

    return frozenset(r["question"] for rows in eval_sets(profile=profile, seed=seed, as_rows=True).values()
                     for r in rows)


def _model_stage(name: str, profile: str, seed: int | None) -> Stage:
    config = model_config(name, profile, seed)
    inputs = {"tokenizer": tokenizer_artefact(profile, seed)}
    key = stage_key(name, config, inputs)
    return Stage(world_root() / f"{name}-{key}", name, config, inputs)


def world_model_artefact(name: str, profile: str = "tiny", seed: int | None = None, *,
                         progress: bool = True) -> Artefact:
    """World model ``name`` for ``profile`` and ``seed``: model + tokenizer, built once and cached."""
    _check_name(name)

    def build(tmp: Path) -> dict:
        start = time.perf_counter()
        from longthink.text_world.pretrain import build_model, pretrain
        from longthink.tokenizer import load_tokenizer

        s = world_settings(profile, seed)
        tasks, stage = s.stage("tasks").kit, s.stage(name).kit
        tokenizer = load_tokenizer(tokenizer_path(profile, seed))
        model_seed = s.seed * 1000 + _SEED_OFFSETS[name]
        model = build_model(stage, tokenizer, seed=model_seed)
        stats = pretrain(model, tokenizer, stage, max_difficulty=tasks.max_difficulty, domains=tasks.domains,
                         seed=model_seed, exclude=_eval_questions(profile, seed), progress=progress,
                         desc=f"world:{name}")
        model.save_pretrained(str(tmp), safe_serialization=True)
        tokenizer.save_pretrained(str(tmp))
        return {"name": name, "profile": profile, **stats, "build_seconds": round(time.perf_counter() - start, 2)}

    return _model_stage(name, profile, seed).run(build)


def world_model_path(name: str, profile: str = "tiny", seed: int | None = None, *, progress: bool = True) -> Path:
    return world_model_artefact(name, profile, seed, progress=progress).dir


def build_stats(name: str, profile: str = "tiny", seed: int | None = None) -> dict:
    """What the build of ``name`` recorded (steps, seconds, steps/s, final loss, parameters)."""
    return dict(world_model_artefact(name, profile, seed, progress=False).result)


def _build_in_worker(name: str, profile: str, seed: int | None) -> str:
    """Run in a pool worker: build one model (one thread), return its folder."""
    return str(world_model_path(name, profile, seed, progress=False))


def build_world(profile: str = "tiny", seed: int | None = None, *, progress: bool = True,
                workers: int | None = None) -> dict:
    """Build (or load) the tokenizer and every world model; returns paths, seconds and per-model build stats.

    Models that are not cached yet are trained in up to ``workers`` worker processes at once (default: one per
    CPU core, at most three, unless the models are small), each with one thread; cached ones load at once.
    """
    from tqdm.auto import tqdm

    from longthink.processes import WorkerError, run_in_workers

    start = time.perf_counter()
    paths = {"tokenizer": tokenizer_path(profile, seed)}
    missing = [n for n in BUILD_ORDER if not _model_stage(n, profile, seed).complete]
    if workers is None:  # worker processes cost seconds of imports: only worth it for real training runs
        steps = sum(world_settings(profile, seed).stage(n).kit.max_steps for n in missing)
        workers = min(3, os.cpu_count() or 1) if steps >= 1000 else 1
    workers = max(1, min(len(missing), workers))
    bar = tqdm(total=len(BUILD_ORDER), desc=f"tiny world ({profile}, seed {world_settings(profile, seed).seed})",
               disable=not progress)
    bar.update(len(BUILD_ORDER) - len(missing))
    if workers > 1:
        def built(name: str) -> None:
            bar.set_postfix_str(f"built {name}")
            bar.update(1)

        jobs = {name: (name, profile, seed) for name in reversed(missing)}  # the slowest (target) first
        try:
            run_in_workers(jobs, _build_in_worker, workers=workers, on_done=built)
        except WorkerError as exc:
            raise WorldError(f"building world model {exc.job!r} ({profile}) failed: {exc.error}") from exc.error
    else:
        for name in missing:
            world_model_path(name, profile, seed, progress=progress)
            bar.update(1)
    bar.close()
    artefacts = {name: world_model_artefact(name, profile, seed, progress=False) for name in BUILD_ORDER}
    paths.update({name: a.dir for name, a in artefacts.items()})
    stats = {name: dict(a.result) for name, a in artefacts.items()}
    keys = {name: a.key for name, a in artefacts.items()}
    seconds = round(time.perf_counter() - start, 2)
    record = world_root() / f"world-{profile}-{config_hash(keys)}.json"
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
        "hashes": keys,
        "workers": workers,
    }


def load_world_model(name: str, profile: str = "tiny", seed: int | None = None):
    """``(model, tokenizer)`` for a world model, in eval mode (float32)."""
    import torch
    from transformers import AutoModelForCausalLM

    from longthink.tokenizer import load_tokenizer

    path = world_model_path(name, profile, seed)
    model = AutoModelForCausalLM.from_pretrained(str(path), dtype=torch.float32, use_safetensors=True)
    model.eval()
    return model, load_tokenizer(path)
