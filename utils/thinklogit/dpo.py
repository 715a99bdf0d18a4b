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


def build_pairs(samples: dict[str, list], *, combos: list[str], max_pairs: int, balance: bool, seed: int,
                eos_token: str = "") -> tuple[list[dict], dict]:
    """Preference pairs from graded rollouts ``{source: [Sample, ...]}``; returns (pairs, counts per combo).

    A pair is ``{"prompt", "chosen", "rejected", "combo", "question_id"}`` with chosen correct and rejected
    incorrect on the same problem. The completion text is the scored text plus EOS when the rollout ended there.
    """
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
            for c in by_q[qid][good][True]:
                for r in by_q[qid][bad][False]:
                    pool.append({"prompt": c.prompt, "chosen": _completion(c, eos_token),
                                 "rejected": _completion(r, eos_token), "combo": combo, "question_id": qid})
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


def train_dpo(*, guider_path: str | Path, pairs: list[dict], stage, out_dir: Path, seed: int) -> dict:
    """DPO with a LoRA adapter on the guider; the merged model is saved to ``out_dir/model``."""
    from datasets import Dataset
    from peft import LoraConfig
    from trl import DPOTrainer

    from longthink.models import load_causal_lm, save_pretrained
    from longthink.runs import set_seed
    from longthink.training import set_offline_env, trainer_config

    if not pairs:
        raise ValueError("DPO got no preference pairs: no problem had both a correct and an incorrect rollout "
                         "(more rollouts per source or more prompts needed)")
    set_offline_env()
    set_seed(seed)
    model, tokenizer = load_causal_lm(str(guider_path))
    model.train()
    kit = stage.kit
    lora = LoraConfig(r=kit.lora_r, lora_alpha=kit.lora_alpha, lora_dropout=kit.lora_dropout,
                      target_modules=kit.lora_target_modules, task_type="CAUSAL_LM")
    train = Dataset.from_list([{k: p[k] for k in ("prompt", "chosen", "rejected")} for p in pairs])
    args = trainer_config(stage, out_dir / "trainer", seed=seed)
    trainer = DPOTrainer(model=model, args=args, train_dataset=train, processing_class=tokenizer, peft_config=lora)
    result = trainer.train()
    trainable = sum(p.numel() for p in trainer.model.parameters() if p.requires_grad)
    merged = trainer.model.merge_and_unload()
    merged.eval()
    save_pretrained(merged, tokenizer, out_dir / "model")
    history = [{k: h[k] for k in ("step", "loss", "rewards/accuracies", "rewards/margins") if k in h}
               for h in trainer.state.log_history if "loss" in h]
    return {"train_loss": result.training_loss, "steps": result.global_step, "pairs": len(pairs),
            "trainable_parameters": trainable, "seconds": round(result.metrics.get("train_runtime", 0.0), 2),
            "history": history}
