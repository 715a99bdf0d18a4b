"""Insight-V end to end, one function per stage: the notebook calls these and shows a table or plot after each.

Stages (``recipes/insight_v.yaml``): questions -> generate -> assess -> reason_sft, summary_sft, single_sft ->
eval (base, single model, two agents) -> dpo_round_1..R (each evaluated) -> flawed (the summary agent on chains
with one mistake). Each writes into ``runs/<profile>/insight_v/<stage>/`` (``longthink.stages``) keyed on its
settings and the keys of exactly what it reads, so re-running an upstream cell whose settings did not change
rebuilds nothing downstream. World entries are reached through the resolver only.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from longthink.insight_v.steps import Path as ChainPath
from longthink.files import read_jsonl, write_jsonl
from longthink.runs import PaperRun, open_paper
from longthink.training import torch_threads

PAPER = "insight_v"
WORLD_TOOLS = {"scenes": "world-vision:scenes", "chains": "world-vision:chains"}


def setup(profile: str = "tiny", *, seed: int = 0, output_dir: str = "runs", overrides: dict | None = None,
          recipe: str | Path | None = None) -> PaperRun:
    """Open an Insight-V run: ``recipes/insight_v.yaml`` under ``profile``, the seed set, the run folder ready."""
    return open_paper(PAPER, profile, seed=seed, output_dir=output_dir, overrides=overrides, recipe=recipe)


def _threads(ctx: PaperRun):
    return torch_threads(ctx.settings("models").kit.threads)


def _dtype(ctx: PaperRun) -> str:
    import torch

    dtype = ctx.settings("models").kit.dtype
    return dtype if torch.cuda.is_available() else "float32"


def world_tools(ctx: PaperRun) -> dict[str, Any]:
    """The world's scenes and chain teacher (``{}`` unless the questions come from the world)."""
    if ctx.settings("questions").kit.source != "world":
        return {}
    return {name: ctx.resolve(ref, kind="tool") for name, ref in WORLD_TOOLS.items()}


def _tool_modules(tools: dict) -> dict[str, Any]:
    return {name: r.load() for name, r in tools.items()}


def _tool_inputs(tools: dict) -> dict:
    return {f"tool_{name}": r.artefact() for name, r in tools.items()}


# ------------------------------------------------------------------------------------------------ questions
def prepare_questions(ctx: PaperRun) -> dict:
    """The four disjoint splits (stage ``questions``): train, dpo, dev, eval."""
    from longthink.insight_v.questions import image_function, make_questions
    from longthink.resolver import hub_rows, resolve

    kit = ctx.settings("questions").kit
    tools = world_tools(ctx)
    modules = _tool_modules(tools)

    def rows_of(name: str, config: str | None, split: str) -> list[dict]:
        if Path(name).expanduser().exists():
            return resolve(name, kind="dataset").rows()
        return hub_rows(name, config=config, split=split)

    def build(tmp: Path) -> dict:
        splits = make_questions(kit, tools=modules, seed=ctx.seed, rows_of=rows_of, image_dir=tmp / "images")
        for split, rows in splits.items():
            write_jsonl(tmp / f"{split}.jsonl", rows)
        return {"counts": {split: len(rows) for split, rows in splits.items()},
                "kinds": {split: sorted({r["kind"] for r in rows}) for split, rows in splits.items()}}

    stage = ctx.stage("questions", build, inputs=_tool_inputs(tools))
    splits = {split: read_jsonl(stage.path(f"{split}.jsonl")) for split in stage["counts"]}
    image_fn = image_function(scenes=modules.get("scenes"), image_dir=stage.path("images"))
    by_id = {q["id"]: q for rows in splits.values() for q in rows}
    return {"splits": splits, "by_id": by_id, "image_fn": image_fn, "tools": tools, "modules": modules,
            "counts": dict(stage["counts"]), "stage": stage}


