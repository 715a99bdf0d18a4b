"""The s1 pipeline, one function per notebook stage; each is a stage of ``runs/<profile>/s1/`` (``longthink.stages``).

curate -> sft (the s1 model) -> ablations (Table 2) -> sft_tcc (the token-conditional baseline model) ->
evaluate (budget forcing sweeps, Wait x k) -> baselines (TCC, TCC + BF, CCC, RS, majority voting) -> bench ->
summarize (the metrics of ``runs/<profile>/s1/metrics.json``). Each stage declares what it reads (the curation, a
model, the world's pool, models and evaluation sets through the resolver), and its key holds its settings and the
keys of exactly those inputs: changing curation retrains and re-evaluates everything downstream and nothing else.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from longthink.runs import PaperRun, open_paper
from longthink.stages import Artefact
from longthink.training import torch_threads

PAPER = "s1"
OUTPUTS_FILE = "outputs.json"  # every completion of the evaluate stage, per setting


# ------------------------------------------------------------------------------------------------- inputs
def setup(profile: str = "tiny", *, seed: int = 0, output_dir: str = "runs", overrides: dict | None = None,
          recipe: str | Path | None = None) -> PaperRun:
    """Open an s1 run: ``recipes/s1.yaml`` under ``profile``, the seed set, ``runs/<profile>/s1/`` ready."""
    return open_paper(PAPER, profile, seed=seed, output_dir=output_dir, overrides=overrides, recipe=recipe)


def eval_rows(ctx: PaperRun, ref: str) -> list[dict]:
    """An evaluation set as rows with ``question`` and ``answer``: a world set (``world:hard``) or, at paper scale, a
    hub data set (``problem``/``question`` and ``answer`` columns)."""
    rows = ctx.resolve(ref, kind="dataset").rows()
    return [{**r, "question": r.get("question") or r.get("problem"), "answer": str(r["answer"])} for r in rows]


def model_dir(model: Artefact) -> str:
    """The saved model inside a training stage's folder."""
    return str(model.path("model"))


# ------------------------------------------------------------------------------------------------- curate
def curate(ctx: PaperRun) -> Artefact:
    """Run the s1K funnel (or load the released s1K) and store every training set as JSONL."""
    from longthink.models import load_tokenizer
    from longthink.s1.curation import curate as run_funnel
    from longthink.s1.curation import trace_lengths

    kit = ctx.settings("curate").kit
    student = ctx.resolve(ctx.settings("sft").kit.model)
    inputs = {"student": student.artefact()}
    if kit.released:
        inputs["released"] = ctx.resolve(kit.released, kind="dataset").artefact()
    else:
        inputs["pool"] = ctx.resolve(kit.pool, kind="dataset").artefact()
        for i, ref in enumerate(kit.eval_sets):
            inputs[f"eval_{i}"] = ctx.resolve(ref, kind="dataset").artefact()
        for i, ref in enumerate(kit.difficulty_models):
            inputs[f"difficulty_{i}"] = ctx.resolve(ref).artefact()

    def build(tmp: Path) -> dict:
        with torch_threads(kit.threads):
            tok = load_tokenizer(student.path)
            if kit.released:
                rows = ctx.resolve(kit.released, kind="dataset").rows()
                for r, n in zip(rows, trace_lengths(tok, rows)):
                    r["trace_length"] = n
                sets, funnel, stats = {"curated_1k": rows}, [("released", len(rows))], {}
            else:
                eval_qs = [r["question"] for ref in kit.eval_sets for r in eval_rows(ctx, ref)]
                result = run_funnel(
                    ctx.resolve(kit.pool, kind="dataset").rows(), eval_questions=eval_qs,
                    difficulty_models=kit.difficulty_models, tokenizer=tok, n_select=kit.n_select,
                    seed=kit.diversity_seed, profile=ctx.profile, ngram=kit.ngram, seed_sources=kit.seed_sources,
                    seed_min_length=kit.seed_min_length, domain_key=kit.domain_key,
                    max_new_tokens=kit.max_new_tokens, batch_size=kit.batch_size, world_seed=ctx.seed)
                sets, funnel, stats = result.sets, result.funnel, result.stats
        for name, rows in sets.items():
            (tmp / f"{name}.jsonl").write_text("".join(json.dumps(r, default=str) + "\n" for r in rows))
        return {"funnel": funnel, "stats": stats, "sets": {k: len(v) for k, v in sets.items()}}

    return ctx.stage("curate", build, inputs=inputs)


