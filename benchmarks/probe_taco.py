"""Probe TACO's GRPO settings on one seed: train chosen arms with recipe overrides, score them on the dev split.

    .venv/bin/python benchmarks/probe_taco.py --out /tmp/probe_taco grpo.learning_rate=1e-3 --arms grpo taco

Overrides are ``stage.key=value`` pairs (YAML values) of recipes/taco.yaml under the profile. Each arm trains from the
world's base VLM as in the notebook (stages under ``--out``); the report is greedy accuracy and think-answer
consistency on the dev split (never the evaluation split), the share of sampled rollouts that write the whole chain
(no ``...`` jump) in the first and last third of training, and the mean KL. Settings of the tiny recipe's ``grpo``
stage were chosen with this script (see recipes/profiles/tiny.yaml).
"""

from __future__ import annotations

import argparse
import json
import time

import yaml


def long_share(rollouts: list[dict], part: slice) -> float:
    steps = sorted({r["step"] for r in rollouts})
    keep = set(steps[part])
    rows = [r for r in rollouts if r["step"] in keep and r.get("vqa_accuracy") is not None]
    return sum("..." not in r["completion"] for r in rows) / max(len(rows), 1)


def main(argv: list[str] | None = None) -> dict:
    from longthink.taco import pipeline
    from longthink.taco.evaluate import by_kind, evaluate, summarize

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("overrides", nargs="*", help="stage.key=value settings")
    parser.add_argument("--out", required=True)
    parser.add_argument("--profile", default="tiny")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--arms", nargs="+", default=["grpo", "taco"])
    args = parser.parse_args(argv)

    overrides = {k: yaml.safe_load(v) for k, _, v in (o.partition("=") for o in args.overrides)}
    overrides["ablations.arms"] = list(args.arms)
    ctx = pipeline.setup(args.profile, seed=args.seed, output_dir=args.out, overrides=overrides)
    data = pipeline.prepare_data(ctx)
    base = pipeline.policy(ctx)
    started = time.perf_counter()
    arms = pipeline.train_arms(ctx, data, base)
    train_seconds = time.perf_counter() - started
    settings = pipeline.reward_settings(ctx)
    dev = pipeline.load_split(data, "dev")
    ev = ctx.settings("eval").kit
    report = {"overrides": overrides, "train_seconds": round(train_seconds, 1)}
    for name, path in [("base", base.path)] + [(n, a["path"]) for n, a in arms.items()]:
        model, processor = pipeline.load_model(path, pipeline.training_bounds(ctx))
        records = evaluate(model, processor, dev, settings, max_new_tokens=ev.max_new_tokens, batch_size=ev.batch_size)
        row = {k: summarize(records)[k] for k in ("rec_acc50", "vqa_acc", "consistency", "consistency_vqa")}
        row["by_kind"] = {k: v["acc"] for k, v in by_kind(records).items()}
        if name in arms:
            rollouts = pipeline.read_rollouts(arms[name])
            row["long_share_first_third"] = round(long_share(rollouts, slice(0, None, 3)), 3)  # every third step
            row["long_share_last_steps"] = round(long_share(rollouts, slice(-5, None)), 3)
            row["kl_mean"] = arms[name]["summary"].get("kl_mean")
            row["seconds"] = arms[name]["summary"].get("seconds")
        report[name] = row
        print(name, json.dumps(row), flush=True)
    return report


if __name__ == "__main__":
    main()
