"""ThinkLogit end to end, one function per stage: the notebook calls these and shows a table or plot after each.

Stages (``recipes/thinklogit.yaml``): data -> guider (SFT, skipped when the guider exists) -> rollouts -> dpo ->
eval (target, guider, ThinkLogit, ThinkLogit-DPO) -> sweep (alpha, warm-up) -> timing. Each stage writes into
``runs/<profile>/thinklogit/<stage>/`` (``longthink.stages``) and declares what it reads: its key holds its own
settings and the keys of exactly those inputs (the data, the models it decodes with, the pairs), so re-running an
upstream cell whose settings did not change rebuilds nothing downstream.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from longthink.files import read_jsonl, write_jsonl
from longthink.runs import PaperRun, open_paper
from longthink.thinklogit.data import Question
from longthink.thinklogit.guided import Guidance
from longthink.thinklogit.systems import Models, Sample
from longthink.training import torch_threads

PAPER = "thinklogit"


def setup(profile: str = "tiny", *, seed: int = 0, output_dir: str = "runs", overrides: dict | None = None,
          recipe: str | Path | None = None) -> PaperRun:
    """Open a ThinkLogit run: ``recipes/thinklogit.yaml`` under ``profile``, the seed set, the run folder ready."""
    return open_paper(PAPER, profile, seed=seed, output_dir=output_dir, overrides=overrides, recipe=recipe)


def _threads(ctx: PaperRun):
    return torch_threads(ctx.settings("models").kit.threads)


# ----------------------------------------------------------------------------------------------------- data
def prepare_data(ctx: PaperRun) -> dict:
    """Evaluation questions per benchmark, guider SFT rows and DPO prompts (stage ``data``)."""
    from longthink.resolver import is_world
    from longthink.thinklogit.data import load_questions, load_training

    data, models = ctx.settings("data"), ctx.settings("models")
    train_guider = models.kit.guider is None
    rows_of = lambda ref: ctx.resolve(ref, kind="dataset").rows()  # noqa: E731
    inputs = {f"benchmark_{i}": ctx.resolve(ref, kind="dataset").artefact()
              for i, ref in enumerate(data.kit.benchmarks) if is_world(ref)}
    well_formed = None
    if is_world(data.kit.dpo_prompts):
        inputs["pool"] = ctx.resolve(data.kit.dpo_prompts, kind="dataset").artefact()
        check = ctx.resolve("world:trace_check", kind="tool")
        inputs["trace_check"] = check.artefact()
        well_formed = check.load()

    def build(tmp: Path) -> dict:
        questions = load_questions(data, rows_of=rows_of)
        sft, dpo, dev = load_training(data, ctx.settings("guider"), rows_of=rows_of, well_formed=well_formed,
                                      train_guider=train_guider)
        write_jsonl(tmp / "eval.jsonl", [q.as_dict() for qs in questions.values() for q in qs])
        write_jsonl(tmp / "sft.jsonl", sft)
        write_jsonl(tmp / "dpo_prompts.jsonl", [q.as_dict() for q in dpo])
        write_jsonl(tmp / "dev_prompts.jsonl", [q.as_dict() for q in dev])
        return {"eval": {b: len(qs) for b, qs in questions.items()}, "sft_rows": len(sft), "dpo_prompts": len(dpo),
                "dev_prompts": len(dev)}

    settings = {"data": data.as_dict(), "guider": ctx.settings("guider").kit.__dict__, "train_guider": train_guider}
    stage = ctx.stage("data", build, settings=settings, inputs=inputs)
    eval_q: dict[str, list[Question]] = {}
    for row in read_jsonl(stage.path("eval.jsonl")):
        eval_q.setdefault(row["benchmark"], []).append(Question(**row))
    return {"eval": eval_q, "sft": read_jsonl(stage.path("sft.jsonl")),
            "dpo": [Question(**r) for r in read_jsonl(stage.path("dpo_prompts.jsonl"))],
            "dev": [Question(**r) for r in read_jsonl(stage.path("dev_prompts.jsonl"))],
            "summary": dict(stage.result), "stage": stage}


# --------------------------------------------------------------------------------------------------- guider
def train_guider(ctx: PaperRun, data: dict) -> dict:
    """The guider: SFT of the guider base on long traces (stage ``guider``), or the recipe's existing guider."""
    from longthink.thinklogit.guider import train_guider as sft

    models = ctx.settings("models").kit
    if models.guider is not None:
        existing = ctx.resolve(models.guider)
        return {"path": existing.path, "trained": False, "stage": existing.artefact()}
    base = ctx.resolve(models.guider_base)

    def build(tmp: Path) -> dict:
        with _threads(ctx):
            return sft(base=base.path, rows=data["sft"], stage=ctx.settings("guider"), profile=ctx.profile,
                       out_dir=tmp, seed=ctx.seed)

    settings = {"models": ctx.settings("models").as_dict(), "guider": ctx.settings("guider").as_dict()}
    stage = ctx.stage("guider", build, settings=settings, inputs={"data": data["stage"], "base": base.artefact()})
    return {"path": str(stage.path("model")), "trained": True, **stage.result, "stage": stage}


