"""ThinkLogit end to end, one function per stage: the notebook calls these and shows a table or plot after each.

Stages (``recipes/thinklogit.yaml``): data -> guider (SFT, skipped when the guider exists) -> rollouts -> dpo ->
eval (target, guider, ThinkLogit, ThinkLogit-DPO) -> sweep (alpha, warm-up) -> timing. Each stage writes into
``runs/<profile>/thinklogit/<stage>/`` and is skipped when complete for the same settings; a stage's settings
include the hashes of the stages it reads from, so a change upstream reruns everything downstream.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from longthink.thinklogit.data import Question
from longthink.thinklogit.guided import Guidance
from longthink.thinklogit.systems import Models, Sample
from longthink.training import torch_threads

RECIPE = "recipes/thinklogit.yaml"
PAPER = "thinklogit"


@dataclass
class Context:
    recipe: object
    run: object
    profile: str
    seed: int
    hashes: dict

    def stage(self, name: str):
        return self.recipe.stage(name)


def setup(profile: str = "tiny", *, seed: int = 0, output_dir: str = "runs", overrides: dict | None = None,
          recipe_path: str = RECIPE) -> Context:
    """Load the recipe for ``profile`` (with ``seed``), set the seed, open ``runs/<profile>/thinklogit``."""
    from longthink.config import load_recipe
    from longthink.runs import Run, set_seed
    from longthink.training import set_offline_env

    set_offline_env()
    recipe = load_recipe(recipe_path, profile=profile, overrides={"seed": seed, **(overrides or {})})
    set_seed(recipe.seed)
    return Context(recipe, Run(profile, PAPER, root=output_dir), profile, recipe.seed, {})


def _settings(ctx: Context, *stages: str, **extra) -> dict:
    return {"profile": ctx.profile, "seed": ctx.seed, **{s: ctx.stage(s).as_dict() for s in stages},
            "upstream": {k: ctx.hashes[k] for k in sorted(ctx.hashes)}, **extra}


def _write_jsonl(path: Path, rows) -> None:
    path.write_text("".join(json.dumps(r, default=str) + "\n" for r in rows))


def _read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _world_hash(profile: str) -> str | None:
    from longthink.runs import config_hash
    from longthink.text_world.settings import world_settings

    return config_hash(world_settings(profile).as_dict())


# ----------------------------------------------------------------------------------------------------- data
def prepare_data(ctx: Context) -> dict:
    """Evaluation questions per benchmark, guider SFT rows and DPO prompts (stage ``data``)."""
    from longthink.thinklogit.data import load_questions, load_training

    data, models = ctx.stage("data"), ctx.stage("models")
    train_guider = models.kit.guider is None
    world = _world_hash(ctx.profile) if data.kit.source == "world" else None
    stage = ctx.run.stage("data", _settings(ctx, "data", guider=ctx.stage("guider").kit.__dict__,
                                            train_guider=train_guider, world=world))

    def build(tmp: Path) -> dict:
        questions = load_questions(data, profile=ctx.profile)
        sft, dpo, dev = load_training(data, ctx.stage("guider"), profile=ctx.profile, train_guider=train_guider)
        _write_jsonl(tmp / "eval.jsonl", [q.as_dict() for qs in questions.values() for q in qs])
        _write_jsonl(tmp / "sft.jsonl", sft)
        _write_jsonl(tmp / "dpo_prompts.jsonl", [q.as_dict() for q in dpo])
        _write_jsonl(tmp / "dev_prompts.jsonl", [q.as_dict() for q in dev])
        return {"eval": {b: len(qs) for b, qs in questions.items()}, "sft_rows": len(sft), "dpo_prompts": len(dpo),
                "dev_prompts": len(dev)}

    result = stage.run(build)
    ctx.hashes["data"] = stage.hash
    eval_q: dict[str, list[Question]] = {}
    for row in _read_jsonl(stage.dir / "eval.jsonl"):
        eval_q.setdefault(row["benchmark"], []).append(Question(**row))
    return {"eval": eval_q, "sft": _read_jsonl(stage.dir / "sft.jsonl"),
            "dpo": [Question(**r) for r in _read_jsonl(stage.dir / "dpo_prompts.jsonl")],
            "dev": [Question(**r) for r in _read_jsonl(stage.dir / "dev_prompts.jsonl")], "summary": result}


# --------------------------------------------------------------------------------------------------- guider
def train_guider(ctx: Context, data: dict) -> dict:
    """The guider: SFT of the guider base on long traces (stage ``guider``), or the recipe's existing guider."""
    from longthink.thinklogit.guider import train_guider as sft

    models = ctx.stage("models").kit
    if models.guider is not None:
        ctx.hashes["guider"] = models.guider
        return {"path": models.guider, "trained": False}
    stage = ctx.run.stage("guider", _settings(ctx, "models", "guider"))
    with torch_threads(models.threads):
        result = stage.run(lambda tmp: sft(base=models.guider_base, rows=data["sft"], stage=ctx.stage("guider"),
                                           profile=ctx.profile, out_dir=tmp, seed=ctx.seed))
    ctx.hashes["guider"] = stage.hash
    return {"path": str(stage.dir / "model"), "trained": True, **result}


