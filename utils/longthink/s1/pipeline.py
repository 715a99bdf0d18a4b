"""The s1 pipeline, one function per notebook stage; each is cached in ``runs/<profile>/s1/<stage>/``.

curate -> sft (the s1 model) -> ablations (Table 2) -> sft_tcc (the token-conditional baseline model) ->
evaluate (budget forcing sweeps, Wait x k) -> baselines (TCC, TCC + BF, CCC, RS, majority voting) -> bench ->
summarize (the metrics of ``runs/<profile>/s1/metrics.json``). A stage's settings hash includes the hashes of
the stages it reads, so changing curation retrains and re-evaluates everything downstream and nothing else.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from longthink.runs import Run, config_hash

RECIPE = "recipes/s1.yaml"
PAPER = "s1"
OUTPUTS_FILE = "outputs.json"  # every completion of the evaluate stage, per setting


# ------------------------------------------------------------------------------------------------- inputs
def use_threads(n: int) -> None:
    """Set torch's thread count for the stages that follow (0 leaves torch's default); see ``torch_threads``."""
    if n and n > 0:
        import torch

        torch.set_num_threads(n)


def load(profile: str, *, recipe_path: str | Path | None = None, overrides: dict | None = None):
    from longthink.config import load_recipe
    from longthink.notebooks import repo_root

    path = Path(recipe_path) if recipe_path else repo_root() / RECIPE
    return load_recipe(path, profile=None if profile == "paper" else profile, overrides=overrides)


def eval_rows(name: str, profile: str) -> list[dict]:
    """An evaluation set as rows with ``question`` and ``answer``: ``hard`` / ``by_difficulty`` of the world, or a
    hub dataset id (``problem``/``question`` and ``answer`` columns) at paper scale."""
    name = name.removeprefix("world:")
    if name in ("hard", "by_difficulty"):
        from longthink.text_world.pool import eval_sets

        return [dict(r) for r in eval_sets(profile=profile, as_rows=True)[name]]
    from datasets import load_dataset

    rows = [dict(r) for r in load_dataset(name, split="train")]
    return [{**r, "question": r.get("question") or r.get("problem"), "answer": str(r["answer"])} for r in rows]


def pool_dataset(ref: str, profile: str):
    if ref == "world:pool":
        from longthink.text_world.pool import build_pool

        return build_pool(profile=profile)
    from datasets import load_dataset

    return load_dataset(ref, split="train")


def pool_fingerprint(ref: str, profile: str) -> dict | str:
    """What the pool depends on, for the curate stage's hash: the world's pool settings (teacher rates, re-check
    surface), so a changed world pool re-curates; a hub pool is named by its id."""
    if ref == "world:pool":
        from longthink.text_world.settings import world_settings

        return world_settings(profile).stage("pool").as_dict()
    return ref


def _student_tokenizer(recipe, profile: str):
    from longthink.models import load_tokenizer, resolve_model

    return load_tokenizer(resolve_model(recipe.stage("sft").kit.model, profile))


# ------------------------------------------------------------------------------------------------- curate
def curate(recipe, profile: str, *, output_dir: str = "runs") -> dict:
    """Run the s1K funnel (or load the released s1K) and store every training set as JSONL."""
    from longthink.s1.curation import curate as run_funnel

    stage = recipe.stage("curate")
    kit = stage.kit
    use_threads(kit.threads)
    run = Run(profile, PAPER, output_dir)

    def build(tmp: Path) -> dict:
        if kit.released:
            from datasets import load_dataset

            rows = [dict(r) for r in load_dataset(kit.released, split="train")]
            tok = _student_tokenizer(recipe, profile)
            from longthink.s1.curation import trace_lengths

            for r, n in zip(rows, trace_lengths(tok, rows)):
                r["trace_length"] = n
            sets, funnel, stats = {"curated_1k": rows}, [("released", len(rows))], {}
        else:
            eval_qs = [r["question"] for name in kit.eval_sets for r in eval_rows(name, profile)]
            result = run_funnel(
                pool_dataset(kit.pool, profile), eval_questions=eval_qs, difficulty_models=kit.difficulty_models,
                tokenizer=_student_tokenizer(recipe, profile), n_select=kit.n_select, seed=kit.diversity_seed,
                profile=profile, ngram=kit.ngram, seed_sources=kit.seed_sources, seed_min_length=kit.seed_min_length,
                domain_key=kit.domain_key, max_new_tokens=kit.max_new_tokens, batch_size=kit.batch_size)
            sets, funnel, stats = result.sets, result.funnel, result.stats
        for name, rows in sets.items():
            (tmp / f"{name}.jsonl").write_text("".join(json.dumps(r, default=str) + "\n" for r in rows))
        return {"funnel": funnel, "stats": stats, "sets": {k: len(v) for k, v in sets.items()}}

    st = run.stage("curate", {"settings": stage.as_dict(), "seed": recipe.seed, "profile": profile,
                              "pool": pool_fingerprint(kit.pool, profile)})
    result = st.run(build)
    return {**result, "dir": str(st.dir), "hash": st.hash}


def read_set(curation: dict, name: str) -> list[dict]:
    path = Path(curation["dir"]) / f"{name}.jsonl"
    if not path.is_file():
        raise FileNotFoundError(f"training set {name!r} not found at {path}; curation made {sorted(curation['sets'])}")
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


# ---------------------------------------------------------------------------------------------------- sft
def train(recipe, profile: str, curation: dict, *, stage_name: str = "sft", train_set: str | None = None,
          folder: str | None = None, max_steps: int | None = None, output_dir: str = "runs") -> dict:
    """SFT of one stage on one training set; returns the stage result plus ``model_dir``."""
    from longthink.s1.sft import train_sft

    stage = recipe.stage(stage_name)
    use_threads(stage.kit.threads)
    train_set = train_set or stage.kit.train_set
    if max_steps is not None and max_steps > 0:
        stage = replace(stage, trainer={**stage.trainer, "max_steps": max_steps})
    run = Run(profile, PAPER, output_dir)
    st = run.stage(folder or stage_name, {"settings": stage.as_dict(), "train_set": train_set,
                                          "curation": curation["hash"], "seed": recipe.seed, "profile": profile})
    rows = read_set(curation, train_set)
    result = st.run(lambda tmp: train_sft(stage, rows, tmp, profile=profile, seed=recipe.seed))
    return {**result, "model_dir": str(st.dir / "model"), "hash": st.hash, "train_set": train_set}


def ablations(recipe, profile: str, curation: dict, *, output_dir: str = "runs") -> dict[str, dict]:
    """Table 2: the s1 SFT recipe on each ablation set (the full pool optionally with fewer steps)."""
    kit = recipe.stage("ablations").kit
    out = {}
    for name in kit.sets:
        steps = kit.full_pool_max_steps if name == "full_pool" else None
        out[name] = train(recipe, profile, curation, stage_name=kit.base_stage, train_set=name,
                          folder=f"sft_{name}", max_steps=steps, output_dir=output_dir)
    return out


# ----------------------------------------------------------------------------------------------- evaluate
def forcing_settings(kit, **changes):
    from longthink.s1.budget_forcing import ForcingSettings

    base = ForcingSettings(max_new_tokens=kit.max_new_tokens, max_answer_tokens=kit.max_answer_tokens,
                           temperature=kit.temperature, ignore_string=kit.ignore_string,
                           final_answer=kit.final_answer, think_prefix=kit.think_prefix)
    return replace(base, **changes)


def _backend(kit, model_dir: str):
    from longthink.models import load_causal_lm
    from longthink.s1.budget_forcing import make_backend

    use_threads(kit.threads)
    if kit.backend == "vllm":
        return make_backend("vllm", model_dir, None, batch_size=kit.batch_size)
    model, tok = load_causal_lm(model_dir)
    return make_backend(kit.backend, model, tok, batch_size=kit.batch_size)


def _questions(kit, profile: str) -> tuple[list[str], list[str]]:
    rows = eval_rows(kit.eval_set, profile)
    rows = rows[: kit.limit] if kit.limit else rows
    return [r["question"] for r in rows], [str(r["answer"]) for r in rows]


def evaluate(recipe, profile: str, model: dict, *, output_dir: str = "runs") -> dict:
    """Budget forcing on the s1 model: the maximum-budget sweep and the Wait x k sweep (greedy)."""
    from longthink.s1.baselines import run_point
    from longthink.s1.budget_forcing import chat_prompts

    stage = recipe.stage("evaluate")
    kit = stage.kit
    run = Run(profile, PAPER, output_dir)

    def build(tmp: Path) -> dict:
        backend = _backend(kit, model["model_dir"])
        questions, golds = _questions(kit, profile)
        prompts = chat_prompts(backend.tokenizer, questions)
        runs, samples, every = [], {}, {"questions": questions, "golds": golds, "outputs": {}}
        for b in [*kit.budgets, *([None] if kit.include_auto else [])]:
            outs = backend.generate(prompts, forcing_settings(kit, max_thinking_tokens=b), seed=recipe.seed)
            point, correct = run_point("Budget forcing", "auto" if b is None else f"max={b}", outs, golds,
                                       a_max=b)
            runs.append({**point.__dict__, "budget": b, "waits": 0})
            samples[point.setting] = _samples(questions, golds, outs, correct)
            every["outputs"][point.setting] = {"texts": [o.text for o in outs], "correct": correct}
            auto_outs = outs
        for k in kit.waits:
            if k == 0 and kit.include_auto:  # the same decoding as the "auto" budget run: reuse it
                outs = auto_outs
            else:
                outs = backend.generate(prompts, forcing_settings(kit, num_ignore=k), seed=recipe.seed)
            point, correct = run_point("Wait x k", f"k={k}", outs, golds)
            runs.append({**point.__dict__, "budget": None, "waits": k,
                         "avg_waits": sum(o.waits for o in outs) / len(outs)})
            samples[point.setting] = _samples(questions, golds, outs, correct)
            every["outputs"][point.setting] = {"texts": [o.text for o in outs], "correct": correct}
        (tmp / "samples.json").write_text(json.dumps(samples, indent=1))
        (tmp / OUTPUTS_FILE).write_text(json.dumps(every))
        return {"runs": runs}

    # "outputs": 2 = every completion is stored (OUTPUTS_FILE), for the diagnosis of wrong answers
    st = run.stage("evaluate", {"settings": stage.as_dict(), "model": model["hash"], "seed": recipe.seed,
                                "outputs": 2})
    return {**st.run(build), "dir": str(st.dir), "model": model["hash"]}


def evaluate_ablations(recipe, profile: str, models: dict[str, dict], *, evaluation: dict | None = None,
                       output_dir: str = "runs") -> dict:
    """Accuracy of every ablation model with the auto budget (greedy, no forcing), as in Table 2.

    A model already evaluated by ``evaluate`` (the s1 model) reuses that auto-budget run instead of decoding again.
    """
    from longthink.s1.baselines import run_point
    from longthink.s1.budget_forcing import chat_prompts

    kit = recipe.stage("evaluate").kit
    run = Run(profile, PAPER, output_dir)

    def build(tmp: Path) -> dict:
        questions, golds = _questions(kit, profile)
        out = {}
        for name, model in models.items():
            done = [r for r in (evaluation or {}).get("runs", []) if r["method"] == "Budget forcing"
                    and r["budget"] is None and evaluation.get("model") == model["hash"]]
            if done:
                out[name] = {"accuracy": done[0]["accuracy"], "avg_thinking_tokens": done[0]["avg_thinking_tokens"]}
                continue
            backend = _backend(kit, model["model_dir"])
            outs = backend.generate(chat_prompts(backend.tokenizer, questions), forcing_settings(kit),
                                    seed=recipe.seed)
            point, _ = run_point(name, "auto", outs, golds)
            out[name] = {"accuracy": point.accuracy, "avg_thinking_tokens": point.avg_thinking_tokens}
        return {"ablations": out}

    st = run.stage("evaluate_ablations", {"settings": recipe.stage("evaluate").as_dict(),
                                          "models": {k: v["hash"] for k, v in models.items()}, "seed": recipe.seed})
    return st.run(build)["ablations"]


def baselines(recipe, profile: str, s1_model: dict, tcc_model: dict, *, output_dir: str = "runs") -> dict:
    """TCC, TCC + BF, CCC and RS on the hard set, and majority voting with the base instruct model."""
    from longthink.models import load_causal_lm
    from longthink.s1 import baselines as bl

    stage, ev = recipe.stage("baselines"), recipe.stage("evaluate").kit
    kit = stage.kit
    run = Run(profile, PAPER, output_dir)

    def build(tmp: Path) -> dict:
        questions, golds = _questions(ev, profile)
        base = forcing_settings(ev)
        tcc = _backend(ev, tcc_model["model_dir"])
        runs = bl.token_conditional(tcc, questions, golds, budgets=kit.tcc_budgets, base=base, with_bf=False,
                                    seed=recipe.seed)
        runs += bl.token_conditional(tcc, questions, golds, budgets=kit.tcc_budgets, base=base, with_bf=True,
                                     seed=recipe.seed)
        s1 = _backend(ev, s1_model["model_dir"])
        if kit.ccc_prompts:
            runs += bl.class_conditional(s1, questions, golds, prompts=kit.ccc_prompts, base=base, seed=recipe.seed)
        rs_runs, accepted = bl.rejection_sampling(s1, questions, golds, budgets=kit.rs_budgets,
                                                  tries=kit.rs_max_tries, temperature=kit.rs_temperature,
                                                  base=base, seed=recipe.seed)
        runs += rs_runs
        model, tok = load_causal_lm(kit.mv_model, profile=profile)
        runs += bl.majority_voting(model, tok, questions, golds, ks=kit.mv_ks, temperature=kit.mv_temperature,
                                   max_new_tokens=kit.mv_max_new_tokens, batch_size=ev.batch_size, seed=recipe.seed)
        return {"runs": [r.__dict__ for r in runs], "rs_acceptance": {str(k): v for k, v in accepted.items()}}

    st = run.stage("baselines", {"settings": stage.as_dict(), "eval": recipe.stage("evaluate").as_dict(),
                                 "s1": s1_model["hash"], "tcc": tcc_model["hash"], "seed": recipe.seed})
    return st.run(build)


def bench(recipe, profile: str, model: dict, *, output_dir: str = "runs") -> dict:
    """bf_overhead_ratio on the s1 model (timings are never cached: they describe this machine, now)."""
    from longthink.models import load_causal_lm
    from longthink.s1.overhead import measure_overhead

    kit, ev = recipe.stage("bench").kit, recipe.stage("evaluate").kit
    use_threads(ev.threads)
    model_, tok = load_causal_lm(model["model_dir"])
    questions, _ = _questions(ev, profile)
    questions = (questions * (1 + kit.n_prompts // max(1, len(questions))))[: kit.n_prompts]
    settings = forcing_settings(ev, max_thinking_tokens=kit.max_thinking_tokens, num_ignore=kit.num_ignore)
    return measure_overhead(model_, tok, questions, settings, repeats=kit.repeats)


# ---------------------------------------------------------------------------------------------- diagnose
def stored_outputs(evaluation: dict) -> dict:
    """Every completion of the evaluate stage: ``{"questions", "golds", "outputs": {setting: {texts, correct}}}``."""
    path = Path(evaluation["dir"]) / OUTPUTS_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: this evaluate stage predates stored outputs; run it again")
    return json.loads(path.read_text())


def diagnose(evaluation: dict, *, settings: tuple[str, ...] | None = None) -> dict:
    """Why the s1 model's answers are wrong, per Wait x k setting (``longthink.text_world.diagnosis``).

    Returns ``table`` (one row per setting: accuracy, wrong answers, each error kind), ``read`` (read accuracy per
    chain position, the outputs of every setting pooled, so that the positions a forced Wait reaches count too)
    and ``metrics``: ``wrong_<kind>_share`` among the wrong answers of Wait x 0 (the model's own thinking) and
    ``input_read_acc_min`` (the pooled read accuracy at the worst position). World questions only: a hub
    evaluation set has no chains to read.
    """
    from longthink.text_world import diagnosis as dg

    stored = stored_outputs(evaluation)
    outputs, questions = stored["outputs"], stored["questions"]
    names = settings or tuple(k for k in outputs if k.startswith("k="))
    runs = {f"Wait x {name[2:]}" if name.startswith("k=") else name:
            (questions, outputs[name]["texts"], outputs[name]["correct"]) for name in names}
    base = outputs["k=0"] if "k=0" in outputs else outputs["auto"]
    pooled_q = [q for name in names for q in questions]
    pooled_t = [t for name in names for t in outputs[name]["texts"]]
    counts = dg.error_counts(questions, base["texts"], base["correct"])
    metrics = {f"wrong_{kind}_share": counts[f"{kind}_share"] for kind in dg.KINDS}
    worst = dg.input_read_acc_min(dg.read_accuracy(pooled_q, pooled_t))
    if worst is not None:
        metrics["input_read_acc_min"] = worst
    return {"table": dg.error_table(runs), "read": dg.read_table(pooled_q, pooled_t), "metrics": metrics}


# ---------------------------------------------------------------------------------------------- summarize
def all_runs(evaluation: dict, baseline: dict) -> list:
    from longthink.s1.metrics import RunPoint

    fields = set(RunPoint.__dataclass_fields__)
    return [RunPoint(**{k: v for k, v in r.items() if k in fields}) for r in evaluation["runs"] + baseline["runs"]]


def summarize(evaluation: dict, ablation_acc: dict, baseline: dict, overhead: dict,
              diagnosis: dict | None = None) -> dict:
    """The flat metrics of runs/<profile>/s1/metrics.json (accuracies as fractions on the hard set), with the
    diagnosis's ``wrong_<kind>_share`` and ``input_read_acc_min`` when given."""
    from longthink.s1.metrics import control, method_table, performance, scaling

    runs = all_runs(evaluation, baseline)
    bf = [r for r in runs if r.method == "Budget forcing"]
    budget_runs = [r for r in evaluation["runs"] if r["method"] == "Budget forcing"]
    explicit = [r for r in budget_runs if r["budget"] is not None]
    smallest = min(explicit, key=lambda r: r["budget"]) if explicit else budget_runs[0]
    auto = [r for r in budget_runs if r["budget"] is None]
    largest = auto[0] if auto else max(explicit, key=lambda r: r["budget"])  # the sweep's largest budget
    metrics = {
        "control": control(bf), "scaling": scaling(bf), "performance": performance(bf),
        "acc_min_budget": smallest["accuracy"], "acc_max_budget": largest["accuracy"],
        "bf_overhead_ratio": overhead["ratio"],
    }
    for r in evaluation["runs"]:
        if r["method"] == "Wait x k":
            metrics[f"acc_wait_{r['waits']}"] = r["accuracy"]
    for name, v in ablation_acc.items():
        metrics[f"acc_{name}"] = v["accuracy"]
    # the bars as single numbers, so expected/<profile>/s1.json can assert them
    metrics["bf_gain"] = metrics["acc_max_budget"] - metrics["acc_min_budget"]
    for k in (1, 2):
        if f"acc_wait_{k}" in metrics and "acc_wait_0" in metrics:
            metrics[f"wait_gain_{k}"] = metrics[f"acc_wait_{k}"] - metrics["acc_wait_0"]
    if "acc_curated_1k" in metrics and "acc_random_1k" in metrics:
        metrics["curation_gain"] = metrics["acc_curated_1k"] - metrics["acc_random_1k"]
    for row in method_table(runs):
        slug = row["method"].lower().replace(" + ", "_").replace(" ", "_").replace("(", "").replace(")", "")
        for key in ("control", "scaling", "performance"):
            if row[key] is not None and row["method"] != "Budget forcing":
                metrics[f"{slug}_{key}"] = row[key]
    metrics.update((diagnosis or {}).get("metrics", {}))
    return {k: float(v) for k, v in metrics.items() if v is not None}


def _samples(questions, golds, outs, correct, n: int = 4) -> list[dict]:
    return [{"question": q, "gold": g, "text": o.text, "thinking_tokens": o.thinking_tokens, "correct": c}
            for q, g, o, c in list(zip(questions, golds, outs, correct))[:n]]


def settings_hash(recipe) -> str:
    return config_hash(recipe.as_dict())


# ------------------------------------------------------------------------------------------------- tables
def funnel_frame(curation: dict):
    """The curation funnel: rows left after each step."""
    import pandas as pd

    return pd.DataFrame(curation["funnel"], columns=["step", "rows"])


def sets_frame(curation: dict):
    """One row per training set: size, mean trace length, domains, teacher accuracy, difficulty mix."""
    import pandas as pd

    rows = []
    for name in curation["sets"]:
        s = dict(curation["stats"].get(f"{name}_stats", {}))
        s["difficulty_mix"] = str(s.get("difficulty_mix", ""))
        rows.append({"set": name, **s})
    return pd.DataFrame(rows)


def runs_frame(runs: list[dict]):
    import pandas as pd

    cols = ["method", "setting", "avg_thinking_tokens", "accuracy", "a_max"]
    return pd.DataFrame([{c: r.get(c) for c in cols} for r in runs]).round(3)


def method_frame(evaluation: dict, baseline: dict):
    """Table 3 of the kit: Control, Scaling (points per doubling), Performance for every method."""
    import pandas as pd

    from longthink.s1.metrics import method_table

    return pd.DataFrame(method_table(all_runs(evaluation, baseline))).round(3)


def paper_comparison(metrics: dict, *, path: str | Path | None = None):
    """The kit's tiny-world metrics beside the paper's published numbers (expected/paper/s1.json)."""
    import pandas as pd

    from longthink.notebooks import repo_root

    path = Path(path) if path else repo_root() / "expected" / "paper" / "s1.json"
    paper = json.loads(path.read_text())["metrics"]
    rows = []
    for key, ref in paper.items():
        short = key.split("/", 1)[1]
        rows.append({"metric": short, "tiny world": metrics.get(short), "paper": ref["value"],
                     "paper source": ref["source"]})
    return pd.DataFrame(rows)


def sample_trace(evaluation: dict, setting: str = "k=2", index: int = 0) -> str:
    """One stored completion of the evaluation (question, gold, forced text) for reading."""
    samples = json.loads((Path(evaluation["dir"]) / "samples.json").read_text())
    if setting not in samples:
        raise KeyError(f"no samples for setting {setting!r}; stored: {sorted(samples)}")
    s = samples[setting][index]
    return f"Q: {s['question']}   (gold {s['gold']}, correct={s['correct']}, {s['thinking_tokens']} thinking tokens)\n" \
           f"{s['text']}"