def question_table(questions: dict, *, n: int = 2):
    """A few questions of every kind in the evaluation split."""
    import pandas as pd

    rows = []
    for kind in dict.fromkeys(q["kind"] for q in questions["splits"]["eval"]):
        rows += [{"kind": kind, "question": q["question"], "answer": q["answer"]}
                 for q in questions["splits"]["eval"] if q["kind"] == kind][:n]
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------------------------- generation
def generate(ctx: PaperRun, questions: dict) -> dict:
    """Progressive generation on the train split (stage ``generate``): N paths per question, one step per call."""
    from longthink.insight_v.generators import make_generator
    from longthink.insight_v.progressive import Protocol, generate_paths

    kit = ctx.settings("generate").kit

    def build(tmp: Path) -> dict:
        with _threads(ctx):
            generator = make_generator(kit, tools=questions["modules"], seed=ctx.seed, dtype=_dtype(ctx))
            paths, stats = generate_paths(questions["splits"]["train"], generator, Protocol.from_settings(kit),
                                          n_paths=kit.n_paths, batch_size=kit.batch_size,
                                          image_fn=questions["image_fn"])
        write_jsonl(tmp / "paths.jsonl", [p.to_dict() for p in paths])
        return {"n_paths": stats.paths, "calls": stats.calls, "rounds": stats.rounds, "retries": stats.retries,
                "failed": stats.failed, "capped": stats.capped, "seconds": round(stats.seconds, 3),
                "chains_per_second": round(stats.chains_per_second, 2)}

    stage = ctx.stage("generate", build, inputs={"questions": questions["stage"], **_tool_inputs(questions["tools"])})
    paths = [ChainPath.from_dict(r) for r in read_jsonl(stage.path("paths.jsonl"))]
    return {"paths": paths, **stage.result, "stage": stage}


def path_example(generated: dict, questions: dict, *, index: int = 0) -> dict:
    """One generated path as the generator wrote it: its JSON steps and the final call's reply."""
    p = generated["paths"][index]
    q = questions["by_id"][p.question_id]
    return {"question": q["question"], "gold": q["answer"], "steps": [json.dumps(s) for s in p.steps],
            "final call": p.final_raw, "retries": p.retries}


# ----------------------------------------------------------------------------------------------- assessment
def _judge(ctx: PaperRun, questions: dict):
    from longthink.insight_v.judge import make_judge

    chains = questions["modules"].get("chains")
    return make_judge(ctx.settings("assess").kit, matcher=getattr(chains, "answers_match", None), seed=ctx.seed)


def _scorer(ctx: PaperRun, questions: dict, *, keep_answer_step: bool):
    from longthink.insight_v.scorer import make_scorer

    return make_scorer(ctx.settings("assess").kit, tools=questions["modules"], keep_answer_step=keep_answer_step,
                       image_fn=questions["image_fn"], seed=ctx.seed,
                       plan_step=ctx.settings("generate").kit.plan_step)  # the teacher's chain form


def assess(ctx: PaperRun, questions: dict, generated: dict) -> dict:
    """Answer filter, path scores and tiers, routing into the reasoning and summary sets (stage ``assess``)."""
    from longthink.insight_v.routing import assess as run_assess
    from longthink.insight_v.routing import filter_table, route, tier_counts

    kit = ctx.settings("assess").kit

    def build(tmp: Path) -> dict:
        paths = [ChainPath.from_dict(p.to_dict()) for p in generated["paths"]]
        with _threads(ctx):
            run_assess(paths, questions["by_id"], judge=_judge(ctx, questions),
                       scorer=_scorer(ctx, questions, keep_answer_step=True), high=kit.high_cutoff, mid=kit.mid_cutoff)
        routed = route(paths, reasoning_per_question=kit.reasoning_per_question,
                       summary_per_question=kit.summary_per_question, summary_wrong_share=kit.summary_wrong_share,
                       seed=ctx.seed)
        write_jsonl(tmp / "paths.jsonl", [p.to_dict() for p in paths])
        return {"filters": filter_table(paths, routed), "tiers": tier_counts(paths),
                "reasoning": len(routed["reasoning"]), "summary": len(routed["summary"])}

    stage = ctx.stage("assess", build, inputs={"generate": generated["stage"], "questions": questions["stage"],
                                               **_tool_inputs(questions["tools"])})
    paths = [ChainPath.from_dict(r) for r in read_jsonl(stage.path("paths.jsonl"))]
    return {"paths": paths, "reasoning": [p for p in paths if "reasoning" in p.routes],
            "summary": [p for p in paths if "summary" in p.routes], "filters": stage["filters"],
            "tiers": stage["tiers"], "stage": stage}