def read_set(curation: Artefact, name: str) -> list[dict]:
    path = curation.path(f"{name}.jsonl")
    if not path.is_file():
        raise FileNotFoundError(f"training set {name!r} not found at {path}; curation made {sorted(curation['sets'])}")
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


# ---------------------------------------------------------------------------------------------------- sft
def train(ctx: PaperRun, curation: Artefact, *, stage_name: str = "sft", train_set: str | None = None,
          folder: str | None = None, max_steps: int | None = None) -> Artefact:
    """SFT of one stage on one training set (a stage folder holding ``model/``; see :func:`model_dir`)."""
    from longthink.s1.sft import train_sft

    stage = ctx.settings(stage_name)
    train_set = train_set or stage.kit.train_set
    if max_steps is not None and max_steps > 0:
        stage = replace(stage, trainer={**stage.trainer, "max_steps": max_steps})
    base = ctx.resolve(stage.kit.model)

    def build(tmp: Path) -> dict:
        rows = read_set(curation, train_set)
        with torch_threads(stage.kit.threads):
            result = train_sft(stage, rows, tmp, profile=ctx.profile, seed=ctx.seed)
        return {**result, "train_set": train_set}

    return ctx.stage(stage_name, build, settings={**stage.as_dict(), "train_set": train_set},
                     inputs={"curation": curation, "model": base.artefact()}, folder=folder)


def ablations(ctx: PaperRun, curation: Artefact) -> dict[str, Artefact]:
    """Table 2: the s1 SFT recipe on each ablation set (the full pool optionally with fewer steps)."""
    kit = ctx.settings("ablations").kit
    out = {}
    for name in kit.sets:
        steps = kit.full_pool_max_steps if name == "full_pool" else None
        out[name] = train(ctx, curation, stage_name=kit.base_stage, train_set=name, folder=f"sft_{name}",
                          max_steps=steps)
    return out


# ----------------------------------------------------------------------------------------------- evaluate
def forcing_settings(kit, **changes):
    from longthink.s1.budget_forcing import ForcingSettings

    base = ForcingSettings(max_new_tokens=kit.max_new_tokens, max_answer_tokens=kit.max_answer_tokens,
                           temperature=kit.temperature, ignore_string=kit.ignore_string,
                           final_answer=kit.final_answer, think_prefix=kit.think_prefix)
    return replace(base, **changes)


def _backend(kit, path: str):
    from longthink.models import load_causal_lm
    from longthink.s1.backends import make_backend

    if kit.backend == "vllm":
        return make_backend("vllm", path, None, batch_size=kit.batch_size)
    model, tok = load_causal_lm(path)
    return make_backend(kit.backend, model, tok, batch_size=kit.batch_size)


def _questions(ctx: PaperRun, kit) -> tuple[list[str], list[str]]:
    rows = eval_rows(ctx, kit.eval_set)
    rows = rows[: kit.limit] if kit.limit else rows
    return [r["question"] for r in rows], [str(r["answer"]) for r in rows]


def _eval_input(ctx: PaperRun) -> Artefact:
    return ctx.resolve(ctx.settings("evaluate").kit.eval_set, kind="dataset").artefact()


def evaluate(ctx: PaperRun, model: Artefact) -> Artefact:
    """Budget forcing on the s1 model: the maximum-budget sweep and the Wait x k sweep (greedy)."""
    from longthink.s1.baselines import run_point
    from longthink.s1.budget_forcing import chat_prompts

    kit = ctx.settings("evaluate").kit

    def build(tmp: Path) -> dict:
        with torch_threads(kit.threads):
            backend = _backend(kit, model_dir(model))
            questions, golds = _questions(ctx, kit)
            prompts = chat_prompts(backend.tokenizer, questions)
            runs, samples, every = [], {}, {"questions": questions, "golds": golds, "outputs": {}}
            for b in [*kit.budgets, *([None] if kit.include_auto else [])]:
                outs = backend.generate(prompts, forcing_settings(kit, max_thinking_tokens=b), seed=ctx.seed)
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
                    outs = backend.generate(prompts, forcing_settings(kit, num_ignore=k), seed=ctx.seed)
                point, correct = run_point("Wait x k", f"k={k}", outs, golds)
                runs.append({**point.__dict__, "budget": None, "waits": k,
                             "avg_waits": sum(o.waits for o in outs) / len(outs)})
                samples[point.setting] = _samples(questions, golds, outs, correct)
                every["outputs"][point.setting] = {"texts": [o.text for o in outs], "correct": correct}
        (tmp / "samples.json").write_text(json.dumps(samples, indent=1))
        (tmp / OUTPUTS_FILE).write_text(json.dumps(every))  # every completion, for the diagnosis of wrong answers
        return {"runs": runs, "model": model.key}

    return ctx.stage("evaluate", build, inputs={"model": model, "eval_set": _eval_input(ctx)})


