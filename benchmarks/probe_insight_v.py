"""Probe the reasoning agent's SFT on one seed: train it with recipe overrides, then read its chains on the dev split.

    .venv/bin/python benchmarks/probe_insight_v.py --out /tmp/probe_iv reason_sft.num_train_epochs=6

Prints, per question kind, how many chains close with a ``Final answer`` line and how many of those answers are right
(judged as the pipeline judges), the SFT's steps, final loss and seconds. The dev split only, never the eval split.
"""

from __future__ import annotations

import argparse
import collections
import json
import re

import yaml


def main(argv: list[str] | None = None) -> dict:
    from longthink.insight_v import pipeline
    from longthink.insight_v.inference import write_chains
    from longthink.insight_v.judge import JudgeItem
    from longthink.insight_v.vlm import Sampling, load

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("overrides", nargs="*", help="stage.key=value settings")
    parser.add_argument("--out", required=True)
    parser.add_argument("--profile", default="tiny")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    overrides = {k: yaml.safe_load(v) for k, _, v in (o.partition("=") for o in args.overrides)}
    ctx = pipeline.setup(args.profile, seed=args.seed, output_dir=args.out, overrides=overrides)
    questions = pipeline.prepare_questions(ctx)
    assessed = pipeline.assess(ctx, questions, pipeline.generate(ctx, questions))
    agent = pipeline.train_agent(ctx, "reason_sft", questions, assessed)
    ev, reason = ctx.settings("eval").kit, ctx.settings("reason_sft").kit
    dev = questions["splits"]["dev"]
    if not dev:
        raise SystemExit(f"the dev split is empty under profile {args.profile!r}: pass questions.n_dev_per_kind=N")
    model, processor = load(agent["path"])
    chains = write_chains(model, processor, dev, questions["image_fn"], suffix=reason.reason_suffix,
                          sampling=Sampling(max_new_tokens=ev.reason_max_new_tokens), batch_size=ev.batch_size, seed=0)
    judge = pipeline._judge(ctx, questions)
    table: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for q, chain in zip(dev, chains):
        final = re.findall(r"Final answer: (.*)", chain)
        row = table[q["kind"]]
        row["n"] += 1
        row["has_final"] += bool(final)
        item = JudgeItem(q["question"], q["answer"], final[-1].strip() if final else None, q["kind"])
        row["right"] += judge.judge([item])[0]
    report = {"overrides": overrides, "sft": {k: agent.get(k) for k in ("steps", "train_loss", "seconds", "rows")},
              "by_kind": {k: dict(v) for k, v in sorted(table.items())}, "example": chains[0]}
    print(json.dumps(report, indent=1))
    return report


if __name__ == "__main__":
    main()