def tier_examples(assessed: dict, questions: dict, *, per_tier: int = 1) -> list[dict]:
    """A path of each tier (and its verdict), as the reasoning agent would read it."""
    from longthink.insight_v.steps import chain_steps, format_chain

    rows = []
    for tier in ("High", "Mid", "Low"):
        for p in [p for p in assessed["paths"] if p.tier == tier][:per_tier]:
            q = questions["by_id"][p.question_id]
            rows.append({"tier": tier, "score": p.score, "answer correct": p.correct, "routes": ", ".join(p.routes),
                         "question": q["question"], "gold": q["answer"], "path answer": p.answer,
                         "chain": format_chain(chain_steps(p.steps))})
    return rows


# -------------------------------------------------------------------------------------------------- agents
def _general_rows(ctx: PaperRun, settings) -> tuple[list[dict], dict]:
    if not settings.general or not settings.n_general:
        return [], {}
    resolved = ctx.resolve(settings.general, kind="dataset")
    rows = resolved.rows()[: settings.n_general]
    return rows, {"general": resolved.artefact()}


def _prepare(ctx: PaperRun, role: str):
    from longthink.insight_v.llava import prepare

    kit = ctx.settings("models").kit
    if not kit.add_think_tokens:
        return None
    return lambda model, processor: prepare(model, processor, role=role)


# the agents' SFT stages by role, in the order they start when they train side by side
AGENT_STAGES = {"summary": "summary_sft", "reason": "reason_sft", "single": "single_sft"}


def train_agent(ctx: PaperRun, name: str, questions: dict, assessed: dict, *, build: bool = True) -> dict | bool:
    """SFT of the base model for one agent (stage ``reason_sft`` / ``summary_sft`` / ``single_sft``); with
    ``build=False`` only whether it is stored."""
    from longthink.insight_v.agents import rows_for
    from longthink.insight_v.vlm import train_sft

    stage_settings = ctx.settings(name)
    kit = stage_settings.kit
    models = ctx.settings("models").kit
    base = ctx.resolve(models.base)
    general, general_inputs = _general_rows(ctx, kit)
    paths = assessed["summary"] if kit.role == "summary" else assessed["reasoning"]

    def run(tmp: Path) -> dict:
        rows = rows_for(kit.role, paths, questions["by_id"], questions["image_fn"], kit, general=general)
        with _threads(ctx):
            return train_sft(base=base.path, rows=rows, stage=stage_settings, out_dir=tmp, seed=ctx.seed,
                             freeze_vision=models.freeze_vision_tower, dtype=_dtype(ctx),
                             prepare=_prepare(ctx, kit.role))

    settings = {"models": ctx.settings("models").as_dict(), name: stage_settings.as_dict()}
    inputs = {"assess": assessed["stage"], "questions": questions["stage"], "base": base.artefact(), **general_inputs}
    if not build:
        return ctx.built(name, settings=settings, inputs=inputs)
    stage = ctx.stage(name, run, settings=settings, inputs=inputs)
    return {"path": str(stage.path("model")), **stage.result, "stage": stage}


def _train_agent_in_worker(ctx: PaperRun, name: str) -> None:
    """One agent's SFT in a worker process (its questions and assessed paths are read back from their stages)."""
    questions = prepare_questions(ctx)
    train_agent(ctx, name, questions, assess(ctx, questions, generate(ctx, questions)))


def train_agents(ctx: PaperRun, questions: dict, assessed: dict) -> dict[str, dict]:
    """The reasoning agent, the summary agent and the single model (``AGENT_STAGES``), each an SFT of the base model;
    those not stored yet train ``models.workers`` at a time in worker processes (they are independent)."""
    from longthink.processes import run_jobs

    models = ctx.settings("models").kit
    missing = {name: (ctx, name) for name in AGENT_STAGES.values()
               if not train_agent(ctx, name, questions, assessed, build=False)}
    if len(missing) > 1:
        run_jobs(missing, _train_agent_in_worker, workers=models.workers, threads=models.threads,
                 what="training the agents")
    return {role: train_agent(ctx, name, questions, assessed) for role, name in AGENT_STAGES.items()}


