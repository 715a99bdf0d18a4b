"""Benchmark the tiny visual world's base VLM: build time, accuracy by question kind, grounding, resolutions.

    .venv/bin/python benchmarks/bench_vlm.py --profile tiny            # reuse the cached build if there is one
    .venv/bin/python benchmarks/bench_vlm.py --profile tiny --fresh    # time a fresh build (private cache folder)
    .venv/bin/python benchmarks/bench_vlm.py --profile tiny --seed 1   # world seed 1 (recipe override)

Prints the build's wall-clock seconds with the machine's load average (timings on a shared CPU vary a lot) and
how long loading the cached build takes, then on the held-out eval split: the look's per-cell accuracy and
accuracy per question kind at the training resolution (single-step, position and grounding kinds answered through
the whole walk; several-step kinds through the base model's short chain), grounding Acc@0.5, accuracy (single-step,
position and grounding questions) at each input resolution, as given and resized back to the training pixels
(TTRS-style), and the error table (where each wrong reply first leaves the gold reply).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time

for _k, _v in {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
               "TOKENIZERS_PARALLELISM": "false"}.items():
    os.environ.setdefault(_k, _v)


def main(argv: list[str] | None = None) -> dict:
    from longthink.vision_world.evaluate import evaluate_vlm
    from longthink.vision_world.pretrain import build_cached, load_settings

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="tiny")
    parser.add_argument("--seed", type=int, default=None, help="world seed (default: the recipe's)")
    parser.add_argument("--fresh", action="store_true", help="build into a temporary cache to time the build")
    parser.add_argument("--n", type=int, default=None, help="examples per question kind (default: the recipe's)")
    parser.add_argument("--resolutions", type=int, nargs="*", default=None,
                        help="shifted resolutions (multiples of 28); default: the recipe's plus 140 and 224")
    parser.add_argument("--json", default=None, help="also write the report here")
    args = parser.parse_args(argv)

    settings, seed = load_settings(args.profile, {"seed": args.seed} if args.seed is not None else None)
    root = tempfile.mkdtemp(prefix="bench_vlm_") if args.fresh else None
    load_before = os.getloadavg()[0]
    path = build_cached(settings, seed=seed, root=root)
    started = time.perf_counter()
    build_cached(settings, seed=seed, root=root)
    load_seconds = time.perf_counter() - started
    resolutions = args.resolutions or sorted({*settings.shifted_resolutions, 140, 224} - {settings.train_resolution})
    resolutions = sorted(resolutions, key=lambda r: r != settings.shifted_resolutions[0])  # the metric's first
    started = time.perf_counter()
    report = evaluate_vlm(path, settings, seed=seed, n_per_kind=args.n, resolutions=resolutions)
    eval_seconds = time.perf_counter() - started
    build = report["build"]

    print(f"model: {path} (world seed {seed})")
    print(f"build: {build.get('build_seconds')} s ({build.get('steps')} steps, {build.get('steps_per_second')} steps/s, "
          f"{build.get('parameters')} parameters, {build.get('num_threads')} threads; load average "
          f"{build.get('load_average')} at the end of the build, {load_before:.2f} before this run)")
    print(f"second call (cached): {load_seconds:.2f} s; evaluation: {eval_seconds:.0f} s")
    print(f"\naccuracy by question kind at {settings.train_resolution} px (n = {report['n_per_kind']} each, eval split):")
    for kind, acc in report["by_kind"].items():
        print(f"  {kind:16s} {acc:.3f}")
    m = report["metrics"]
    print(f"\nlook per cell: {m['world/vlm_describe_cell_acc']:.3f}; single-step + position: "
          f"{m['world/vlm_acc_single_step']:.3f}; grounding Acc@0.5: {m['world/vlm_grounding_acc50']:.3f}; "
          f"several steps (short chain): {m['world/vlm_acc_multi_step']:.3f}")
    print("\naccuracy (single-step, position, grounding) by input resolution: as given | resized to training pixels"
          " | look per cell")
    for res in sorted(report["by_resolution"]):
        tag = " (training)" if res == settings.train_resolution else ""
        rescaled = report["rescaled_by_resolution"].get(res, report["by_resolution"][res])
        print(f"  {res:4d} px, {(res // 28) ** 2:3d} visual tokens: {report['by_resolution'][res]:.3f} | "
              f"{rescaled:.3f} | {report['describe_by_resolution'][res]:.3f}{tag}")
    print("\nwhere wrong replies first leave the gold reply (counts):")
    print(report["errors_table"])
    print("\nwalk steps that follow from the model's own words:", json.dumps(report["walk"]))
    print("\nmetrics:", json.dumps(m, indent=1))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({k: v for k, v in report.items() if k != "samples"}, fh, indent=1, default=str)
    return report


if __name__ == "__main__":
    main()