def _load(ref: str, *, profile: str, dtype: str):
    import torch

    from longthink.models import load_causal_lm, load_tokenizer, resolve_model

    torch_dtype = getattr(torch, dtype)
    if torch.cuda.is_available():  # paper scale: shard the 32B target over the visible GPUs
        from transformers import AutoModelForCausalLM

        path = resolve_model(ref, profile)
        model = AutoModelForCausalLM.from_pretrained(path, dtype=torch_dtype, device_map="auto").eval()
        return model, load_tokenizer(path)
    return load_causal_lm(ref, profile=profile, dtype=torch_dtype)


def load_models(ctx: Context, guider_path: str, dpo_path: str | None = None) -> Models:
    """Target, guider base and guider (and the DPO guider), after checking that they share one tokenizer."""
    from longthink.thinklogit.guided import check_shared_tokenizer

    kit = ctx.stage("models").kit
    target, tok = _load(kit.target, profile=ctx.profile, dtype=kit.dtype)
    base, tok_b = _load(kit.guider_base, profile=ctx.profile, dtype=kit.dtype)
    guider, tok_g = _load(guider_path, profile=ctx.profile, dtype=kit.dtype)
    others = {"guider": tok_g, "guider base": tok_b}
    guider_dpo = None
    if dpo_path is not None:
        guider_dpo, tok_d = _load(dpo_path, profile=ctx.profile, dtype=kit.dtype)
        others["DPO guider"] = tok_d
    check_shared_tokenizer(tok, others)
    return Models(target=target, base=base, guider=guider, tokenizer=tok, guider_dpo=guider_dpo)


def _samples(rows: list[dict]) -> list[Sample]:
    return [Sample(**r) for r in rows]


# ------------------------------------------------------------------------------------------------- rollouts
def make_rollouts(ctx: Context, data: dict, models: Models) -> dict:
    """Rollouts from each source on the DPO prompts, graded; preference pairs (stage ``rollouts``)."""
    from longthink.thinklogit.dpo import build_pairs
    from longthink.thinklogit.evaluate import summarize
    from longthink.thinklogit.systems import sample_system

    kit, ev = ctx.stage("rollouts").kit, ctx.stage("eval").kit
    stage = ctx.run.stage("rollouts", _settings(ctx, "models", "rollouts", "eval"))

    def build(tmp: Path) -> dict:
        settings = _override(ev, batch_size=kit.batch_size,
                             temperature=ev.temperature if kit.temperature is None else kit.temperature)
        samples = {}
        with torch_threads(ctx.stage("models").kit.threads):
            for i, source in enumerate(kit.sources):
                samples[source], _ = sample_system(source, models, data["dpo"], k=kit.rollouts_per_source,
                                                   settings=settings, seed=ctx.seed * 1000 + 500 + i)
        pairs, counts = build_pairs(samples, combos=list(kit.combos), max_pairs=kit.max_pairs, balance=kit.balance,
                                    seed=ctx.seed, eos_token=models.tokenizer.eos_token, cut=kit.pair_cut,
                                    tokenizer=models.tokenizer, per_question=kit.pairs_per_question)
        _write_jsonl(tmp / "samples.jsonl", [s.as_dict() for rows in samples.values() for s in rows])
        _write_jsonl(tmp / "pairs.jsonl", pairs)
        return {"sources": {s: {k: v for k, v in summarize(rows).items() if k in ("accuracy", "mean_tokens")}
                            for s, rows in samples.items()}, "pairs": counts}

    result = stage.run(build)
    ctx.hashes["rollouts"] = stage.hash
    return {**result, "pairs_path": str(stage.dir / "pairs.jsonl"), "dir": str(stage.dir)}


