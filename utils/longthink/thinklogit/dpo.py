"""ThinkLogit-DPO: preference pairs from two sources of rollouts, then DPO on the guider with a LoRA adapter.

The card (section 2): rollouts on training problems from the guider alone and from the guided system, same
prompt and sampler, each labelled by its answer against gold (``longthink.grading``); pairs (chosen correct,
rejected incorrect) mixed across sources. Kit choices (the DPO code is not released): all correct x incorrect
combinations per problem in the kept (chosen source, rejected source) combinations, subsampled (balanced over the
combinations) to ``max_pairs``; TRL ``DPOTrainer`` with a peft LoRA adapter on the guider, the reference being the
adapter-disabled guider; only G is trained, B stays the guider base at decode time. The adapter is merged into
the weights after training, so decoding with the DPO guider costs the same as with the SFT guider.
"""

from __future__ import annotations

import random
from collections import defaultdict
from pathlib import Path


def parse_combo(combo: str) -> tuple[str, str]:
    parts = combo.split(">")
    if len(parts) != 2 or not all(parts):
        raise ValueError(f"a pair combination must read 'chosen_source>rejected_source', got {combo!r}")
    return parts[0], parts[1]


def _line_end(text: str, start: int) -> int:
    end = text.find("\n", start)
    return len(text) if end < 0 else end + 1


def cut_full(prompt: str, chosen: str, rejected: str, tokenizer=None) -> tuple[str, str, str]:
    """The whole rollouts (the card's pairs)."""
    return prompt, chosen, rejected


def cut_first_step(prompt: str, chosen: str, rejected: str, tokenizer=None) -> tuple[str, str, str]:
    """Step-DPO: the lines both rollouts share go into the prompt; chosen and rejected are the first line that differs.

    A whole rejected rollout also holds the steps written *after* its mistake, which are right given the mistake
    (``k+4:6=0`` then ``Answer: 0``); full-rollout DPO pushes those down too and teaches the guider to
    break steps it already gets right. Cut at the first differing line, the pair says only "this step, not that one".
    """
    same = 0
    for a, b in zip(chosen, rejected):
        if a != b:
            break
        same += 1
    start = chosen.rfind("\n", 0, same) + 1  # the start of the line where they part
    return prompt + chosen[:start], chosen[start:_line_end(chosen, start)], rejected[start:_line_end(rejected, start)]


def cut_first_token(prompt: str, chosen: str, rejected: str, tokenizer=None) -> tuple[str, str, str]:
    """The shared tokens go into the prompt; chosen and rejected are the first token where the rollouts part.

    Finer than :func:`cut_first_step`: a wrong step line (``k+4:6=0`` for ``k+9:6=5``) holds a wrong operand and
    then arithmetic that is right for it; only the operand is the mistake. Needs the tokenizer.
    """
    if tokenizer is None:
        raise ValueError("pair cut 'first_token' needs the tokenizer")
    a = tokenizer(chosen, add_special_tokens=False)["input_ids"]
    b = tokenizer(rejected, add_special_tokens=False)["input_ids"]
    same = 0
    for x, y in zip(a, b):
        if x != y:
            break
        same += 1
    head = tokenizer.decode(a[:same], skip_special_tokens=False)
    return (prompt + head, tokenizer.decode(a[same:same + 1], skip_special_tokens=False),
            tokenizer.decode(b[same:same + 1], skip_special_tokens=False))


# How much of a (correct, incorrect) pair of rollouts DPO sees (stages.rollouts.pair_cut).
PAIR_CUTS = {"full": cut_full, "first_step": cut_first_step, "first_token": cut_first_token}


