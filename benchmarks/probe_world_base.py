"""Probe (issue 12): one world base model built with the kit's own pretraining code and a changed stage, read back.

Builds (or reuses) the world tokenizer of the profile in $LONGTHINK_CACHE, trains one model of recipes/world.yaml
(``--name``) with ``--set key=value`` changes to its stage, saves it under ``--out``, then reads it back, greedy on
fresh questions that no evaluation set holds: short-style accuracy in chat by difficulty, and whole run drills
(``Q Run:<start>.`` and ``Q Run:<another value>.``) with read accuracy per chain position (``text_world.diagnosis``). Prints JSON and appends it to ``--log``. Budgets are steps, not minutes.

    .venv/bin/python benchmarks/probe_world_base.py --name instruct --set max_steps=3000 --set run_share=0.6
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import time
from pathlib import Path

from longthink.text_world.tasks import sample_problems
from longthink.text_world.teacher import run_drill, short_completion


def _value(text: str):
    if isinstance(text, str) and text.lower() in ("true", "false"):
        return text.lower() == "true"
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    if text.startswith("["):
        return json.loads(text)
    return text


def read_back(model, tok, *, n: int = 200, seed: int = 4242) -> dict:
    """Short-style accuracy by difficulty, run-drill read accuracy per position, step-drill accuracy per position."""
    import torch

    from longthink.generation import generate
    from longthink.grading import grade
    from longthink.text_world import diagnosis as dg

    def gen(prompts, max_new):
        with torch.no_grad():
            return generate(model, tok, prompts, max_new_tokens=max_new, batch_size=100).texts

    out = {}
    probs5 = sample_problems(n, seed=seed, difficulties=[5])
    rng = random.Random(seed)
    for name, start in (("run", "own"), ("run_other", "other")):
        runs = [run_drill(p, rng, x=p.start if start == "own" else (p.start + 1 + rng.randrange(9)) % 10)
                for p in probs5]
        texts = gen([q for q, _ in runs], 64)
        shifted = [type(p)(p.domain, int(q.rsplit(":", 1)[1].rstrip(".")), p.ops) for p, (q, _) in zip(probs5, runs)]
        read = dg.read_accuracy(shifted, texts)
        out[f"{name}_read"] = {k: round(v["inputs"], 3) for k, v in read.items()}
        out[f"{name}_exact"] = sum(t.strip() == c for t, (_, c) in zip(texts, runs)) / n
        out[f"sample_{name}"] = texts[0]
    short, exact = {}, {}
    for k in range(1, 6):
        ps = sample_problems(100, seed=seed + k, difficulties=[k])
        texts_k = gen([p.question for p in ps], 40)
        short[k] = sum(grade(t, p.answer) for t, p in zip(texts_k, ps)) / len(ps)
        exact[k] = sum(t.strip() == short_completion(p) for t, p in zip(texts_k, ps)) / len(ps)
    out["short_acc"], out["short_exact"] = short, exact
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--name", default="instruct", choices=["instruct", "target", "guider_base"])
    ap.add_argument("--profile", default="tiny")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a world.model stage field")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=None, help="save the model here")
    ap.add_argument("--log", default=None)
    ap.add_argument("--read", default=None, help="only read back this saved model folder (no training)")
    args = ap.parse_args(argv)
    if args.read:
        import torch

        from longthink.models import load_causal_lm

        torch.set_num_threads(1)
        model, tok = load_causal_lm(args.read)
        res = {"read": args.read, **read_back(model, tok)}
        print(json.dumps(res))
        if args.log:
            with open(args.log, "a") as fh:
                fh.write(json.dumps(res) + "\n")
        return 0

    import torch

    from longthink.text_world.models import _SEED_OFFSETS, _eval_questions, tokenizer_path
    from longthink.text_world.pretrain import build_model, pretrain
    from longthink.text_world.settings import world_settings
    from longthink.tokenizer import load_tokenizer

    torch.set_num_threads(1)
    s = world_settings(args.profile, args.seed)
    tasks = s.stage("tasks").kit
    changes = dict(item.split("=", 1) for item in args.set)
    stage = dataclasses.replace(s.stage(args.name).kit, **{k: _value(v) for k, v in changes.items()})
    tok = load_tokenizer(tokenizer_path(args.profile, args.seed))
    model_seed = s.seed * 1000 + _SEED_OFFSETS[args.name]  # as the world build seeds it
    model = build_model(stage, tok, seed=model_seed)
    t0 = time.perf_counter()
    stats = pretrain(model, tok, stage, max_difficulty=tasks.max_difficulty, domains=tasks.domains,
                     seed=model_seed, exclude=_eval_questions(args.profile, args.seed), progress=True,
                     desc=args.name)
    if args.out:
        Path(args.out).mkdir(parents=True, exist_ok=True)
        model.save_pretrained(args.out)
        tok.save_pretrained(args.out)
    res = {"name": args.name, "changes": changes, **stats, "wall": round(time.perf_counter() - t0, 1),
           **read_back(model, tok)}
    print(json.dumps(res, indent=1))
    if args.log:
        with open(args.log, "a") as fh:
            fh.write(json.dumps(res) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