def _override(settings, **changes):
    import dataclasses

    return dataclasses.replace(settings, **changes)


# ------------------------------------------------------------------------------------------------------ dpo
def train_dpo(ctx: Context, guider_path: str, rollouts: dict) -> dict:
    """DPO + LoRA on the guider from the rollouts' pairs (stage ``dpo``); the merged model folder."""
    from longthink.thinklogit.dpo import train_dpo as dpo

    stage = ctx.run.stage("dpo", _settings(ctx, "dpo"))
    pairs = _read_jsonl(Path(rollouts["pairs_path"]))
    with torch_threads(ctx.stage("models").kit.threads):
        result = stage.run(lambda tmp: dpo(guider_path=guider_path, pairs=pairs, stage=ctx.stage("dpo"),
                                           out_dir=tmp, seed=ctx.seed))
    ctx.hashes["dpo"] = stage.hash
    return {"path": str(stage.dir / "model"), **result}


# ----------------------------------------------------------------------------------------------------- eval
def evaluate_systems(ctx: Context, data: dict, models: Models) -> dict:
    """k samples per question from every system (stage ``eval``); per-system summaries and decode stats."""
    from longthink.thinklogit.evaluate import summarize
    from longthink.thinklogit.systems import sample_system

    ev = ctx.stage("eval").kit
    stage = ctx.run.stage("eval", _settings(ctx, "models", "eval"))
    questions = [q for qs in data["eval"].values() for q in qs]

    def build(tmp: Path) -> dict:
        out, rows = {}, []
        with torch_threads(ctx.stage("models").kit.threads):
            for name in ev.systems:
                samples, stats = sample_system(name, models, questions, k=ev.k, settings=ev, seed=ctx.seed)
                rows += [s.as_dict() for s in samples]
                out[name] = {**summarize(samples), "decode_seconds": stats.seconds,
                             "decode_s_per_token": stats.seconds_per_token}
        _write_jsonl(tmp / "samples.jsonl", rows)
        return {"systems": out}

    result = stage.run(build)
    ctx.hashes["eval"] = stage.hash
    samples = _samples(_read_jsonl(stage.dir / "samples.jsonl"))
    return {"systems": result["systems"], "samples": samples}


# ------------------------------------------------------------------------------------------------- diagnose
def diagnose(evaluation: dict) -> dict:
    """Why each system's answers are wrong (``longthink.text_world.diagnosis``; world questions only).

    ``table``: one row per system (accuracy over every sample, wrong answers, each error kind); ``read``: input
    read accuracy per chain position, one column per system.
    """
    import pandas as pd

    from longthink.text_world import diagnosis as dg
    from longthink.text_world.tasks import QUESTION_RE

    runs = {}
    for sample in evaluation["samples"]:
        match = QUESTION_RE.search(sample.prompt)
        if match is None:
            raise ValueError(f"diagnose needs world questions; sample {sample.question_id!r} has none: "
                             f"{sample.prompt[:80]!r}")
        questions, texts, correct = runs.setdefault(sample.system, ([], [], []))
        questions.append(match.group(0))
        texts.append(sample.text)
        correct.append(bool(sample.correct))
    read = pd.DataFrame({name: dg.read_table(q, t)["inputs"] for name, (q, t, _) in runs.items()})
    return {"table": dg.error_table(runs), "read": read.round(3)}


