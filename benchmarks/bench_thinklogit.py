"""Benchmark: wall time per generated token of guided decoding (ThinkLogit), the target alone, and a naive loop.

All three run the kit's one decoding loop (``longthink.thinklogit.guided.generate``) on the same prompts with EOS
ignored, so each decodes exactly ``--new-tokens`` per row: the target alone; ThinkLogit (target + guider - guider
base, three KV caches in lockstep); and the naive version that recomputes the whole prefix of all three models at
every step (no cache). Runs are interleaved and the median of ``--repeats`` is printed, with the load average
(the machine is shared: timings move with the load).

    .venv/bin/python benchmarks/bench_thinklogit.py --profile tiny --batch 1 32 128
    .venv/bin/python benchmarks/bench_thinklogit.py --random 192x3 96x2      # random weights of given sizes

With ``--profile``, the world's target and guider base are used, and the guider is the one trained by the
notebook (runs/<profile>/thinklogit/guider/model) when present, else a copy of the guider base (same cost).
"""

from __future__ import annotations

import argparse
import os
import sys


def _random_models(target: str, guider: str, vocab: int):
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    def build(spec: str, seed: int):
        hidden, layers = (int(x) for x in spec.lower().split("x"))
        torch.manual_seed(seed)
        heads = max(2, hidden // 32)
        config = Qwen2Config(vocab_size=vocab, hidden_size=hidden, intermediate_size=4 * hidden,
                             num_hidden_layers=layers, num_attention_heads=heads, num_key_value_heads=heads,
                             tie_word_embeddings=True, max_position_embeddings=1024)
        return Qwen2ForCausalLM(config).eval()

    return build(target, 0), build(guider, 1), build(guider, 2)


def _world_models(profile: str, runs: str):
    from pathlib import Path

    from longthink.models import load_causal_lm

    target, tok = load_causal_lm("world:target", profile=profile)
    base, _ = load_causal_lm("world:guider_base", profile=profile)
    trained = Path(runs) / profile / "thinklogit" / "guider" / "model"
    guider, _ = load_causal_lm(str(trained) if trained.is_dir() else "world:guider_base", profile=profile)
    return target, guider, base, tok, trained.is_dir()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="tiny", help="world profile whose models to time (default: tiny)")
    parser.add_argument("--runs", default="runs", help="where runs/<profile>/thinklogit lives")
    parser.add_argument("--random", nargs=2, metavar=("TARGET", "GUIDER"), help="random models, e.g. 192x3 96x2")
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 32, 128])
    parser.add_argument("--new-tokens", type=int, default=48)
    parser.add_argument("--prompt-tokens", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--no-naive", action="store_true", help="skip the naive no-cache loop")
    parser.add_argument("--parallel", action="store_true",
                        help="also time ThinkLogit with the guider+base forward in a worker thread")
    args = parser.parse_args(argv)

    import torch

    from longthink.env import configure
    from longthink.thinklogit.timing import time_decoding

    configure(args.profile)
    torch.set_num_threads(args.threads)
    if args.random:
        vocab = 400
        target, guider, base = _random_models(*args.random, vocab)
        prompt = list(range(3, 3 + args.prompt_tokens))
        eos, pad, label = [1], 0, f"random target {args.random[0]}, guider {args.random[1]}"
    else:
        target, guider, base, tok, trained = _world_models(args.profile, args.runs)
        from longthink.resolver import resolve_rows

        question = resolve_rows("world:by_difficulty", profile=args.profile)[-1]["question"]
        prompt = tok.apply_chat_template([{"role": "user", "content": question}], tokenize=False,
                                         add_generation_prompt=True)
        prompt = tok(prompt, add_special_tokens=False)["input_ids"]
        eos, pad = [tok.eos_token_id, tok.pad_token_id], tok.pad_token_id
        label = f"world ({args.profile}), guider {'trained' if trained else '= guider base copy'}"
    sizes = {n: sum(p.numel() for p in m.parameters()) for n, m in (("target", target), ("guider", guider))}
    print(f"# {label}; parameters: target {sizes['target']:,}, guider/base {sizes['guider']:,} each; "
          f"{args.new_tokens} new tokens, {len(prompt)} prompt tokens, torch threads {args.threads}, "
          f"median of {args.repeats}")
    header = f"{'batch':>5} {'target ms/tok':>14} {'guided ms/tok':>14} {'naive ms/tok':>13} {'guided/target':>14} " \
             f"{'naive/target':>13} {'parallel/target':>16} {'load':>5}"
    print(header)
    for batch in args.batch:
        r = time_decoding(target, guider, base, [prompt] * batch, eos_ids=eos, pad_id=pad, new_tokens=args.new_tokens,
                          repeats=args.repeats, naive=not args.no_naive, parallel=args.parallel)
        naive = r.get("naive_guided_s_per_token")
        print(f"{batch:>5} {1000 * r['target_s_per_token']:>14.3f} {1000 * r['guided_s_per_token']:>14.3f} "
              f"{(1000 * naive if naive else float('nan')):>13.3f} {r['overhead_ratio']:>14.2f} "
              f"{r.get('naive_ratio', float('nan')):>13.2f} {r.get('parallel_ratio', float('nan')):>16.2f} "
              f"{os.getloadavg()[0]:>5.1f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