def _load(path: str, *, dtype: str):
    import torch

    from longthink.models import load_causal_lm, load_tokenizer

    torch_dtype = getattr(torch, dtype)
    if torch.cuda.is_available():  # paper scale: shard the 32B target over the visible GPUs
        from transformers import AutoModelForCausalLM

        model = AutoModelForCausalLM.from_pretrained(path, dtype=torch_dtype, device_map="auto").eval()
        return model, load_tokenizer(path)
    return load_causal_lm(path, dtype=torch_dtype)


def load_models(ctx: PaperRun, guider_path: str, dpo_path: str | None = None) -> Models:
    """Target, guider base and guider (and the DPO guider), after checking that they share one tokenizer.

    ``models.keys`` holds each model's cache key, which the stages that decode with them put into their own keys.
    """
    from longthink.resolver import resolve
    from longthink.thinklogit.guided import check_shared_tokenizer

    kit = ctx.settings("models").kit
    refs = {"target": kit.target, "base": kit.guider_base, "guider": guider_path}
    if dpo_path is not None:
        refs["guider_dpo"] = dpo_path
    resolved = {name: resolve(ref, profile=ctx.profile, seed=ctx.seed) for name, ref in refs.items()}
    loaded = {name: _load(r.path, dtype=kit.dtype) for name, r in resolved.items()}
    tok = loaded["target"][1]
    names = {"base": "guider base", "guider": "guider", "guider_dpo": "DPO guider"}
    check_shared_tokenizer(tok, {names[n]: t for n, (_, t) in loaded.items() if n != "target"})
    return Models(target=loaded["target"][0], base=loaded["base"][0], guider=loaded["guider"][0], tokenizer=tok,
                  guider_dpo=loaded["guider_dpo"][0] if "guider_dpo" in loaded else None,
                  keys={name: r.key for name, r in resolved.items()})


def _model_inputs(models: Models, *names: str) -> dict[str, str]:
    names = names or tuple(models.keys)
    return {f"model_{n}": models.keys[n] for n in names if n in models.keys}


def _samples(rows: list[dict]) -> list[Sample]:
    return [Sample(**r) for r in rows]