# ------------------------------------------------------------------------------------------------------ dev
def evaluate_dev(ctx: Context, data: dict, models: Models, *, systems: tuple[str, ...] = ("thinklogit",
                                                                                         "thinklogit_dpo")) -> dict:
    """ThinkLogit and ThinkLogit-DPO on the dev split of training problems (stage ``dev``; empty without one).

    The dev split is where the DPO settings are chosen (``data.n_dev_prompts``); the evaluation questions never
    are. Same sampler and k as the evaluation, a different seed.
    """
    from longthink.thinklogit.evaluate import summarize
    from longthink.thinklogit.systems import sample_system

    if not data.get("dev"):
        return {}
    ev = ctx.stage("eval").kit
    stage = ctx.run.stage("dev", _settings(ctx, "models", "eval", systems=list(systems)))

    def build(tmp: Path) -> dict:
        out = {}
        with torch_threads(ctx.stage("models").kit.threads):
            for name in systems:
                samples, _ = sample_system(name, models, data["dev"], k=ev.k, settings=ev, seed=ctx.seed + 777,
                                           progress=False)
                s = summarize(samples)
                out[name] = {"accuracy": s["accuracy"], "mean_tokens": s["mean_tokens"],
                             "n_questions": s["n_questions"],
                             "by_difficulty": {str(d): a for d, a in s["by_difficulty"].items()}}
        return {"systems": out}

    return stage.run(build)["systems"]


# ---------------------------------------------------------------------------------------------------- sweep
def sweep(ctx: Context, data: dict, models: Models) -> list[dict]:
    """ThinkLogit accuracy and length over alpha (warm-up fixed) and over warm-up (alpha fixed) (stage ``sweep``)."""
    from longthink.thinklogit.data import _stratified
    from longthink.thinklogit.evaluate import summarize
    from longthink.thinklogit.systems import sample_system

    kit, ev = ctx.stage("sweep").kit, ctx.stage("eval").kit
    stage = ctx.run.stage("sweep", _settings(ctx, "models", "eval", "sweep"))
    questions = []
    for qs in data["eval"].values():
        rows = _stratified([{**q.as_dict(), "difficulty": q.difficulty or 0} for q in qs], kit.n_questions)
        questions += [Question(**{**r, "difficulty": r["difficulty"] or None}) for r in rows]

    def build(tmp: Path) -> dict:
        points = [("alpha", a, Guidance(alpha=a, warmup=ev.warmup)) for a in kit.alphas]
        points += [("warmup", w, Guidance(alpha=ev.alpha, warmup=w)) for w in kit.warmups]
        rows = []
        with torch_threads(ctx.stage("models").kit.threads):
            for axis, value, guidance in points:
                samples, _ = sample_system("thinklogit", models, questions, k=kit.k, settings=ev, seed=ctx.seed,
                                           guidance=guidance, progress=False)
                s = summarize(samples)
                rows.append({"axis": axis, "value": value, "alpha": guidance.alpha, "warmup": guidance.warmup,
                             "accuracy": s["accuracy"], "mean_tokens": s["mean_tokens"],
                             "recheck_per_output": s["behaviour"]["recheck"]})
        return {"points": rows}

    result = stage.run(build)
    return result["points"]


