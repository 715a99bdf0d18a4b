"""Benchmark the tiny visual world's base VLM: build time, accuracy by question kind, grounding, resolutions.

    .venv/bin/python benchmarks/bench_vlm.py --profile tiny            # reuse the cached build if there is one
    .venv/bin/python benchmarks/bench_vlm.py --profile tiny --fresh    # time a fresh build (private cache folder)

Prints the build's wall-clock seconds with the machine's load average (timings on a shared CPU vary a lot),
accuracy per question kind at the training resolution (single-step kinds, the dense description per cell, and
several-step kinds answered directly, which the base model is not trained to do), grounding Acc@0.5, and accuracy
(single-step questions + grounding) at the training resolution and at shifted resolutions.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile

for _k, _v in {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
               "TOKENIZERS_PARALLELISM": "false"}.items():
    os.environ.setdefault(_k, _v)


def main(argv: list[str] | None = None) -> dict:
    from longthink.vision_world.pretrain import build_cached, evaluate_vlm, load_settings

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="tiny")
    parser.add_argument("--fresh", action="store_true", help="build into a temporary cache to time the build")
    parser.add_argument("--n", type=int, default=None, help="examples per question kind (default: the recipe's)")
    parser.add_argument("--resolutions", type=int, nargs="*", default=None,
                        help="shifted resolutions (multiples of 28); default: the recipe's plus 140 and 196")
    parser.add_argument("--json", default=None, help="also write the report here")
    args = parser.parse_args(argv)

    settings, seed = load_settings(args.profile)
    root = tempfile.mkdtemp(prefix="bench_vlm_") if args.fresh else None
    load_before = os.getloadavg()[0]
    path = build_cached(settings, seed=seed, root=root)
    resolutions = args.resolutions or sorted({*settings.shifted_resolutions, 140, 196} - {settings.train_resolution})
    resolutions = sorted(resolutions, key=lambda r: r not in settings.shifted_resolutions[:1])  # the metric's first
    report = evaluate_vlm(path, settings, seed=seed, n_per_kind=args.n, resolutions=resolutions)
    build = report["build"]

    print(f"model: {path}")
    print(f"build: {build.get('build_seconds')} s ({build.get('steps')} steps, {build.get('steps_per_second')} steps/s, "
          f"{build.get('parameters')} parameters, {build.get('num_threads')} threads; load average "
          f"{build.get('load_average')} at the end of the build, {load_before:.2f} before this run)")
    print(f"\naccuracy by question kind at {settings.train_resolution} px (n = {args.n or settings.eval_per_kind} each):")
    for kind, acc in report["by_kind"].items():
        print(f"  {kind:16s} {acc:.3f}")
    print(f"\ngrounding Acc@0.5: {report['metrics']['world/vlm_grounding_acc50']:.3f}")
    print("\naccuracy (single-step + grounding) by input resolution:")
    for res, acc in sorted(report["by_resolution"].items()):
        tag = " (training)" if res == settings.train_resolution else ""
        tokens = (res // 28) ** 2
        print(f"  {res:4d} px, {tokens:3d} visual tokens: {acc:.3f}{tag}")
    print("\ndense description, per-cell accuracy by input resolution:")
    for res, acc in sorted(report["describe_by_resolution"].items()):
        tag = " (training)" if res == settings.train_resolution else ""
        print(f"  {res:4d} px, {(res // 28) ** 2:3d} visual tokens: {acc:.3f}{tag}")
    print("\nmetrics:", json.dumps(report["metrics"], indent=1))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({k: v for k, v in report.items()}, fh, indent=1, default=str)
    return report


if __name__ == "__main__":
    main()