def sft_rows_preview(ctx: PaperRun, questions: dict, assessed: dict) -> list[dict]:
    """The first training row of each agent, as text (what each agent reads and learns to write)."""
    from longthink.insight_v.agents import rows_for

    out = []
    for name in ("reason_sft", "summary_sft", "single_sft"):
        kit = ctx.settings(name).kit
        paths = assessed["summary"] if kit.role == "summary" else assessed["reasoning"]
        wrong = [p for p in paths if not p.correct]
        sample = (wrong or paths)[:1]
        for row in rows_for(kit.role, sample, questions["by_id"], lambda q: None, kit):
            out.append({"agent": kit.role, "prompt": row["prompt"][0]["content"],
                        "completion": row["completion"][0]["content"]})
    return out


# -------------------------------------------------------------------------------------------------- systems
def _sampling(ev, which: str):
    from longthink.insight_v.vlm import Sampling

    return Sampling(temperature=getattr(ev, f"{which}_temperature"), top_p=getattr(ev, f"{which}_top_p"),
                    max_new_tokens=getattr(ev, f"{which}_max_new_tokens"))


def _load(path: str, ctx: PaperRun):
    from longthink.insight_v.vlm import load

    return load(path, dtype=_dtype(ctx))


def _answers_out(answers) -> list[dict]:
    return [a.to_dict() for a in answers]


def system_questions(ctx: PaperRun, questions: dict, system: str, split: str) -> list[dict]:
    """The questions a system answers: the whole split, or only its reasoning kinds for a system outside
    ``eval.all_kinds_systems`` (the world; saves the CPU minutes of perception questions nobody reports)."""
    qs = questions["splits"][split]
    scenes = questions["modules"].get("scenes")
    if scenes is None or system in ctx.settings("eval").kit.all_kinds_systems:
        return qs
    from longthink.insight_v.questions import REASONING, kind_groups

    kinds = set(kind_groups(scenes)[REASONING])
    return [q for q in qs if q["kind"] in kinds]


def run_system(ctx: PaperRun, system: str, questions: dict, models: dict, qs: list[dict]) -> list:
    """One system's answers: ``base``, ``single_model``, or the two agents (models: loaded pairs)."""
    from longthink.insight_v import inference

    ev = ctx.settings("eval").kit
    seed = ctx.seed * 1000 + 17
    reason, summary = ctx.settings("reason_sft").kit, ctx.settings("summary_sft").kit
    if system == "base":
        from longthink.insight_v.vlm import Sampling

        return inference.answer_base(*models["base"], qs, questions["image_fn"],
                                     sampling=Sampling(max_new_tokens=ev.base_max_new_tokens),
                                     batch_size=ev.batch_size, seed=seed)
    if system == "single_model":
        return inference.answer_single(*models["single"], qs, questions["image_fn"], sampling=_sampling(ev, "reason"),
                                       batch_size=ev.batch_size, seed=seed)
    return inference.answer_two_agents(models["reason"], models["summary"], qs, questions["image_fn"],
                                       suffix=reason.reason_suffix, instruction=summary.summary_instruction,
                                       reason_sampling=_sampling(ev, "reason"),
                                       summary_sampling=_sampling(ev, "summary"), batch_size=ev.batch_size,
                                       seed=seed, system=system)


def _grade_summary(ctx: PaperRun, questions: dict, answers) -> dict:
    from longthink.insight_v.evaluate import by_kind, grade, group_accuracy
    from longthink.insight_v.questions import PERCEPTION, REASONING, kind_groups

    grade(answers, questions["by_id"], _judge(ctx, questions))
    out = {"by_kind": by_kind(answers, questions["by_id"])}
    scenes = questions["modules"].get("scenes")
    if scenes is not None:
        groups = kind_groups(scenes)
        out["reasoning"] = group_accuracy(answers, questions["by_id"], groups[REASONING])
        out["perception"] = group_accuracy(answers, questions["by_id"], groups[PERCEPTION])
    else:
        out["reasoning"] = group_accuracy(answers, questions["by_id"], list(out["by_kind"]))
    return out


