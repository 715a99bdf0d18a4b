"""TACO end to end, one function per notebook stage; each is a stage of ``runs/<profile>/taco/`` (``longthink.stages``).

data -> eval_base (the base VLM) -> arm_<name> (GRPO training, one per ablation arm) -> eval_<name> (each arm in and
out of distribution; the base and TACO models also at shifted resolutions, TACO with TTRS and TTME) -> metrics.
Every stage declares what it reads (the data, the base model, an arm's model) and its key holds its settings and
the keys of exactly those inputs: changing an RRS knob retrains and re-evaluates the arms that use RRS, nothing else.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from longthink.runs import PaperRun, open_paper
from longthink.taco.arms import ARMS, TTRS_LABEL
from longthink.taco.frames import PixelBounds
from longthink.training import torch_threads

PAPER = "taco"
REPORTED_ARMS = ("grpo", "taco")  # the models evaluated at shifted resolutions too (beside the base)


def setup(profile: str = "tiny", *, seed: int = 0, output_dir: str = "runs", overrides: dict | None = None,
          recipe: str | Path | None = None) -> PaperRun:
    """Open a TACO run: ``recipes/taco.yaml`` under ``profile``, the seed set, ``runs/<profile>/taco/`` ready."""
    return open_paper(PAPER, profile, seed=seed, output_dir=output_dir, overrides=overrides, recipe=recipe)


def training_bounds(ctx: PaperRun) -> PixelBounds:
    kit = ctx.settings("models").kit
    return PixelBounds(kit.min_pixels, kit.max_pixels)


def _threads(ctx: PaperRun):
    return torch_threads(ctx.settings("models").kit.threads)


def shifted_name(split: str, factor: float) -> str:
    return f"{split}_x{factor:g}"


# ----------------------------------------------------------------------------------------------------- data
def prepare_data(ctx: PaperRun) -> dict[str, Any]:
    """Train, dev, eval and OOD rows, and the dev and eval rows at each shifted resolution (stage ``data``)."""
    from longthink.taco.data import jsonl_rows, row_summary, shifted, trl_dataset, world_rows

    kit = ctx.settings("data").kit
    inputs, scenes = {}, None
    if kit.source == "world":
        tool = ctx.resolve(kit.scenes, kind="tool")
        inputs["scenes"] = tool.artefact()
        scenes = tool.load()

    def world_split(split: str, n: int, n_vqa: int | None = None, objects=None) -> list[dict]:
        return world_rows(scenes, split=split, seed=ctx.seed, n_rec=n, n_vqa=n if n_vqa is None else n_vqa,
                          rec_kinds=kit.rec_kinds, vqa_kinds=kit.vqa_kinds, objects=objects or kit.train_objects,
                          resolution=kit.resolution, prompt_template=kit.prompt_template, grid=kit.grid)

    def files(names: list[str], task: str, limit: int = 0) -> list[dict]:
        rows: list[dict] = []
        for name in names:
            rows += jsonl_rows(Path(kit.image_root).parent / name if not Path(name).is_absolute() else name,
                               task=task, image_root=kit.image_root, prompt_template=kit.prompt_template,
                               limit=limit, start_index=len(rows))
        return rows

    def build(tmp: Path) -> dict:
        if kit.source == "world":
            splits = {"train": world_split("train", kit.n_train_rec, kit.n_train_vqa),
                      "dev": world_split("dev", kit.n_dev), "eval": world_split("eval", kit.n_eval),
                      "ood": world_split("ood", kit.n_eval, objects=kit.ood_objects)}
        else:
            rec, vqa = files(kit.rec_train, "rec"), files(kit.vqa_train, "vqa")
            train = [dict(r, index=i) for i, r in enumerate(rec + vqa)]
            held = files(kit.rec_eval, "rec", kit.n_eval + kit.n_dev) + files(kit.vqa_eval, "vqa", kit.n_eval + kit.n_dev)
            splits = {"train": train, "dev": held[: kit.n_dev], "eval": held[kit.n_dev:],
                      "ood": files(kit.rec_ood, "rec", kit.n_eval)}
        for factor in kit.shift_factors:
            for split in ("dev", "eval"):
                splits[shifted_name(split, factor)] = [shifted(r, factor, scenes=scenes) for r in splits[split]]
        from datasets.utils.logging import disable_progress_bar, enable_progress_bar

        disable_progress_bar()  # one bar per split would fill the notebook
        try:
            for name, rows in splits.items():
                if rows:
                    trl_dataset(rows).save_to_disk(str(tmp / name))
        finally:
            enable_progress_bar()
        return {"splits": {name: row_summary(rows) for name, rows in splits.items() if rows}}

    stage = ctx.stage("data", build, inputs=inputs)
    return {"stage": stage, "dir": stage.dir, "summary": stage["splits"]}


def load_split(data: dict, name: str) -> list[dict]:
    """A split's rows (images decoded); an unknown split names the ones there are."""
    from datasets import load_from_disk

    folder = Path(data["dir"]) / name
    if not folder.is_dir():
        raise FileNotFoundError(f"no split {name!r} in {data['dir']}; splits: {sorted(data['summary'])}")
    return [dict(r) for r in load_from_disk(str(folder))]