def build_pairs(samples: dict[str, list], *, combos: list[str], max_pairs: int, balance: bool, seed: int,
                eos_token: str = "", cut: str = "full", tokenizer=None,
                per_question: int = 0) -> tuple[list[dict], dict]:
    """Preference pairs from graded rollouts ``{source: [Sample, ...]}``; returns (pairs, counts per combo).

    A pair is ``{"prompt", "chosen", "rejected", "combo", "question_id"}`` with chosen correct and rejected
    incorrect on the same problem. The completion text is the scored text plus EOS when the rollout ended there;
    ``cut`` (a key of ``PAIR_CUTS``) says how much of the two completions the pair keeps. With ``per_question``
    > 0, a problem gives at most that many distinct pairs per combination (a problem with 4 correct and 4 wrong
    rollouts otherwise gives 16 pairs, mostly the same correct text: DPO then learns those problems' operands).
    """
    if cut not in PAIR_CUTS:
        raise ValueError(f"unknown pair cut {cut!r}; known: {sorted(PAIR_CUTS)}")
    cutter = PAIR_CUTS[cut]
    by_q: dict[str, dict[str, dict[bool, list]]] = defaultdict(lambda: defaultdict(lambda: {True: [], False: []}))
    for source, rows in samples.items():
        for s in rows:
            by_q[s.question_id][source][bool(s.correct)].append(s)
    pools: dict[str, list[dict]] = {}
    for combo in combos:
        good, bad = parse_combo(combo)
        for name in (good, bad):
            if name not in samples:
                raise ValueError(f"pair combination {combo!r} names source {name!r}, which has no rollouts; "
                                 f"sources: {sorted(samples)}")
        pool = []
        for qid in sorted(by_q):
            mine = []
            for c in by_q[qid][good][True]:
                for r in by_q[qid][bad][False]:
                    prompt, chosen, rejected = cutter(c.prompt, _completion(c, eos_token), _completion(r, eos_token),
                                                      tokenizer)
                    mine.append({"prompt": prompt, "chosen": chosen, "rejected": rejected, "combo": combo,
                                 "question_id": qid})
            if per_question > 0:
                distinct = list({(p["prompt"], p["chosen"], p["rejected"]): p for p in mine}.values())
                random.Random(f"{seed}-{combo}-{qid}").shuffle(distinct)
                mine = distinct[:per_question]
            pool += mine
        pools[combo] = pool
    rng = random.Random(seed)
    for pool in pools.values():
        rng.shuffle(pool)
    available = {c: len(p) for c, p in pools.items()}
    if balance:
        chosen, share, left = [], {c: 0 for c in pools}, max_pairs
        active = [c for c in pools if pools[c]]
        while left > 0 and active:  # water-filling: equal shares, leftovers to combos with more pairs
            each = max(1, left // len(active))
            for c in list(active):
                take = min(each, len(pools[c]) - share[c], left)
                share[c] += take
                left -= take
                if share[c] >= len(pools[c]):
                    active.remove(c)
                if left <= 0:
                    break
        for c in pools:
            chosen += pools[c][: share[c]]
    else:
        chosen = [p for pool in pools.values() for p in pool]
        rng.shuffle(chosen)
        chosen = chosen[:max_pairs]
    rng.shuffle(chosen)
    counts = {c: sum(p["combo"] == c for p in chosen) for c in pools}
    return chosen, {"available": available, "kept": counts}


def _completion(sample, eos_token: str) -> str:
    return sample.text + (eos_token if sample.stop in ("eos", "repeat") else "")


def tokenize_pairs(pairs: list[dict], tokenizer) -> list[dict]:
    """``prompt_ids``/``chosen_ids``/``rejected_ids`` as decoding saw them (no special tokens added).

    The kit tokenizes the pairs itself because TRL appends EOS to every completion that does not end with one,
    which would teach a Step-DPO pair (one line, mid-output) to stop there. A completion carries EOS only when its
    rollout ended with it (``_completion``).
    """
    rows = []
    for p in pairs:
        prompt = tokenizer(p["prompt"], add_special_tokens=False)["input_ids"]
        row = {"prompt_ids": prompt}
        for key in ("chosen", "rejected"):
            ids = tokenizer(p["prompt"] + p[key], add_special_tokens=False)["input_ids"]
            if ids[:len(prompt)] != prompt:  # a token merged across the boundary: tokenize the completion alone
                ids = prompt + tokenizer(p[key], add_special_tokens=False)["input_ids"]
            row[f"{key}_ids"] = ids[len(prompt):]
        rows.append(row)
    return rows


def _trainer_class():
    from trl import DPOTrainer

    class PretokenizedDPOTrainer(DPOTrainer):
        """TRL's DPOTrainer fed rows that already hold token ids (see :func:`tokenize_pairs`)."""

        def _prepare_dataset(self, dataset, processing_class, args, dataset_name):
            if "prompt_ids" in dataset.column_names:
                return dataset
            return super()._prepare_dataset(dataset, processing_class, args, dataset_name)

    return PretokenizedDPOTrainer


def train_dpo(*, guider_path: str | Path, pairs: list[dict], stage, out_dir: Path, seed: int) -> dict:
    """DPO with a LoRA adapter on the guider; the merged model is saved to ``out_dir/model``."""
    from datasets import Dataset
    from peft import LoraConfig

    from longthink.models import load_causal_lm, save_pretrained
    from longthink.runs import set_seed
    from longthink.training import check_trained, trainer_config

    if not pairs:
        raise ValueError("DPO got no preference pairs: no problem had both a correct and an incorrect rollout "
                         "(more rollouts per source or more prompts needed)")
    set_seed(seed)
    model, tokenizer = load_causal_lm(str(guider_path))
    model.train()
    kit = stage.kit
    lora = LoraConfig(r=kit.lora_r, lora_alpha=kit.lora_alpha, lora_dropout=kit.lora_dropout,
                      target_modules=kit.lora_target_modules, task_type="CAUSAL_LM")
    train = Dataset.from_list(tokenize_pairs(pairs, tokenizer))
    args = trainer_config(stage, out_dir / "trainer", seed=seed)
    trainer = _trainer_class()(model=model, args=args, train_dataset=train, processing_class=tokenizer,
                               peft_config=lora)
    result = trainer.train()
    check_trained(stage.name, steps=result.global_step, loss=result.training_loss)
    trainable = sum(p.numel() for p in trainer.model.parameters() if p.requires_grad)
    merged = trainer.model.merge_and_unload()
    merged.eval()
    save_pretrained(merged, tokenizer, out_dir / "model")
    history = [{k: h[k] for k in ("step", "loss", "rewards/accuracies", "rewards/margins") if k in h}
               for h in trainer.state.log_history if "loss" in h]
    return {"train_loss": result.training_loss, "steps": result.global_step, "pairs": len(pairs),
            "trainable_parameters": trainable, "seconds": round(result.metrics.get("train_runtime", 0.0), 2),
            "history": history}