# ------------------------------------------------------------------------------------------------- rollouts
def make_rollouts(ctx: PaperRun, data: dict, models: Models) -> dict:
    """Rollouts from each source on the DPO prompts, graded; preference pairs (stage ``rollouts``)."""
    from longthink.thinklogit.dpo import build_pairs
    from longthink.thinklogit.evaluate import summarize
    from longthink.thinklogit.systems import sample_system

    kit, ev = ctx.settings("rollouts").kit, ctx.settings("eval").kit

    def build(tmp: Path) -> dict:
        settings = _override(ev, batch_size=kit.batch_size,
                             temperature=ev.temperature if kit.temperature is None else kit.temperature)
        samples = {}
        with _threads(ctx):
            for i, source in enumerate(kit.sources):
                samples[source], _ = sample_system(source, models, data["dpo"], k=kit.rollouts_per_source,
                                                   settings=settings, seed=ctx.seed * 1000 + 500 + i)
        pairs, counts = build_pairs(samples, combos=list(kit.combos), max_pairs=kit.max_pairs, balance=kit.balance,
                                    seed=ctx.seed, eos_token=models.tokenizer.eos_token, cut=kit.pair_cut,
                                    tokenizer=models.tokenizer, per_question=kit.pairs_per_question)
        write_jsonl(tmp / "samples.jsonl", [s.as_dict() for rows in samples.values() for s in rows])
        write_jsonl(tmp / "pairs.jsonl", pairs)
        return {"sources": {s: {k: v for k, v in summarize(rows).items() if k in ("accuracy", "mean_tokens")}
                            for s, rows in samples.items()}, "pairs": counts}

    settings = {name: ctx.settings(name).as_dict() for name in ("models", "rollouts", "eval")}
    stage = ctx.stage("rollouts", build, settings=settings,
                      inputs={"data": data["stage"], **_model_inputs(models, "target", "base", "guider")})
    return {**stage.result, "pairs_path": str(stage.path("pairs.jsonl")), "dir": str(stage.dir), "stage": stage}


def _override(settings, **changes):
    import dataclasses

    return dataclasses.replace(settings, **changes)


# ------------------------------------------------------------------------------------------------------ dpo
def train_dpo(ctx: PaperRun, guider_path: str, rollouts: dict) -> dict:
    """DPO + LoRA on the guider from the rollouts' pairs (stage ``dpo``); the merged model folder."""
    from longthink.resolver import resolve
    from longthink.thinklogit.dpo import train_dpo as dpo

    guider = resolve(guider_path, profile=ctx.profile, seed=ctx.seed)

    def build(tmp: Path) -> dict:
        pairs = read_jsonl(Path(rollouts["pairs_path"]))
        with _threads(ctx):
            return dpo(guider_path=guider.path, pairs=pairs, stage=ctx.settings("dpo"), out_dir=tmp, seed=ctx.seed)

    stage = ctx.stage("dpo", build, inputs={"guider": guider.artefact(), "rollouts": rollouts["stage"]})
    return {"path": str(stage.path("model")), **stage.result, "stage": stage}


# ----------------------------------------------------------------------------------------------------- eval
def evaluate_systems(ctx: PaperRun, data: dict, models: Models) -> dict:
    """k samples per question from every system (stage ``eval``); per-system summaries and decode stats."""
    from longthink.thinklogit.evaluate import summarize
    from longthink.thinklogit.systems import sample_system

    ev = ctx.settings("eval").kit
    questions = [q for qs in data["eval"].values() for q in qs]

    def build(tmp: Path) -> dict:
        out, rows = {}, []
        with _threads(ctx):
            for name in ev.systems:
                samples, stats = sample_system(name, models, questions, k=ev.k, settings=ev, seed=ctx.seed)
                rows += [s.as_dict() for s in samples]
                out[name] = {**summarize(samples), "decode_seconds": stats.seconds,
                             "decode_s_per_token": stats.seconds_per_token}
        write_jsonl(tmp / "samples.jsonl", rows)
        return {"systems": out}

    settings = {name: ctx.settings(name).as_dict() for name in ("models", "eval")}
    stage = ctx.stage("eval", build, settings=settings, inputs={"data": data["stage"], **_model_inputs(models)})
    samples = _samples(read_jsonl(stage.path("samples.jsonl")))
    return {"systems": stage["systems"], "samples": samples, "stage": stage}


