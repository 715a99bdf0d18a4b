"""Probe: one TACO training arm on the tiny world, scored on the dev split (never the evaluation split).

Prints the dev accuracy and consistency by question kind before and after training, and the training figures
(reward, KL, zero-std groups, flagged groups), so settings can be chosen on dev before they go into the recipe.
Give the budget in steps (``--set grpo.max_steps=30``), not minutes: the machine's load changes the speed.

    python benchmarks/probe_taco_grpo.py --arm grpo --set grpo.learning_rate=2e-4 --out /tmp/probe
    python benchmarks/probe_taco_grpo.py --arm taco --policy /path/to/vlm --scenes /path/to/scenes.py

``--scenes`` loads a scene module from a file (to probe a world branch before it lands); by default the resolver's
``world-vision:scenes``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import time
from pathlib import Path


def load_scenes(path: str | None, profile: str):
    if path is None:
        from longthink.resolver import resolve

        return resolve("world-vision:scenes", kind="tool", profile=profile).load()
    spec = importlib.util.spec_from_file_location("probe_scenes", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def dev_report(model_path: str, rows, settings, bounds, *, max_new_tokens: int) -> dict:
    from longthink.taco.evaluate import by_kind, evaluate, summarize
    from longthink.taco.pipeline import load_model

    model, processor = load_model(model_path, bounds)
    records = evaluate(model, processor, rows, settings, max_new_tokens=max_new_tokens, batch_size=64)
    return {"summary": summarize(records), "by_kind": by_kind(records)}


def main() -> None:
    import torch

    from longthink.config import load_recipe, parse_assignments, recipe_path, stage_overrides
    from longthink.env import configure
    from longthink.resolver import resolve_path
    from longthink.taco.arms import ARMS
    from longthink.taco.data import trl_dataset, world_rows
    from longthink.taco.frames import PixelBounds
    from longthink.taco.pipeline import read_rollouts
    from longthink.taco.showcase import chain_lengths_by_kind
    from longthink.taco.train import reward_settings, train_arm

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--arm", default="grpo", choices=sorted(ARMS))
    parser.add_argument("--profile", default="tiny")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--policy", default=None, help="a VLM folder (default: the recipe's models.policy)")
    parser.add_argument("--scenes", default=None, help="a scenes.py to load instead of world-vision:scenes")
    parser.add_argument("--n-dev", type=int, default=48, help="dev questions per task")
    parser.add_argument("--out", required=True)
    parser.add_argument("--skip-before", action="store_true", help="do not score the base model")
    parser.add_argument("--set", action="append", default=[], metavar="STAGE.KEY=VALUE")
    args = parser.parse_args()
    configure(args.profile)
    torch.set_num_threads(1)
    recipe = load_recipe(recipe_path("taco"), profile=args.profile,
                         overrides={"seed": args.seed, **stage_overrides(parse_assignments(args.set))})
    data, models = recipe.stage("data").kit, recipe.stage("models").kit
    policy = args.policy or resolve_path(models.policy, profile=args.profile, seed=args.seed)
    scenes = load_scenes(args.scenes, args.profile)
    bounds = PixelBounds(models.min_pixels, models.max_pixels)
    common = dict(rec_kinds=data.rec_kinds, vqa_kinds=data.vqa_kinds, objects=data.train_objects,
                  resolution=data.resolution, prompt_template=data.prompt_template, grid=data.grid)
    train = world_rows(scenes, split="train", seed=args.seed, n_rec=data.n_train_rec, n_vqa=data.n_train_vqa, **common)
    dev = world_rows(scenes, split="dev", seed=args.seed, n_rec=args.n_dev, n_vqa=args.n_dev, **common)
    grpo = recipe.stage("grpo")
    settings = reward_settings(grpo.kit, bounds=bounds)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    report = {"arm": args.arm, "set": args.set, "seed": args.seed}
    max_new = recipe.stage("eval").kit.max_new_tokens
    if not args.skip_before:
        report["before"] = dev_report(policy, dev, settings, bounds, max_new_tokens=max_new)
    start = time.time()
    report["train"] = train_arm(policy=policy, dataset=trl_dataset(train), stage=grpo, arm=ARMS[args.arm],
                                bounds=bounds, out_dir=out / "arm", seed=args.seed, profile=args.profile)
    report["train_seconds"] = round(time.time() - start, 1)
    rollouts = read_rollouts({"rollouts": str(out / "arm" / "rollouts.jsonl")})
    report["chains_by_kind"] = chain_lengths_by_kind(rollouts, [r["kind"] for r in train])
    report["after"] = dev_report(str(out / "arm" / "model"), dev, settings, bounds, max_new_tokens=max_new)
    (out / "report.json").write_text(json.dumps(report, indent=1, default=str) + "\n")
    for when in ("before", "after"):
        if when in report:
            s = report[when]["summary"]
            print(when, {k: round(s[k], 3) for k in ("rec_acc50", "vqa_acc", "acc", "consistency", "consistency_rec",
                                                     "consistency_vqa", "format")})
            print("   ", {k: (round(v["acc"], 2), round(v["consistency"], 2)) for k, v in report[when]["by_kind"].items()})
    print("sampled VQA chains by kind and half of training (whole = no `...` jump):")
    for row in report["chains_by_kind"]:
        print("   ", row)
    print("train", report["train_seconds"], "s", {k: (round(v, 4) if isinstance(v, float) else v)
                                                  for k, v in report["train"].items() if not isinstance(v, list)})


if __name__ == "__main__":
    main()