def evaluate(ctx: PaperRun, questions: dict, agents: dict, *, split: str = "eval",
             systems: tuple[str, ...] = ("base", "single_model", "two_agents")) -> dict:
    """Base model, single model and the two agents on a split (stage ``eval``, or ``dev`` for the dev split)."""
    from longthink.insight_v.inference import Answer

    models = ctx.settings("models").kit
    base = ctx.resolve(models.base)

    def build(tmp: Path) -> dict:
        with _threads(ctx):
            loaded = {"base": _load(base.path, ctx)}
            for role in ("reason", "summary", "single"):
                loaded[role] = _load(agents[role]["path"], ctx)
            out, rows = {}, []
            for system in systems:
                answers = run_system(ctx, system, questions, loaded,
                                     system_questions(ctx, questions, system, split))
                out[system] = _grade_summary(ctx, questions, answers)
                rows += _answers_out(answers)
        write_jsonl(tmp / "answers.jsonl", rows)
        return {"systems": out}

    settings = {"eval": ctx.settings("eval").as_dict(), "reason": ctx.settings("reason_sft").as_dict(),
                "summary": ctx.settings("summary_sft").as_dict(), "split": split, "systems": list(systems)}
    name = "eval" if split == "eval" else split
    stage = ctx.stage("eval", build, settings=settings, folder=name,
                      inputs={"questions": questions["stage"], "base": base.artefact(),
                              **{f"agent_{r}": agents[r]["stage"] for r in ("reason", "summary", "single")}})
    answers = [Answer(**r) for r in read_jsonl(stage.path("answers.jsonl"))]
    return {"systems": dict(stage["systems"]), "answers": answers, "stage": stage}


# ------------------------------------------------------------------------------------------------------ DPO
def dpo_round(ctx: PaperRun, r: int, questions: dict, policy: dict, summary: dict) -> dict:
    """DPO round ``r`` (stage ``dpo_round_<r>``): sample, answer, assess, pair, train from ``policy``."""
    from longthink.insight_v import dpo as dpo_lib
    from longthink.insight_v.vlm import Sampling

    stage_settings = ctx.settings("dpo")
    kit, ev = stage_settings.kit, ctx.settings("eval").kit
    reason, summ = ctx.settings("reason_sft").kit, ctx.settings("summary_sft").kit
    qs = questions["splits"]["dpo"]

    def build(tmp: Path) -> dict:
        with _threads(ctx):
            reasoner, summary_model = _load(policy["path"], ctx), _load(summary["path"], ctx)
            cands = dpo_lib.sample_candidates(
                reasoner, summary_model, qs, questions["image_fn"], judge=_judge(ctx, questions),
                scorer=_scorer(ctx, questions, keep_answer_step=reason.keep_answer_step), k=kit.chains_per_question,
                reason_sampling=Sampling(temperature=kit.sample_temperature, top_p=kit.sample_top_p,
                                         max_new_tokens=kit.max_new_tokens),
                summary_sampling=_sampling(ev, "summary"), suffix=reason.reason_suffix,
                instruction=summ.summary_instruction, batch_size=kit.batch_size, seed=ctx.seed * 1000 + 100 + r)
            del reasoner, summary_model
            pairs, counts = dpo_lib.build_pairs(cands, pairs_per_question=kit.pairs_per_question)
            write_jsonl(tmp / "candidates.jsonl", cands)
            write_jsonl(tmp / "pairs.jsonl", dpo_lib.record(pairs, questions["by_id"], suffix=reason.reason_suffix))
            rows = dpo_lib.pair_rows(pairs, questions["by_id"], questions["image_fn"], suffix=reason.reason_suffix)
            if rows:
                result = dpo_lib.train_round(policy=policy["path"], rows=rows, stage=stage_settings, out_dir=tmp,
                                             seed=ctx.seed + r, dtype=_dtype(ctx),
                                             freeze_vision=ctx.settings("models").kit.freeze_vision_tower)
            else:  # every question lacked a contrast: nothing to learn, the policy goes on unchanged
                import shutil

                shutil.copytree(policy["path"], tmp / "model")
                result = {"train_loss": None, "steps": 0, "pairs": 0, "history": [], "seconds": 0.0}
        sampled_acc = sum(c["correct"] for c in cands) / max(len(cands), 1)
        return {**result, "pair_counts": counts, "sampled_accuracy": sampled_acc, "round": r}

    settings = {"dpo": stage_settings.as_dict(), "eval": ctx.settings("eval").as_dict(),
                "reason": ctx.settings("reason_sft").as_dict(), "summary": ctx.settings("summary_sft").as_dict(),
                "assess": ctx.settings("assess").as_dict(), "round": r}
    stage = ctx.stage("dpo", build, settings=settings, folder=f"dpo_round_{r}",
                      inputs={"policy": policy["stage"], "summary": summary["stage"], "questions": questions["stage"],
                              **_tool_inputs(questions["tools"])})
    return {"path": str(stage.path("model")), **stage.result, "stage": stage}