# --------------------------------------------------------------------------------------------------- timing
def time_overhead(ctx: Context, data: dict, models: Models) -> dict:
    """Seconds per generated token, target alone vs ThinkLogit (vs naive), same prompts (stage ``timing``)."""
    from longthink.thinklogit.timing import time_decoding

    kit, ev = ctx.stage("timing").kit, ctx.stage("eval").kit
    stage = ctx.run.stage("timing", _settings(ctx, "models", "eval", "timing"))
    questions = [q for qs in data["eval"].values() for q in qs]
    prompts = [models.tokenizer(questions[i % len(questions)].prompt, add_special_tokens=False)["input_ids"]
               for i in range(kit.batch_size)]

    def build(tmp: Path) -> dict:
        from longthink.thinklogit.guided import Sampler

        sampler = Sampler(temperature=ev.temperature, top_p=ev.top_p, max_new_tokens=kit.new_tokens,
                          repeat_limit=ev.repeat_limit)
        with torch_threads(ctx.stage("models").kit.threads):
            return time_decoding(models.target, models.guider, models.base, prompts, eos_ids=models.eos_ids,
                                 pad_id=models.tokenizer.pad_token_id, new_tokens=kit.new_tokens, repeats=kit.repeats,
                                 sampler=sampler, guidance=Guidance(alpha=ev.alpha, warmup=0), naive=kit.naive,
                                 parallel=kit.parallel, seed=ctx.seed)

    return stage.run(build)


# -------------------------------------------------------------------------------------------------- metrics
def metrics(evaluation: dict, timing: dict) -> dict:
    """The flat metrics of the run (``thinklogit/<key>``)."""
    from longthink.thinklogit.evaluate import relative_gain

    systems = evaluation["systems"]
    out = {}
    for name, s in systems.items():
        out[f"acc_{name}"] = s["accuracy"]
        out[f"mean_tokens_{name}"] = s["mean_tokens"]
        out[f"recheck_per_output_{name}"] = s["behaviour"]["recheck"]
        for d, acc in s["by_difficulty"].items():
            out[f"acc_{name}_d{d}"] = acc
    base = systems["target"]["accuracy"]
    for name in ("thinklogit", "thinklogit_dpo"):
        if name in systems:
            out[f"rel_gain_{name}"] = relative_gain(systems[name]["accuracy"], base)
    if "thinklogit" in systems:
        out["extra_tokens_thinklogit"] = systems["thinklogit"]["mean_tokens"] - systems["target"]["mean_tokens"]
        if "thinklogit_dpo" in systems:
            out["dpo_gain_over_thinklogit"] = systems["thinklogit_dpo"]["accuracy"] - systems["thinklogit"]["accuracy"]
    out["overhead_ratio"] = timing["overhead_ratio"]
    return {f"{PAPER}/{k}": float(v) for k, v in out.items()}


def record(ctx: Context, values: dict) -> Path:
    return ctx.run.record_metrics(values, seed=ctx.seed)


def paper_comparison(values: dict, *, expected_dir: str = "expected"):
    """The kit's relative gains beside the card's published ones (expected/paper/thinklogit.json)."""
    import pandas as pd

    paper = json.loads((Path(expected_dir) / "paper" / f"{PAPER}.json").read_text())["metrics"]
    rows = []
    for key, spec in paper.items():
        rows.append({"metric": key.split("/", 1)[1], "paper": spec.get("value"), "source": spec.get("source", ""),
                     "kit (this run)": values.get(key)})
    return pd.DataFrame(rows).set_index("metric")


def examples(evaluation: dict, *, n: int = 2, difficulty: int | None = None):
    """Side-by-side outputs of every system for ``n`` questions (the hardest difficulty by default)."""
    import pandas as pd

    samples = evaluation["samples"]
    levels = sorted({s.difficulty for s in samples if s.difficulty is not None})
    want = difficulty if difficulty is not None else (levels[-1] if levels else None)
    ids = list(dict.fromkeys(s.question_id for s in samples if s.difficulty == want))[:n]
    rows = []
    for qid in ids:
        for system in dict.fromkeys(s.system for s in samples):
            s = next(x for x in samples if x.question_id == qid and x.system == system)
            rows.append({"question": s.prompt.split("\n")[1] if "\n" in s.prompt else s.prompt, "gold": s.gold,
                         "system": system, "output": s.text, "tokens": s.n_tokens, "correct": s.correct})
    return pd.DataFrame(rows)