def evaluate_ablations(ctx: PaperRun, models: dict[str, Artefact], *,
                       evaluation: Artefact | None = None) -> dict:
    """Accuracy of every ablation model with the auto budget (greedy, no forcing), as in Table 2.

    A model already evaluated by ``evaluate`` (the s1 model) reuses that auto-budget run instead of decoding again.
    """
    from longthink.s1.baselines import run_point
    from longthink.s1.budget_forcing import chat_prompts

    kit = ctx.settings("evaluate").kit

    def build(tmp: Path) -> dict:
        questions, golds = _questions(ctx, kit)
        out = {}
        with torch_threads(kit.threads):
            for name, model in models.items():
                done = [r for r in (evaluation["runs"] if evaluation else []) if r["method"] == "Budget forcing"
                        and r["budget"] is None and evaluation["model"] == model.key]
                if done:
                    out[name] = {"accuracy": done[0]["accuracy"],
                                 "avg_thinking_tokens": done[0]["avg_thinking_tokens"]}
                    continue
                backend = _backend(kit, model_dir(model))
                outs = backend.generate(chat_prompts(backend.tokenizer, questions), forcing_settings(kit),
                                        seed=ctx.seed)
                point, _ = run_point(name, "auto", outs, golds)
                out[name] = {"accuracy": point.accuracy, "avg_thinking_tokens": point.avg_thinking_tokens}
        return {"ablations": out}

    inputs = {f"model_{name}": m for name, m in models.items()}
    inputs["eval_set"] = _eval_input(ctx)
    if evaluation is not None:
        inputs["evaluation"] = evaluation
    return dict(ctx.stage("evaluate_ablations", build, inputs=inputs,
                          settings=ctx.settings("evaluate").as_dict())["ablations"])


def baselines(ctx: PaperRun, s1_model: Artefact, tcc_model: Artefact) -> Artefact:
    """TCC, TCC + BF, CCC and RS on the hard set, and majority voting with the base instruct model."""
    from longthink.models import load_causal_lm
    from longthink.s1 import baselines as bl

    kit, ev = ctx.settings("baselines").kit, ctx.settings("evaluate").kit
    mv = ctx.resolve(kit.mv_model)

    def build(tmp: Path) -> dict:
        with torch_threads(ev.threads):
            questions, golds = _questions(ctx, ev)
            base = forcing_settings(ev)
            tcc = _backend(ev, model_dir(tcc_model))
            runs = bl.token_conditional(tcc, questions, golds, budgets=kit.tcc_budgets, base=base, with_bf=False,
                                        seed=ctx.seed)
            runs += bl.token_conditional(tcc, questions, golds, budgets=kit.tcc_budgets, base=base, with_bf=True,
                                         seed=ctx.seed)
            s1 = _backend(ev, model_dir(s1_model))
            if kit.ccc_prompts:
                runs += bl.class_conditional(s1, questions, golds, prompts=kit.ccc_prompts, base=base, seed=ctx.seed)
            rs_runs, accepted = bl.rejection_sampling(s1, questions, golds, budgets=kit.rs_budgets,
                                                      tries=kit.rs_max_tries, temperature=kit.rs_temperature,
                                                      base=base, seed=ctx.seed)
            runs += rs_runs
            model, tok = load_causal_lm(mv.path)
            runs += bl.majority_voting(model, tok, questions, golds, ks=kit.mv_ks, temperature=kit.mv_temperature,
                                       max_new_tokens=kit.mv_max_new_tokens, batch_size=ev.batch_size,
                                       seed=ctx.seed)
        return {"runs": [r.__dict__ for r in runs], "rs_acceptance": {str(k): v for k, v in accepted.items()}}

    settings = {"baselines": ctx.settings("baselines").as_dict(), "evaluate": ctx.settings("evaluate").as_dict()}
    return ctx.stage("baselines", build, settings=settings,
                     inputs={"s1": s1_model, "tcc": tcc_model, "mv_model": mv.artefact(), "eval_set": _eval_input(ctx)})