def example_rows(data: dict, *, n: int = 2) -> list[dict]:
    """A few training rows per task, for the notebook's first table."""
    rows = load_split(data, "train")
    out = [r for r in rows if r["task"] == "rec"][:n] + [r for r in rows if r["task"] == "vqa"][:n]
    return [{k: r[k] for k in ("task", "kind", "question", "answer", "image_size", "objects")} for r in out]


# ------------------------------------------------------------------------------------------------- models
def policy(ctx: PaperRun):
    """The base VLM (``models.policy``) through the resolver: a world model or a hub id."""
    return ctx.resolve(ctx.settings("models").kit.policy)


def load_model(path: str, bounds: PixelBounds):
    """``(model, processor)`` for evaluation: float32 on a CPU, the recipe's dtype on a GPU; training bounds."""
    import torch

    from longthink.models import load_vlm
    from longthink.taco.frames import set_pixel_bounds

    device = "cuda" if torch.cuda.is_available() else None
    dtype = torch.bfloat16 if device else torch.float32
    model, processor = load_vlm(path, dtype=dtype, device=device)
    processor.tokenizer.padding_side = "left"
    return model, set_pixel_bounds(processor, bounds)


# ---------------------------------------------------------------------------------------------------- train
def _arm_stage(ctx: PaperRun, data: dict, base_path: str, base_artefact, name: str, *, build: bool = True):
    """Stage ``arm_<name>``: GRPO from the base VLM with arm ``name``'s parts; ``build=False`` only says whether it
    is stored."""
    from datasets import load_from_disk

    from longthink.taco.train import train_arm

    def run(tmp: Path) -> dict:
        with _threads(ctx):
            return train_arm(policy=base_path, dataset=load_from_disk(str(Path(data["dir"]) / "train")),
                             stage=ctx.settings("grpo"), arm=ARMS[name], bounds=training_bounds(ctx), out_dir=tmp,
                             seed=ctx.seed, profile=ctx.profile)

    settings = {"grpo": ctx.settings("grpo").as_dict(), "models": ctx.settings("models").as_dict(), "arm": name}
    inputs = {"data": data["stage"], "policy": base_artefact}
    if not build:
        return ctx.built(f"arm_{name}", settings=settings, inputs=inputs)
    return ctx.stage(f"arm_{name}", run, settings=settings, inputs=inputs)


def _in_workers(ctx: PaperRun, jobs: dict[str, tuple], fn, *, what: str) -> None:
    """Run ``fn(*args)`` for each job, up to ``ablations.workers`` at once in worker processes (one worker: here)."""
    from longthink.processes import run_jobs

    run_jobs(jobs, fn, workers=ctx.settings("ablations").kit.workers, threads=ctx.settings("models").kit.threads,
             what=what)


