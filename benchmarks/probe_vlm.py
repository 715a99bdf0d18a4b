"""Probe one base-VLM design on one seed: train with recipe overrides, then score it on the dev split.

    .venv/bin/python benchmarks/probe_vlm.py --out /tmp/probe1 batch_size=16 max_steps=1600
    .venv/bin/python benchmarks/probe_vlm.py --out /tmp/probe1 --eval-only       # re-score a trained probe

Overrides are ``key=value`` pairs of the ``vlm`` stage (YAML values). The model goes to ``--out`` (not the cache);
the report (dev-split accuracy by kind, error analysis, steps per second, load) to ``--out/probe.json``.
Settings of the recipe were chosen with this script on the dev split (see recipes/world_vision.yaml).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import yaml

for _k, _v in {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}.items():
    os.environ.setdefault(_k, _v)


def main(argv: list[str] | None = None) -> dict:
    from longthink.vision_world.pretrain import load_settings, pretrain
    from longthink.vision_world.vlm import build_result

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("overrides", nargs="*", help="key=value settings of the vlm stage")
    parser.add_argument("--out", required=True)
    parser.add_argument("--profile", default="tiny")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n", type=int, default=100, help="dev examples per kind")
    parser.add_argument("--eval-only", action="store_true")
    parser.add_argument("--resolutions", type=int, nargs="*", default=None)
    args = parser.parse_args(argv)

    overrides = {"seed": args.seed}
    for item in args.overrides:
        key, _, value = item.partition("=")
        overrides[f"stages.vlm.{key}"] = yaml.safe_load(value)
    settings, seed = load_settings(args.profile, overrides)
    out = Path(args.out)
    if not args.eval_only:
        out.mkdir(parents=True, exist_ok=True)
        result = pretrain(settings, seed=seed, out_dir=out)
        (out / "result.json").write_text(json.dumps(result, indent=1))
    from longthink.vision_world.evaluate import evaluate_vlm

    t0 = time.perf_counter()
    report = evaluate_vlm(out, settings, seed=seed, n_per_kind=args.n, split="dev", resolutions=args.resolutions)
    report["eval_seconds"] = round(time.perf_counter() - t0, 1)
    report["overrides"] = overrides
    build = build_result(out)
    print(json.dumps({k: build.get(k) for k in ("train_seconds", "steps", "steps_per_second", "final_loss",
                                                 "load_average")}))
    print(json.dumps(report["metrics"], indent=1))
    print(json.dumps(report["by_kind"], indent=1))
    print(report["errors_table"])
    print(json.dumps(report["walk"]))
    (out / "probe.json").write_text(json.dumps(report, indent=1, default=str))
    return report


if __name__ == "__main__":
    main()