def bench(ctx: PaperRun, model: Artefact) -> dict:
    """bf_overhead_ratio on the s1 model (timings are never cached: they describe this machine, now)."""
    from longthink.models import load_causal_lm
    from longthink.s1.overhead import measure_overhead

    kit, ev = ctx.settings("bench").kit, ctx.settings("evaluate").kit
    with torch_threads(ev.threads):
        model_, tok = load_causal_lm(model_dir(model))
        questions, _ = _questions(ctx, ev)
        questions = (questions * (1 + kit.n_prompts // max(1, len(questions))))[: kit.n_prompts]
        settings = forcing_settings(ev, max_thinking_tokens=kit.max_thinking_tokens, num_ignore=kit.num_ignore)
        return measure_overhead(model_, tok, questions, settings, repeats=kit.repeats)


# ---------------------------------------------------------------------------------------------- diagnose
def stored_outputs(evaluation: Artefact) -> dict:
    """Every completion of the evaluate stage: ``{"questions", "golds", "outputs": {setting: {texts, correct}}}``."""
    path = evaluation.path(OUTPUTS_FILE)
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: this evaluate stage predates stored outputs; run it again")
    return json.loads(path.read_text())


def diagnose(ctx: PaperRun, evaluation: Artefact, *, settings: tuple[str, ...] | None = None) -> dict:
    """Why the s1 model's answers are wrong, per Wait x k setting (``longthink.text_world.diagnosis``).

    Returns ``table`` (one row per setting: accuracy, wrong answers, each error kind), ``read`` (read accuracy per
    chain position, the outputs of every setting pooled, so that the positions a forced Wait reaches count too)
    and ``metrics``: ``wrong_<kind>_share`` among the wrong answers of Wait x 0 (the model's own thinking) and
    ``input_read_acc_min`` (the pooled read accuracy at the worst position). World questions only: a hub
    evaluation set has no chains to read.
    """
    dg = ctx.resolve("world:diagnosis", kind="tool").load()
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


# ------------------------------------------------------------------------------------------------- tables
def funnel_frame(curation: Artefact):
    """The curation funnel: rows left after each step."""
    import pandas as pd

    return pd.DataFrame(curation["funnel"], columns=["step", "rows"])


def sets_frame(curation: Artefact):
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


def method_frame(evaluation: Artefact, baseline: Artefact):
    """Table 3 of the kit: Control, Scaling (points per doubling), Performance for every method."""
    import pandas as pd

    from longthink.s1.metrics import method_table

    return pd.DataFrame(method_table(all_runs(evaluation, baseline))).round(3)


def paper_comparison(metrics: dict, *, path: str | Path | None = None):
    """The kit's tiny-world metrics beside the paper's published numbers (expected/paper/s1.json)."""
    import pandas as pd

    from longthink.config import repo_root

    path = Path(path) if path else repo_root() / "expected" / "paper" / "s1.json"
    paper = json.loads(path.read_text())["metrics"]
    rows = []
    for key, ref in paper.items():
        short = key.split("/", 1)[1]
        rows.append({"metric": short, "tiny world": metrics.get(short), "paper": ref["value"],
                     "paper source": ref["source"]})
    return pd.DataFrame(rows)


def wait_findings(evaluation: Artefact) -> str:
    """What Wait x k did in this run, as a markdown line built from the stored runs (never typed by hand)."""
    waits = sorted((r["waits"], r["accuracy"], r["avg_thinking_tokens"]) for r in evaluation["runs"]
                   if r["method"] == "Wait x k")
    if len(waits) < 2:
        return "Only one Wait setting was run: no extrapolation curve to read."
    (k0, a0, t0), (kn, an, tn) = waits[0], waits[-1]
    steps = " / ".join(f"{a:.3f}" for _, a, _ in waits)
    change = an - a0
    verdict = ("rises" if change >= 0.03 else "falls" if change <= -0.03 else "stays flat (within 0.03)")
    return (f"**This run:** accuracy with Wait × {' / '.join(str(k) for k, _, _ in waits)}: {steps}; from Wait × {k0} "
            f"to × {kn} it {verdict} ({change:+.3f}), while thinking grows from {t0:.1f} to {tn:.1f} tokens. "
            "The paper's direction is a rise that flattens after a few Waits.")


def sample_trace(evaluation: Artefact, setting: str = "k=2", index: int = 0) -> str:
    """One stored completion of the evaluation (question, gold, forced text) for reading."""
    samples = json.loads(evaluation.path("samples.json").read_text())
    if setting not in samples:
        raise KeyError(f"no samples for setting {setting!r}; stored: {sorted(samples)}")
    s = samples[setting][index]
    return f"Q: {s['question']}   (gold {s['gold']}, correct={s['correct']}, {s['thinking_tokens']} thinking tokens)\n" \
           f"{s['text']}"
