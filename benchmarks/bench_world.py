"""Benchmark: build the whole text world from nothing (a fresh cache), then load it again; print each model's
build figures and accuracy by difficulty.

    .venv/bin/python benchmarks/bench_world.py --profile tiny            # fresh temporary cache
    .venv/bin/python benchmarks/bench_world.py --profile tiny --cache ~/.cache/longthink   # reuse a cache

Wall-clock figures depend on the machine and its load: the script prints the load average next to them.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profile", default="tiny")
    parser.add_argument("--cache", default=None, help="cache folder (default: a fresh temporary folder)")
    parser.add_argument("--no-eval", action="store_true", help="only time the build")
    args = parser.parse_args(argv)
    for key in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
        os.environ.setdefault(key, "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    cache = args.cache or tempfile.mkdtemp(prefix="longthink-bench-")
    os.environ["LONGTHINK_CACHE"] = cache

    from longthink.text_world.models import build_world
    from longthink.text_world.showcase import build_table, evaluate_world

    print(f"cache: {cache}; load average before: {os.getloadavg()}")
    start = time.perf_counter()
    world = build_world(args.profile, progress=False)
    first = time.perf_counter() - start
    print(f"first build_world call: {first:.1f} s wall (recorded build {world['build_seconds']:.1f} s); "
          f"load average after: {os.getloadavg()}")
    print(build_table(world).to_string())
    start = time.perf_counter()
    build_world(args.profile, progress=False)
    print(f"second build_world call (cached): {time.perf_counter() - start:.2f} s")
    if args.no_eval:
        return 0
    start = time.perf_counter()
    results = evaluate_world(args.profile, progress=False)
    print(f"evaluation: {time.perf_counter() - start:.1f} s")
    for name, r in results.items():
        accs = "  ".join(f"d{k}={v:.2f}" for k, v in r.by_difficulty.items())
        print(f"{name:12s} {accs}   mean tokens {r.mean_tokens:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