# ------------------------------------------------------------------------------------------------- diagnose
def diagnose(ctx: PaperRun, evaluation: dict) -> dict:
    """Why each system's answers are wrong (``longthink.text_world.diagnosis``; world questions only).

    ``table``: one row per system (accuracy over every sample, wrong answers, each error kind); ``read``: input
    read accuracy per chain position, one column per system.
    """
    import pandas as pd

    dg = ctx.resolve("world:diagnosis", kind="tool").load()
    QUESTION_RE = ctx.resolve("world:tasks", kind="tool").load().QUESTION_RE

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
def evaluate_dev(ctx: PaperRun, data: dict, models: Models, *, systems: tuple[str, ...] = ("thinklogit",
                                                                                          "thinklogit_dpo")) -> dict:
    """ThinkLogit and ThinkLogit-DPO on the dev split of training problems (stage ``dev``; empty without one).

    The dev split is where the DPO settings are chosen (``data.n_dev_prompts``); the evaluation questions never
    are. Same sampler and k as the evaluation, a different seed.
    """
    from longthink.thinklogit.evaluate import summarize
    from longthink.thinklogit.systems import sample_system

    if not data.get("dev"):
        return {}
    ev = ctx.settings("eval").kit

    def build(tmp: Path) -> dict:
        out = {}
        with _threads(ctx):
            for name in systems:
                samples, _ = sample_system(name, models, data["dev"], k=ev.k, settings=ev, seed=ctx.seed + 777,
                                           progress=False)
                s = summarize(samples)
                out[name] = {"accuracy": s["accuracy"], "mean_tokens": s["mean_tokens"],
                             "n_questions": s["n_questions"],
                             "by_difficulty": {str(d): a for d, a in s["by_difficulty"].items()}}
        return {"systems": out}

    settings = {**{name: ctx.settings(name).as_dict() for name in ("models", "eval")}, "systems": list(systems),
                "dev": [q.id for q in data["dev"]]}
    return dict(ctx.stage("dev", build, settings=settings,
                          inputs={"data": data["stage"], **_model_inputs(models)})["systems"])


# ---------------------------------------------------------------------------------------------------- sweep
def sweep(ctx: PaperRun, data: dict, models: Models) -> list[dict]:
    """ThinkLogit accuracy and length over alpha (warm-up fixed) and over warm-up (alpha fixed) (stage ``sweep``)."""
    from longthink.thinklogit.data import _stratified
    from longthink.thinklogit.evaluate import summarize
    from longthink.thinklogit.systems import sample_system

    kit, ev = ctx.settings("sweep").kit, ctx.settings("eval").kit
    questions = []
    for qs in data["eval"].values():
        rows = _stratified([{**q.as_dict(), "difficulty": q.difficulty or 0} for q in qs], kit.n_questions)
        questions += [Question(**{**r, "difficulty": r["difficulty"] or None}) for r in rows]

    def build(tmp: Path) -> dict:
        points = [("alpha", a, Guidance(alpha=a, warmup=ev.warmup)) for a in kit.alphas]
        points += [("warmup", w, Guidance(alpha=ev.alpha, warmup=w)) for w in kit.warmups]
        rows = []
        with _threads(ctx):
            for axis, value, guidance in points:
                samples, _ = sample_system("thinklogit", models, questions, k=kit.k, settings=ev, seed=ctx.seed,
                                           guidance=guidance, progress=False)
                s = summarize(samples)
                rows.append({"axis": axis, "value": value, "alpha": guidance.alpha, "warmup": guidance.warmup,
                             "accuracy": s["accuracy"], "mean_tokens": s["mean_tokens"],
                             "recheck_per_output": s["behaviour"]["recheck"]})
        return {"points": rows}

    settings = {name: ctx.settings(name).as_dict() for name in ("models", "eval", "sweep")}
    stage = ctx.stage("sweep", build, settings=settings,
                      inputs={"data": data["stage"], **_model_inputs(models, "target", "base", "guider")})
    return list(stage["points"])


