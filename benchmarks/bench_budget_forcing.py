"""Benchmark: budget-forcing wall time / plain generation time for the same number of generated tokens.

Budget forcing (``longthink.s1.budget_forcing.HFBackend``) feeds forced tokens ("Wait", the answer prefix) through
one continued KV cache; the reference is ``model.generate`` producing as many tokens (min = max new tokens) from
the same prompts in one batch. The naive alternative (stop at the delimiter, append Wait, re-encode the whole
text with a new ``generate`` call) is timed too. Prints one JSON line per setting; run it on an idle machine:

    .venv/bin/python benchmarks/bench_budget_forcing.py --profile tiny          # the s1 model of runs/tiny/s1/sft
    .venv/bin/python benchmarks/bench_budget_forcing.py --model path/to/model   # any causal LM folder
    .venv/bin/python benchmarks/bench_budget_forcing.py --random                # a random tiny Qwen2, no world

Timings are medians of interleaved repeats; `threads` and the load average are printed with them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys


def _random_model():
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    from longthink.text_world.tasks import sample_problems
    from longthink.tokenizer import build_tokenizer

    questions = [p.question for p in sample_problems(256, seed=0, difficulties=[3, 4, 5, 6])]
    tok = build_tokenizer([q + "\n<|im_start|>think\na:3+4=7\nWait, Answer: Final Answer:" for q in questions],
                          vocab_size=400)
    torch.manual_seed(0)
    cfg = Qwen2Config(vocab_size=len(tok), hidden_size=128, intermediate_size=512, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=4, tie_word_embeddings=True,
                      eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id, max_position_embeddings=1024)
    return Qwen2ForCausalLM(cfg).eval(), tok, questions


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profile", default="tiny")
    parser.add_argument("--model", default=None, help="a model folder (default: runs/<profile>/s1/sft/model)")
    parser.add_argument("--random", action="store_true", help="a random tiny Qwen2 instead of the s1 model")
    parser.add_argument("--batch", type=int, nargs="*", default=[16, 64, 200])
    parser.add_argument("--budgets", type=int, nargs="*", default=[32, 64])
    parser.add_argument("--waits", type=int, nargs="*", default=[0, 2, 4])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args(argv)
    for key, value in {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}.items():
        os.environ.setdefault(key, value)
    import torch

    from longthink.s1.budget_forcing import ForcingSettings
    from longthink.s1.overhead import measure_overhead

    if args.threads:
        torch.set_num_threads(args.threads)
    if args.random:
        model, tok, questions = _random_model()
    else:
        from longthink.models import load_causal_lm
        from longthink.s1.pipeline import eval_rows

        model, tok = load_causal_lm(args.model or f"runs/{args.profile}/s1/sft/model")
        questions = [r["question"] for r in eval_rows("hard", args.profile)]
    for batch in args.batch:
        qs = (questions * (1 + batch // len(questions)))[:batch]
        for budget in args.budgets:
            for waits in args.waits:
                settings = ForcingSettings(max_thinking_tokens=budget, num_ignore=waits, max_new_tokens=budget + 48,
                                           max_answer_tokens=16)
                r = measure_overhead(model, tok, qs, settings, repeats=args.repeats, naive=True)
                r.update(budget=budget, waits=waits, load=round(os.getloadavg()[0], 2))
                print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in r.items()}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
