"""Probe: how surely the base VLM writes each step of a *whole* several-step chain, teacher-forced on the gold chain.

For dev examples of the counting kinds, the gold long reply is fed in full and, at each token the chain's structure
fixes, the model's probability of the gold token and whether it is the argmax are read, by token role: a walk's
yes/no mark, a running tally after an object or an empty cell, the ``count`` value, a comparison or sum's result, the
answer. Greedy decoding copies what the argmax says; sampling at T = 1 (GRPO's rollouts) pays the missing mass at
every one of a chain's ~20 such tokens, so a role at 0.9 per token already spoils most sampled chains.

    LONGTHINK_CACHE=<world built> python benchmarks/probe_vlm_long_chain.py --seed 0 --n 40
"""

from __future__ import annotations

import argparse
import re
from collections import defaultdict


def roles(tokens: list[str]) -> list[str | None]:
    """A role per reply token (None for tokens the structure does not fix on its own). A two-count walk's lines end
    in two tallies (``-> 1 0``, ``a3 . 1 0``) and its count in two values (``count 1 0``): the second of each is
    its own role."""
    out: list[str | None] = [None] * len(tokens)
    for i, t in enumerate(tokens):
        prev = tokens[i - 1].strip() if i else ""
        prev2 = tokens[i - 2].strip() if i > 1 else ""
        w = t.strip()
        if w in ("yes", "no") and prev == "->" and prev2.isdigit():
            out[i] = "sum / comparison result"
        elif w in ("yes", "no") and prev == "->":
            out[i] = "combined mark"
        elif w in ("yes", "no") and re.fullmatch(r"[a-z]+", prev or "") and prev not in ("so",):
            out[i] = "attribute mark"
        elif w.isdigit() and (prev in ("yes", "no") and prev2 == "->" or prev == "->"):
            out[i] = "tally after object"
        elif w.isdigit() and prev == "." and re.fullmatch(r"[a-h][1-8]", prev2):
            out[i] = "tally after empty cell"
        elif w.isdigit() and prev == "count":
            out[i] = "count value"
        elif w.isdigit() and prev == "=":
            out[i] = "sum / comparison result"
        elif w.isdigit() and prev.isdigit() and prev2 == "->":
            out[i] = "second tally after object"
        elif w.isdigit() and prev.isdigit() and prev2 == ".":
            out[i] = "second tally after empty cell"
        elif w.isdigit() and prev.isdigit() and prev2 == "count":
            out[i] = "second count value"
    return out


def main() -> None:
    import torch

    from longthink.env import configure
    from longthink.resolver import resolve
    from longthink.vision_world.batches import encode_batch
    from longthink.vision_world.replies import reply
    from longthink.vision_world.scenes import generate_examples

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--profile", default="tiny")
    parser.add_argument("--n", type=int, default=40, help="dev examples per kind")
    parser.add_argument("--kinds", default="count_cond,compare_counts,count_arith")
    args = parser.parse_args()
    configure(args.profile)
    torch.set_num_threads(1)
    base = resolve("world-vision:base", profile=args.profile, seed=args.seed)
    from longthink.models import load_vlm

    model, processor = load_vlm(base.path)
    model.eval()
    tok = processor.tokenizer
    stats: dict[tuple[str, str], list[float]] = defaultdict(list)
    chains: dict[str, list[float]] = defaultdict(list)
    for kind in args.kinds.split(","):
        examples = generate_examples(args.n, seed=10_000 + args.seed, kinds=[kind])  # a stream the build never trains on
        for ex in examples:
            ex = dict(ex, reply=reply(ex, style="long"))
            batch = encode_batch(processor, [ex])
            labels = batch.pop("labels")[0]
            batch.pop("weights", None)
            with torch.no_grad():
                logits = model(**batch).logits[0, :-1].float()
            target = labels[1:]
            keep = target != -100
            probs = logits.softmax(-1)
            ids = target[keep]
            p_gold = probs[keep].gather(1, ids[:, None])[:, 0]
            top = probs[keep].argmax(-1) == ids
            tokens = tok.convert_ids_to_tokens(ids.tolist())
            joint = 1.0
            for role, p, t in zip(roles([tok.convert_tokens_to_string([x]) for x in tokens]), p_gold.tolist(), top.tolist()):
                if role:
                    stats[(kind, role)].append((p, t))
                joint *= p
            chains[kind].append(joint)
    print(f"{'kind':16} {'role':26} {'n':>5} {'mean p(gold)':>13} {'argmax right':>13}")
    for (kind, role), rows in sorted(stats.items()):
        print(f"{kind:16} {role:26} {len(rows):5d} {sum(p for p, _ in rows) / len(rows):13.3f} "
              f"{sum(t for _, t in rows) / len(rows):13.3f}")
    for kind, values in chains.items():
        print(f"{kind}: probability of sampling the whole gold reply at T = 1, median over {len(values)}: "
              f"{sorted(values)[len(values) // 2]:.3g}")


if __name__ == "__main__":
    main()