def evaluate_round(ctx: PaperRun, r: int, questions: dict, policy: dict, summary: dict) -> dict:
    """The two agents with round ``r``'s reasoning agent (stage ``eval_dpo_round_<r>``)."""
    from longthink.insight_v.inference import Answer

    system = f"dpo_round_{r}"

    def build(tmp: Path) -> dict:
        with _threads(ctx):
            loaded = {"reason": _load(policy["path"], ctx), "summary": _load(summary["path"], ctx)}
            answers = run_system(ctx, system, questions, loaded, system_questions(ctx, questions, system, "eval"))
            out = _grade_summary(ctx, questions, answers)
        write_jsonl(tmp / "answers.jsonl", _answers_out(answers))
        return {"systems": {system: out}}

    settings = {"eval": ctx.settings("eval").as_dict(), "reason": ctx.settings("reason_sft").as_dict(),
                "summary": ctx.settings("summary_sft").as_dict(), "round": r}
    stage = ctx.stage("eval", build, settings=settings, folder=f"eval_dpo_round_{r}",
                      inputs={"questions": questions["stage"], "policy": policy["stage"], "summary": summary["stage"]})
    answers = [Answer(**a) for a in read_jsonl(stage.path("answers.jsonl"))]
    return {"systems": dict(stage["systems"]), "answers": answers, "stage": stage}


def iterative_dpo(ctx: PaperRun, questions: dict, agents: dict) -> list[dict]:
    """Every DPO round, each starting from the previous round's result, each evaluated."""
    rounds, policy = [], agents["reason"]
    for r in range(1, ctx.settings("dpo").kit.rounds + 1):
        trained = dpo_round(ctx, r, questions, policy, agents["summary"])
        evaluated = evaluate_round(ctx, r, questions, trained, agents["summary"])
        rounds.append({"round": r, "train": trained, "eval": evaluated})
        policy = trained
    return rounds


# --------------------------------------------------------------------------------------------- flawed chains
def flawed(ctx: PaperRun, questions: dict, summary: dict) -> dict:
    """The summary agent on chains with one injected mistake (stage ``flawed``; the world only)."""
    from longthink.insight_v.evaluate import flawed_chains, flawed_summary
    from longthink.insight_v.inference import extract_answer, summarise
    from longthink.insight_v.questions import REASONING, kind_groups

    chains = questions["modules"].get("chains")
    ev = ctx.settings("eval").kit
    if chains is None or not ev.flawed_per_kind:
        return {}
    summ = ctx.settings("summary_sft").kit
    reasoning_kinds = kind_groups(questions["modules"]["scenes"])[REASONING]

    def build(tmp: Path) -> dict:
        qs = [q for q in questions["splits"]["eval"] if q["kind"] in reasoning_kinds]
        cases = flawed_chains(qs, chains, per_kind=ev.flawed_per_kind, seed=ctx.seed,
                              keep_answer_step=summ.keep_answer_step, plan_step=ctx.settings("generate").kit.plan_step)
        with _threads(ctx):
            model = _load(summary["path"], ctx)
            outs = summarise(*model, [questions["by_id"][c["question_id"]] for c in cases], [c["chain"] for c in cases],
                             questions["image_fn"], instruction=summ.summary_instruction,
                             sampling=_sampling(ev, "summary"), batch_size=ev.batch_size, seed=ctx.seed * 1000 + 29)
        result = flawed_summary(cases, [extract_answer(o) for o in outs], questions["by_id"],
                                _judge(ctx, questions))
        write_jsonl(tmp / "flawed.jsonl", result.pop("rows"))
        return result

    settings = {"eval": ctx.settings("eval").as_dict(), "summary": ctx.settings("summary_sft").as_dict()}
    stage = ctx.stage("eval", build, settings=settings, folder="flawed",
                      inputs={"questions": questions["stage"], "summary": summary["stage"],
                              **_tool_inputs(questions["tools"])})
    return {**stage.result, "rows": read_jsonl(stage.path("flawed.jsonl")), "stage": stage}
