"""Benchmark: chains per second of Insight-V's progressive generation, batched against one conversation at a time.

The same loop (``longthink.insight_v.progressive.generate_paths``: one JSON step per call, retries, the final call)
drives two generators:

* ``teacher``: the world's chain teacher (the tiny profile's generator), where the loop's own cost dominates;
* ``vlm``: the world's base VLM sampled with transformers (``TransformersGenerator``, the paper's Qwen2-VL-72B path
  at tiny size). It writes no valid JSON, so every path takes three tries and the final call (4 calls); the figure
  is what batching buys per decoded call.

Each setting runs ``--repeats`` times and the median is printed with the load average (the machine is shared:
timings move with the load; read the ratios).

    .venv/bin/python benchmarks/bench_insight_v_generation.py --profile tiny --questions 200 --batch 1 64 512
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="tiny", help="world profile (scenes, chain teacher, base VLM)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--questions", type=int, default=200, help="questions for the teacher (x --paths runs)")
    parser.add_argument("--paths", type=int, default=4)
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 64, 512])
    parser.add_argument("--vlm-questions", type=int, default=16, help="questions for the sampled VLM (0: skip it)")
    parser.add_argument("--vlm-batch", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--vlm-tokens", type=int, default=24, help="tokens per VLM call")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)

    import torch

    from longthink.insight_v import prompts
    from longthink.insight_v.generators import TeacherGenerator, TransformersGenerator
    from longthink.insight_v.progressive import Protocol, generate_paths
    from longthink.insight_v.questions import image_function
    from longthink.resolver import resolve

    torch.set_num_threads(args.threads)
    scenes = resolve("world-vision:scenes", kind="tool", profile=args.profile, seed=args.seed).load()
    chains = resolve("world-vision:chains", kind="tool", profile=args.profile, seed=args.seed).load()
    examples = scenes.generate_examples(args.questions, seed=args.seed + 4242)
    questions = [{"id": e["id"], "question": e["question"], "answer": e["answer"], "kind": e["kind"], "example": e}
                 for e in examples]
    protocol = Protocol(prompts.GENERATOR_SYSTEM, prompts.GENERATOR_PREFILL, prompts.GENERATOR_CONTINUE,
                        prompts.GENERATOR_REMINDER, prompts.GENERATOR_FINAL)
    load = os.getloadavg()[0]
    print(f"load average {load:.2f}, {args.threads} torch thread(s), profile {args.profile}")

    def run(generator_fn, qs, n_paths, batch):
        rates, stats = [], None
        for _ in range(args.repeats):
            _, stats = generate_paths(qs, generator_fn(), protocol, n_paths=n_paths, batch_size=batch,
                                      image_fn=image_function(scenes=scenes))
            rates.append(stats.chains_per_second)
        return statistics.median(rates), stats

    rows = []
    base_rate = None
    for batch in args.batch:
        rate, stats = run(lambda: TeacherGenerator(chains, error_rate=0.3, malformed_rate=0.05, seed=args.seed),
                          questions, args.paths, batch)
        base_rate = base_rate or rate
        rows.append(("teacher", batch, stats.paths, stats.calls, rate, rate / base_rate))
    if args.vlm_questions:
        vlm = resolve("world-vision:base", profile=args.profile, seed=args.seed).path
        loaded = TransformersGenerator(vlm, temperature=0.7, top_p=0.95, repetition_penalty=1.05,
                                       max_tokens=args.vlm_tokens, min_pixels=28 * 28, max_pixels=448 * 448,
                                       batch_size=1)
        base_rate = None
        for batch in args.vlm_batch:
            def make(b=batch):
                loaded.batch_size = b
                return loaded
            rate, stats = run(make, questions[: args.vlm_questions], 1, batch)
            base_rate = base_rate or rate
            rows.append(("vlm", batch, stats.paths, stats.calls, rate, rate / base_rate))
    print(f"{'generator':<10} {'batch':>6} {'paths':>6} {'calls':>7} {'chains/s':>10} {'vs batch 1':>11}")
    for name, batch, paths, calls, rate, ratio in rows:
        print(f"{name:<10} {batch:>6} {paths:>6} {calls:>7} {rate:>10.1f} {ratio:>10.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