def train_arms(ctx: PaperRun, data: dict, base) -> dict[str, dict[str, Any]]:
    """One GRPO run per ablation arm (stages ``arm_<name>``), each from the base VLM; arms not stored yet train
    ``ablations.workers`` at a time in worker processes."""
    names = ctx.settings("ablations").kit.arms
    base_artefact = base.artefact()
    missing = {name: (ctx, data, base.path, base_artefact, name) for name in names
               if not _arm_stage(ctx, data, base.path, base_artefact, name, build=False)}
    if len(missing) > 1:
        _in_workers(ctx, missing, _arm_stage, what="training arms")
    out = {}
    for name in names:
        stage = _arm_stage(ctx, data, base.path, base_artefact, name)
        out[name] = {"path": str(stage.path("model")), "stage": stage, "summary": dict(stage.result),
                     "history": json.loads(stage.path("log_history.json").read_text()),
                     "rollouts": str(stage.path("rollouts.jsonl"))}
    return out


def read_rollouts(arm: dict) -> list[dict]:
    return [json.loads(line) for line in Path(arm["rollouts"]).read_text().splitlines() if line.strip()]


def chain_length_tables(data: dict, arms: dict[str, dict], names=REPORTED_ARMS) -> dict[str, list[dict]]:
    """For each arm in ``names``: its sampled VQA chains by question kind and half of training, whole or elided
    (``showcase.chain_lengths_by_kind``)."""
    from longthink.taco.showcase import chain_lengths_by_kind

    kinds = {r["index"]: r["kind"] for r in load_split(data, "train")}
    return {name: chain_lengths_by_kind(read_rollouts(arms[name]), kinds) for name in names if name in arms}


# ----------------------------------------------------------------------------------------------------- eval
def reward_settings(ctx: PaperRun):
    """The rewards' settings of this run (pixel bounds, IoU convention, TAC mode, the VQA rule or judge)."""
    from longthink.taco.train import build_judge
    from longthink.taco.train import reward_settings as settings_of

    kit = ctx.settings("grpo").kit
    return settings_of(kit, bounds=training_bounds(ctx), judge=build_judge(kit, profile=ctx.profile))


