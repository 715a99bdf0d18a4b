"""Probe (issue 12): how many pretraining steps, and which data mix, saturate reading at every chain position?

Trains one world-sized Qwen2 from scratch with the kit's pretraining loop pieces (``encode_batch``, ``training.cosine_schedule``) on a
mix of: chat questions answered in the short style (at most 3 steps, ``...``, then the last value reached), single
step drills (``Q From:h=6.`` -> ``h-2:6=4``) and run drills (``Q Run:h=6.`` -> the steps from h to the end of the
question, then the answer). Then, greedy on fresh difficulty-5 questions: read accuracy per position of a full run
(``Run:`` from the first label and the start value), single-drill accuracy per position, and short-style accuracy
by difficulty. Prints JSON. Budgets are in steps (the machine is shared).

    .venv/bin/python benchmarks/probe_world_pretrain.py --hidden 96 --layers 2 --steps 1500 --mix 0.4,0.3,0.3
"""

from __future__ import annotations

import argparse
import json
import random
import time

from longthink.text_world.tasks import APPLY, MODULUS, make_problem, sample_problems
from longthink.text_world.teacher import step_line

DOMAINS = ["tally", "ledger", "scale", "drift", "mix"]


def short_last_value(p, short_steps=3):
    x, lines = p.start, []
    for (lab, op, d), y in list(zip(p.ops, p.values))[:short_steps]:
        lines.append(step_line(lab, x, op, d, y))
        x = y
    if p.difficulty > short_steps:
        lines.append("...")
    return "\n".join(lines) + f"\nAnswer: {x}"


def single_drill(p, rng):
    i = rng.randrange(p.difficulty)
    lab, op, d = p.ops[i]
    x = rng.randrange(MODULUS)
    y = APPLY[op](x, d)
    return f"{p.question} From:{lab}={x}.", f"{step_line(lab, x, op, d, y)}\nAnswer: {y}"


def run_drill(p, rng, *, window=0, start_at=None, x=None):
    i = rng.randrange(p.difficulty) if start_at is None else start_at
    x = rng.randrange(MODULUS) if x is None else x
    ops = p.ops[i:] if not window else p.ops[i:i + window]
    lab0 = p.ops[i][0]
    q = f"{p.question} Run:{lab0}={x}."
    lines = []
    for lab, op, d in ops:
        y = APPLY[op](x, d)
        lines.append(step_line(lab, x, op, d, y))
        x = y
    return q, "\n".join(lines) + f"\nAnswer: {x}"


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--hidden", type=int, default=96)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--mix", default="0.4,0.3,0.3", help="shares of short / single drill / run drill batches")
    ap.add_argument("--window", type=int, default=0, help="run drills: at most this many steps (0 = to the end)")
    ap.add_argument("--tokenizer", default=None,
                    help="a world tokenizer folder (default: the tiny world's, built for --seed on first use)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--eval-n", type=int, default=200)
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)

    import torch

    from longthink.text_world import diagnosis as dg
    from longthink.text_world.pretrain import MIN_LR_RATIO, encode_batch, prompt_text
    from longthink.training import cosine_schedule
    from longthink.tokenizer import load_tokenizer

    torch.set_num_threads(1)
    if args.tokenizer is None:
        from longthink.text_world.models import tokenizer_path

        args.tokenizer = str(tokenizer_path("tiny", args.seed))
    tok = load_tokenizer(args.tokenizer)
    from types import SimpleNamespace

    from longthink.text_world.pretrain import build_model

    cfg = SimpleNamespace(hidden_size=args.hidden, intermediate_factor=4, num_hidden_layers=args.layers,
                          num_attention_heads=4, num_key_value_heads=4)
    model = build_model(cfg, tok, seed=args.seed)
    shares = [float(s) for s in args.mix.split(",")]
    rng = random.Random(args.seed)
    evalq = {p.question for p in sample_problems(args.eval_n, seed=4242, difficulties=[5])}
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.98), weight_decay=0.01)
    schedule = cosine_schedule(opt, warmup_steps=50, total_steps=args.steps, min_lr_ratio=MIN_LR_RATIO)
    model.train()
    t0, losses = time.perf_counter(), []
    for step in range(args.steps):
        kind = rng.choices(["short", "single", "run"], weights=shares)[0]
        k = rng.randint(1, 5)
        pairs = []
        while len(pairs) < args.batch:
            p = make_problem(rng, domain=rng.choice(DOMAINS), difficulty=k)
            if p.question in evalq:
                continue
            if kind == "short":
                pairs.append((p.question, short_last_value(p)))
            elif kind == "single":
                pairs.append(single_drill(p, rng))
            else:
                pairs.append(run_drill(p, rng, window=args.window))
        ids, mask, labels = encode_batch(tok, pairs)
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        schedule.step()
        losses.append(loss.item())
        if step % 250 == 0:
            print(step, round(sum(losses[-50:]) / len(losses[-50:]), 4), round(time.perf_counter() - t0, 1), flush=True)
    seconds = time.perf_counter() - t0
    model.eval()

    def gen(prompts, max_new=64):
        tok.padding_side = "left"
        out = []
        for i in range(0, len(prompts), 100):
            enc = tok([prompt_text(q) for q in prompts[i:i + 100]], return_tensors="pt", padding=True,
                      add_special_tokens=False)
            with torch.no_grad():
                g = model.generate(**enc, do_sample=False, max_new_tokens=max_new, eos_token_id=tok.eos_token_id,
                                   pad_token_id=tok.pad_token_id)
            out += tok.batch_decode(g[:, enc["input_ids"].shape[1]:], skip_special_tokens=True)
        return out

    probs = sample_problems(args.eval_n, seed=4242, difficulties=[5])
    erng = random.Random(7)
    runs = [run_drill(p, erng, start_at=0, x=p.start) for p in probs]
    texts = gen([q for q, _ in runs], 80)
    read = dg.read_accuracy(probs, texts)
    run_acc = sum(t.strip().endswith(f"Answer: {p.answer}") for p, t in zip(probs, texts)) / len(probs)
    single = {}
    for pos in range(5):
        qs, golds = [], []
        for p in probs:
            lab, op, d = p.ops[pos]
            x = erng.randrange(MODULUS)
            qs.append(f"{p.question} From:{lab}={x}.")
            golds.append(step_line(lab, x, op, d, APPLY[op](x, d)))
        outs = gen(qs, 16)
        single[pos + 1] = sum(o.split("\n")[0].strip() == g for o, g in zip(outs, golds)) / len(qs)
    short = {}
    for k in range(1, 6):
        ps = sample_problems(100, seed=99 + k, difficulties=[k])
        outs = gen([p.question for p in ps], 48)
        short[k] = sum(o.strip() == short_last_value(p) for o, p in zip(outs, ps)) / len(ps)
    res = {"args": vars(args), "seconds": round(seconds, 1), "steps_per_s": round(args.steps / seconds, 2),
           "final_loss": round(sum(losses[-50:]) / 50, 4),
           "run_read_inputs": {k: round(v["inputs"], 3) for k, v in read.items()}, "run_answer_acc": run_acc,
           "single_drill": single, "short_exact": short, "sample": texts[0]}
    print(json.dumps(res, indent=1))
    if args.out:
        with open(args.out, "a") as fh:
            fh.write(json.dumps(res) + "\n")


if __name__ == "__main__":
    main()