# --------------------------------------------------------------------------------------------------- timing
def time_overhead(ctx: PaperRun, data: dict, models: Models) -> dict:
    """Seconds per generated token, target alone vs ThinkLogit (vs naive), same prompts (stage ``timing``)."""
    from longthink.thinklogit.timing import time_decoding

    kit, ev = ctx.settings("timing").kit, ctx.settings("eval").kit
    questions = [q for qs in data["eval"].values() for q in qs]
    prompts = [models.tokenizer(questions[i % len(questions)].prompt, add_special_tokens=False)["input_ids"]
               for i in range(kit.batch_size)]

    def build(tmp: Path) -> dict:
        from longthink.thinklogit.guided import Sampler

        sampler = Sampler(temperature=ev.temperature, top_p=ev.top_p, max_new_tokens=kit.new_tokens,
                          repeat_limit=ev.repeat_limit)
        with _threads(ctx):
            return time_decoding(models.target, models.guider, models.base, prompts, eos_ids=models.eos_ids,
                                 pad_id=models.tokenizer.pad_token_id, new_tokens=kit.new_tokens, repeats=kit.repeats,
                                 sampler=sampler, guidance=Guidance(alpha=ev.alpha, warmup=0), naive=kit.naive,
                                 parallel=kit.parallel, seed=ctx.seed)

    settings = {name: ctx.settings(name).as_dict() for name in ("models", "eval", "timing")}
    stage = ctx.stage("timing", build, settings=settings,
                      inputs={"data": data["stage"], **_model_inputs(models, "target", "base", "guider")})
    return dict(stage.result)


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


def findings(values: dict) -> str:
    """What this run showed, as markdown built from its metrics (the notebook states no number by hand)."""
    m = {k.split("/", 1)[1]: v for k, v in values.items()}
    lines = ["**This run:**"]
    acc = {name: m[f"acc_{name}"] for name in ("target", "guider", "thinklogit", "thinklogit_dpo")
           if f"acc_{name}" in m}
    lines.append("pass@1 " + ", ".join(f"{name} {a:.3f}" for name, a in acc.items()) + ".")
    if "rel_gain_thinklogit" in m:
        gain = m["rel_gain_thinklogit"]
        lines.append(f"ThinkLogit over the target alone: {gain:+.1%} relative (the paper: +24.5% on five benchmarks).")
    if "dpo_gain_over_thinklogit" in m:
        d = m["dpo_gain_over_thinklogit"]
        lines.append(f"ThinkLogit-DPO over ThinkLogit: {d:+.3f} "
                     f"({'an improvement' if d > 0 else 'no improvement'}; the paper: +29.1% vs +24.5% relative).")
    if "mean_tokens_target" in m and "mean_tokens_thinklogit" in m:
        lines.append(f"Mean generated tokens: target {m['mean_tokens_target']:.1f}, ThinkLogit "
                     f"{m['mean_tokens_thinklogit']:.1f} (guided outputs should be longer).")
    by_d = {name: {int(match[1]): v for k, v in m.items() if (match := re.fullmatch(rf"acc_{name}_d(\d+)", k))}
            for name in ("target", "thinklogit")}
    if by_d["target"] and by_d["thinklogit"]:
        levels = sorted(by_d["target"])
        lines.append("By difficulty " + " ".join(str(d) for d in levels) + ": target "
                     + " ".join(f"{by_d['target'][d]:.2f}" for d in levels) + "; ThinkLogit "
                     + " ".join(f"{by_d['thinklogit'].get(d, float('nan')):.2f}" for d in levels) + ".")
    return " ".join(lines)


def record(ctx: PaperRun, values: dict) -> Path:
    """Commit the run's metrics (the notebook's last cell)."""
    return ctx.finish(values)


def paper_comparison(values: dict, *, expected_dir: str | Path | None = None):
    """The kit's relative gains beside the card's published ones (expected/paper/thinklogit.json)."""
    import pandas as pd

    from longthink.config import repo_root

    expected_dir = Path(expected_dir) if expected_dir else repo_root() / "expected"
    paper = json.loads((expected_dir / "paper" / f"{PAPER}.json").read_text())["metrics"]
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