def evaluate_model(ctx: PaperRun, data: dict, name: str, path: str, model_input, *, shifts: bool,
                   build: bool = True) -> dict[str, Any] | bool:
    """Greedy replies of one model on the eval and OOD splits (stage ``eval_<name>``); with ``shifts`` also on the
    eval split at each shifted resolution, as given (the processor's training bounds) and with TTRS (the scale chosen
    per task on the dev split at that shift) and TTME. ``build=False`` only says whether the stage is stored."""
    from longthink.taco.evaluate import by_kind, choose_scale_per_task, evaluate, evaluate_scales, summarize, ttme

    ev, dk = ctx.settings("eval").kit, ctx.settings("data").kit
    bounds = training_bounds(ctx)
    settings = reward_settings(ctx)
    gen = dict(max_new_tokens=ev.max_new_tokens, batch_size=ev.batch_size)

    def run(tmp: Path) -> dict:
        with _threads(ctx):
            model, processor = load_model(path, bounds)
            records = {split: evaluate(model, processor, load_split(data, split), settings, **gen)
                       for split in ("eval", "ood") if split in data["summary"]}
            chosen = {}
            if shifts:
                scale_kw = dict(base=bounds, train_pixels=ev.ttrs_train_pixels, bound=ev.ttrs_bound, **gen)
                for factor in dk.shift_factors:
                    dev = evaluate_scales(model, processor, load_split(data, shifted_name("dev", factor)), settings,
                                          scales=ev.ttrs_scales, **scale_kw)
                    chosen[f"{factor:g}"] = choose_scale_per_task(dev)
                    rows = load_split(data, shifted_name("eval", factor))
                    records[shifted_name("eval", factor)] = evaluate(model, processor, rows, settings, **gen)
                    by_scale = evaluate_scales(model, processor, rows, settings, scales=ev.ttrs_scales, **scale_kw)
                    records[f"ttrs_x{factor:g}"] = [by_scale[chosen[f"{factor:g}"].get(r["task"], 1.0)][i]
                                                    for i, r in enumerate(rows)]
                    k_scales = {s: by_scale[s] for s in list(ev.ttrs_scales)[: ev.ttme_k]}
                    records[f"ttme_x{factor:g}"] = ttme(k_scales)
                    for s, recs in by_scale.items():
                        records[f"scale{s:g}_x{factor:g}"] = recs
        for split, recs in records.items():
            (tmp / f"{split}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))
        return {"summary": {split: summarize(recs) for split, recs in records.items()},
                "by_kind": by_kind(records["eval"]), "ttrs_scales": chosen}

    settings_key = {name: ctx.settings(name).as_dict() for name in ("eval", "grpo", "models")}
    spec = dict(settings={**settings_key, "shifts": shifts}, inputs={"data": data["stage"], "model": model_input})
    if not build:
        return ctx.built(f"eval_{name}", **spec)
    stage = ctx.stage(f"eval_{name}", run, **spec)
    return {"summary": stage["summary"], "by_kind": stage["by_kind"], "ttrs_scales": stage["ttrs_scales"],
            "stage": stage}


def read_records(evaluation: dict, split: str) -> list[dict]:
    path = evaluation["stage"].path(f"{split}.jsonl")
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def evaluate_all(ctx: PaperRun, data: dict, base, arms: dict[str, dict]) -> dict[str, dict]:
    """The base model and every arm (shifted resolutions and TTRS for the base, GRPO and TACO models); evaluations
    not stored yet run ``ablations.workers`` at a time in worker processes."""
    models = {"base": (base.path, base.artefact()), **{n: (a["path"], a["stage"]) for n, a in arms.items()}}
    jobs = {n: (ctx, data, n, path, artefact) for n, (path, artefact) in models.items()}
    missing = {n: args for n, args in jobs.items()
               if not evaluate_model(*args, shifts=n == "base" or n in REPORTED_ARMS, build=False)}
    if len(missing) > 1:
        _in_workers(ctx, missing, _evaluate_in_worker, what="evaluating")
    return {n: evaluate_model(*args, shifts=n == "base" or n in REPORTED_ARMS) for n, args in jobs.items()}


def _evaluate_in_worker(ctx: PaperRun, data: dict, name: str, path: str, model_input) -> None:
    evaluate_model(ctx, data, name, path, model_input, shifts=name == "base" or name in REPORTED_ARMS)


# -------------------------------------------------------------------------------------------------- metrics
def _pooled_shift(summary: dict, prefix: str, factors) -> float | None:
    values = [summary[f"{prefix}_x{f:g}"]["acc"] for f in factors if f"{prefix}_x{f:g}" in summary]
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None


def metrics(ctx: PaperRun, evaluations: dict[str, dict], arms: dict[str, dict]) -> dict[str, float]:
    """The flat metrics of ``runs/<profile>/taco/metrics.json`` (keys of expected/<profile>/taco.json)."""
    factors = ctx.settings("data").kit.shift_factors
    out: dict[str, float] = {}
    for name, ev in evaluations.items():
        s = ev["summary"]
        for key in ("rec_acc50", "vqa_acc", "acc", "consistency", "format"):
            out[f"taco/abl_{name}_{key}"] = s["eval"][key]
            if "ood" in s:
                out[f"taco/abl_{name}_ood_{key}"] = s["ood"][key]
        if f"eval_x{factors[0]:g}" in s:
            out[f"taco/abl_{name}_acc_shifted"] = _pooled_shift(s, "eval", factors)
            out[f"taco/abl_{name}_acc_shifted_ttrs"] = _pooled_shift(s, "ttrs", factors)
            out[f"taco/abl_{name}_acc_shifted_ttme"] = _pooled_shift(s, "ttme", factors)
    for model in ("base", "grpo", "taco"):
        if model in evaluations:
            s = evaluations[model]["summary"]
            out[f"taco/rec_acc50_{model}"] = s["eval"]["rec_acc50"]
            out[f"taco/vqa_acc_{model}"] = s["eval"]["vqa_acc"]
            out[f"taco/consistency_{model}"] = s["eval"]["consistency"]
    if "taco" in evaluations:
        out["taco/acc_shifted_res"] = out.get("taco/abl_taco_acc_shifted")
        out["taco/acc_shifted_res_ttrs"] = out.get("taco/abl_taco_acc_shifted_ttrs")
        out["taco/acc_train_res"] = evaluations["taco"]["summary"]["eval"]["acc"]
    for name, arm in arms.items():
        summary = arm["summary"]
        out[f"taco/abl_{name}_zero_std_frac"] = summary.get("zero_std_frac_after_warmup")
        out[f"taco/abl_{name}_flagged_frac"] = summary.get("flagged_frac")
        out[f"taco/abl_{name}_train_seconds"] = summary.get("seconds")
    if "taco" in arms:
        out["taco/rrs_flagged_fraction"] = arms["taco"]["summary"].get("flagged_frac")
        out["taco/zero_std_frac_ads"] = arms["taco"]["summary"].get("zero_std_frac_after_warmup")
    uniform = "grpo_tac_rrs" if "grpo_tac_rrs" in arms else next((a for a in arms if not ARMS[a].ads), None)
    if uniform:
        out["taco/zero_std_frac_uniform"] = arms[uniform]["summary"].get("zero_std_frac_after_warmup")
    out.update(derived(out))
    return {k: float(v) for k, v in out.items() if v is not None}


def derived(m: dict[str, float | None]) -> dict[str, float]:
    """The differences the tiny bars are stated on (expected/tiny/taco.json bounds single keys)."""
    def diff(a: str, b: str) -> float | None:
        x, y = m.get(f"taco/{a}"), m.get(f"taco/{b}")
        return None if x is None or y is None else x - y

    out = {"taco/grpo_gain_rec": diff("rec_acc50_grpo", "rec_acc50_base"),
           "taco/grpo_gain_vqa": diff("vqa_acc_grpo", "vqa_acc_base"),
           "taco/taco_minus_grpo_rec": diff("rec_acc50_taco", "rec_acc50_grpo"),
           "taco/taco_minus_grpo_vqa": diff("vqa_acc_taco", "vqa_acc_grpo"),
           "taco/consistency_gain": diff("consistency_taco", "consistency_grpo"),
           "taco/ttrs_gain": diff("acc_shifted_res_ttrs", "acc_shifted_res"),
           "taco/ads_zero_std_drop": diff("zero_std_frac_uniform", "zero_std_frac_ads")}
    gains = [g for g in (out["taco/grpo_gain_rec"], out["taco/grpo_gain_vqa"]) if g is not None]
    out["taco/grpo_gain"] = max(gains) if gains else None
    return {k: v for k, v in out.items() if v is not None}


def ablation_table(evaluations: dict[str, dict], arms: dict[str, dict], factors) -> list[dict[str, Any]]:
    """Rows: the base VLM, GRPO, + consistency, + RRS, + ADS (TACO), + TTRS; columns: REC Acc@0.5, VQA accuracy,
    consistency, OOD accuracy, accuracy at the shifted resolutions, zero-std groups in training."""
    rows = []
    for name in ["base", *arms]:
        s = evaluations[name]["summary"]
        rows.append({"system": "base VLM" if name == "base" else ARMS[name].label,
                     "REC Acc@0.5": s["eval"]["rec_acc50"], "VQA acc": s["eval"]["vqa_acc"],
                     "consistency": s["eval"]["consistency"], "OOD acc": s.get("ood", {}).get("acc"),
                     "shifted-res acc": _pooled_shift(s, "eval", factors),
                     "zero-std groups": arms.get(name, {}).get("summary", {}).get("zero_std_frac_after_warmup")})
    if "taco" in evaluations:
        s = evaluations["taco"]["summary"]
        rows.append({"system": TTRS_LABEL, "REC Acc@0.5": s["eval"]["rec_acc50"], "VQA acc": s["eval"]["vqa_acc"],
                     "consistency": s["eval"]["consistency"], "OOD acc": s.get("ood", {}).get("acc"),
                     "shifted-res acc": _pooled_shift(s, "ttrs", factors), "zero-std groups": None})
    return rows


def record(ctx: PaperRun, values: dict[str, float]):
    """Commit the run's metrics (the notebook's last cell)."""
    return ctx.finish(values)
