"""Probe one Insight-V agent on the dev split of one world seed: train it with recipe overrides (or load a trained
one), then read it against the world's faithful chains.

    LONGTHINK_CACHE=<world built> python benchmarks/probe_insight_v.py --out /tmp/probe_iv reason_sft.num_train_epochs=5
    LONGTHINK_CACHE=<world built> python benchmarks/probe_insight_v.py --agent summary --out /tmp/probe_iv \\
        generate.error_kinds=[count,arithmetic]
    ... --model runs/tiny/insight_v/reason_sft/model     (read a trained agent, train nothing)

``--agent reason`` prints, per question kind, how many of the reasoning agent's greedy chains are the world's
faithful chain step for step, and where the others first depart (the step's title; ``short`` = stopped early,
``long`` = ran on). ``--agent summary`` prints how often the summary agent answers right from faithful chains, by
kind, then on chains with one injected mistake (16 a kind), chain against summary, by kind of mistake and of
question. The dev split only, never the eval split. The tiny profile's reason_sft, generate and assess comments
quote this probe's figures.
"""

from __future__ import annotations

import argparse
import collections

import yaml


def _reason_table(ctx, questions, model_path: str) -> dict:
    from longthink.insight_v.evaluate import first_wrong_step
    from longthink.insight_v.inference import write_chains
    from longthink.insight_v.steps import chain_steps, world_teacher
    from longthink.insight_v.vlm import Sampling, load

    kit, ev = ctx.settings("reason_sft").kit, ctx.settings("eval").kit
    teacher = world_teacher(questions["modules"]["chains"], error_rate=0.0,
                            plan_step=ctx.settings("generate").kit.plan_step)
    dev = questions["splits"]["dev"]
    model, processor = load(model_path)
    chains = write_chains(model, processor, dev, questions["image_fn"], suffix=kit.reason_suffix,
                          sampling=Sampling(max_new_tokens=ev.reason_max_new_tokens), batch_size=ev.batch_size, seed=0)
    table: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for q, chain in zip(dev, chains):
        gold = chain_steps(teacher.chain(q["example"]).steps, keep_answer_step=kit.keep_answer_step)
        table[q["kind"]][first_wrong_step(chain, gold)] += 1
    for kind, row in sorted(table.items()):
        print(f"{kind:15s} right {row['right']:3d} / {sum(row.values()):3d}  {dict(row)}")
    return {k: dict(v) for k, v in table.items()}


def _summary_table(ctx, questions, model_path: str) -> dict:
    from longthink.insight_v.evaluate import flawed_chains
    from longthink.insight_v.inference import extract_answer, summarise
    from longthink.insight_v.judge import JudgeItem
    from longthink.insight_v.pipeline import _judge
    from longthink.insight_v.steps import chain_steps, format_chain, world_teacher
    from longthink.insight_v.vlm import Sampling, load

    kit, plan = ctx.settings("summary_sft").kit, ctx.settings("generate").kit.plan_step
    chains = questions["modules"]["chains"]
    teacher = world_teacher(chains, error_rate=0.0, plan_step=plan)
    dev = questions["splits"]["dev"]
    model, processor = load(model_path)
    judge = _judge(ctx, questions)

    def right(qs, texts) -> list[bool]:
        outs = summarise(model, processor, qs, texts, questions["image_fn"], instruction=kit.summary_instruction,
                         sampling=Sampling(max_new_tokens=24), batch_size=64, seed=0)
        return judge.judge([JudgeItem(q["question"], q["answer"], extract_answer(o), q["kind"])
                            for q, o in zip(qs, outs)])

    faithful = [format_chain(chain_steps(teacher.chain(q["example"]).steps, keep_answer_step=kit.keep_answer_step))
                for q in dev]
    by_kind: dict[str, list[bool]] = collections.defaultdict(list)
    for q, ok in zip(dev, right(dev, faithful)):
        by_kind[q["kind"]].append(bool(ok))
    print("faithful chains read right:", {k: f"{sum(v)}/{len(v)}" for k, v in by_kind.items()})
    flawed = flawed_chains(dev, chains, per_kind=16, seed=7, keep_answer_step=kit.keep_answer_step, plan_step=plan)
    oks = right([questions["by_id"][f["question_id"]] for f in flawed], [f["chain"] for f in flawed])
    cells: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0, 0])
    for f, ok in zip(flawed, oks):
        for key in ("all", f"mistake {f['error']}", f"kind {f['kind']}"):
            cells[key][0] += 1
            cells[key][1] += f["chain_correct"]
            cells[key][2] += bool(ok)
    for key, (n, chain, summary) in sorted(cells.items()):
        print(f"flawed {key:24s} n {n:3d}  chain {chain / n:.3f}  summary {summary / n:.3f}")
    return {"faithful": {k: sum(v) / len(v) for k, v in by_kind.items()},
            "flawed": {k: {"n": n, "chain": c / n, "summary": s / n} for k, (n, c, s) in cells.items()}}


AGENTS = {"reason": ("reason_sft", _reason_table), "summary": ("summary_sft", _summary_table)}


def main(argv: list[str] | None = None) -> dict:
    from longthink.insight_v import pipeline

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("overrides", nargs="*", help="stage.key=value settings")
    parser.add_argument("--out", required=True, help="the run folder (its stages are reused when their keys match)")
    parser.add_argument("--agent", choices=sorted(AGENTS), default="reason")
    parser.add_argument("--model", help="a trained agent to read instead of training one")
    parser.add_argument("--profile", default="tiny")
    parser.add_argument("--seed", type=int, default=0, help="the run's seed, which also picks the world")
    args = parser.parse_args(argv)

    overrides = {k: yaml.safe_load(v) for k, _, v in (o.partition("=") for o in args.overrides)}
    ctx = pipeline.setup(args.profile, seed=args.seed, output_dir=args.out, overrides=overrides)
    questions = pipeline.prepare_questions(ctx)
    if not questions["splits"]["dev"]:
        raise SystemExit(f"the dev split is empty under profile {args.profile!r}: pass questions.n_dev_per_kind=N")
    stage, table = AGENTS[args.agent]
    model_path = args.model
    if model_path is None:
        assessed = pipeline.assess(ctx, questions, pipeline.generate(ctx, questions))
        agent = pipeline.train_agent(ctx, stage, questions, assessed)
        print("SFT", {k: agent.get(k) for k in ("steps", "train_loss", "seconds", "rows")})
        model_path = agent["path"]
    return {"overrides": overrides, "agent": args.agent, "table": table(ctx, questions, model_path)}


if __name__ == "__main__":
    main()
