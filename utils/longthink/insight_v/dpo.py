"""Iterative DPO on the reasoning agent (card §2.4), with stock TRL.

A round: sample ``chains_per_question`` chains per DPO question from the current reasoning agent (T 0.7, top-p
0.95); the summary agent answers each chain; the assessment judges the answer and scores the chain (the same judge
and scorer as data generation); pairs per question: chosen = the best-scoring chain whose answer is correct,
rejected = a wrong-answer chain (the lowest-scoring first), else the lowest-scoring chain when it scores below the
chosen one; a question without that contrast is skipped. Then ``DPOTrainer`` with ``loss_type=["sigmoid", "sft"]``
(DPO plus the NLL of the chosen chain, upstream's ``dpo_alpha`` / RPO; the card's stock-TRL equivalent), β 0.1, the
reference model being the policy at the start of the round; the next round starts from the result. Upstream's
record per pair is kept: ``{image, prompt, answer, chosen, rejected}``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from longthink.insight_v import agents
from longthink.insight_v.inference import extract_answer, summarise, write_chains
from longthink.insight_v.judge import JudgeItem
from longthink.insight_v.scorer import ScoreItem
from longthink.insight_v.steps import steps_of_chain
from longthink.insight_v.vlm import Sampling


def sample_candidates(reasoner: tuple, summary: tuple, questions: Sequence[dict], image_fn: Callable, *, judge,
                      scorer, k: int, reason_sampling: Sampling, summary_sampling: Sampling, suffix: str,
                      instruction: str, batch_size: int, seed: int) -> list[dict[str, Any]]:
    """``k`` chains per question from the reasoning agent, answered by the summary agent, judged and scored."""
    repeated = [q for q in questions for _ in range(k)]
    images = [image_fn(q) for q in repeated]
    chains = write_chains(*reasoner, repeated, image_fn, suffix=suffix, sampling=reason_sampling,
                          batch_size=batch_size, seed=seed, images=images)
    outs = summarise(*summary, repeated, chains, image_fn, instruction=instruction, sampling=summary_sampling,
                     batch_size=batch_size, seed=seed + 1, images=images)
    answers = [extract_answer(o) for o in outs]
    verdicts = judge.judge([JudgeItem(q["question"], q["answer"], a, q.get("kind"))
                            for q, a in zip(repeated, answers)])
    scores = scorer.score([ScoreItem(q, steps_of_chain(c)) for q, c in zip(repeated, chains)])
    return [{"question_id": q["id"], "sample": i % k, "chain": c, "answer": a, "correct": bool(ok), "score": int(s)}
            for i, (q, c, a, ok, s) in enumerate(zip(repeated, chains, answers, verdicts, scores))]


def build_pairs(candidates: Sequence[dict[str, Any]], *, pairs_per_question: int = 1) -> tuple[list[dict], dict]:
    """Preference pairs (chosen = best correct, rejected = wrong or lowest) and how many questions gave one."""
    by_q: dict[str, list[dict]] = defaultdict(list)
    for c in candidates:
        by_q[c["question_id"]].append(c)
    pairs, counts = [], {"questions": len(by_q), "with_pair": 0, "no_correct": 0, "no_contrast": 0}
    for qid, group in by_q.items():
        right = sorted((c for c in group if c["correct"]), key=lambda c: (-c["score"], c["sample"]))
        if not right:
            counts["no_correct"] += 1
            continue
        wrong = sorted((c for c in group if not c["correct"]), key=lambda c: (c["score"], c["sample"]))
        lows = sorted((c for c in right[1:] if c["score"] < right[0]["score"]), key=lambda c: (c["score"], c["sample"]))
        made = 0
        for chosen, rejected in zip(right, [*wrong, *lows]):
            if made >= pairs_per_question:
                break
            if chosen["chain"] == rejected["chain"]:
                continue
            pairs.append({"question_id": qid, "chosen": chosen["chain"], "rejected": rejected["chain"],
                          "chosen_score": chosen["score"], "rejected_score": rejected["score"],
                          "rejected_correct": rejected["correct"]})
            made += 1
        if made:
            counts["with_pair"] += 1
        else:
            counts["no_contrast"] += 1
    return pairs, counts


def pair_rows(pairs: Sequence[dict], questions: dict[str, dict], image_fn: Callable, *, suffix: str) -> list[dict]:
    """TRL preference rows (conversational, one image each)."""
    rows = []
    for p in pairs:
        q = questions[p["question_id"]]
        rows.append({"images": [image_fn(q)],
                     "prompt": [{"role": "user", "content": agents.reason_text(q["question"], suffix)}],
                     "chosen": [{"role": "assistant", "content": p["chosen"]}],
                     "rejected": [{"role": "assistant", "content": p["rejected"]}]})
    return rows


def record(pairs: Sequence[dict], questions: dict[str, dict], *, suffix: str) -> list[dict]:
    """Upstream's record per pair: ``{image, prompt, answer, chosen, rejected}`` (the image as its question id)."""
    return [{"image": p["question_id"], "prompt": agents.reason_text(questions[p["question_id"]]["question"], suffix),
             "answer": questions[p["question_id"]]["answer"], "chosen": p["chosen"], "rejected": p["rejected"]}
            for p in pairs]


def train_round(*, policy: str | Path, rows: Sequence[dict], stage, out_dir: Path, seed: int,
                freeze_vision: bool = True, dtype: str = "float32") -> dict:
    """One DPO round with TRL's DPOTrainer; the reference is the policy as it starts the round."""
    import torch
    from datasets import Dataset
    from trl import DPOTrainer

    from longthink.insight_v.vlm import freeze_vision_tower
    from longthink.models import load_vlm
    from longthink.runs import set_seed
    from longthink.training import check_trained, trainer_config

    if not rows:
        raise ValueError("DPO got no preference pairs: no question had a correct chain and a contrasting one "
                         "(more chains per question or more DPO questions needed)")
    set_seed(seed)
    model, processor = load_vlm(str(policy), dtype=getattr(torch, dtype))
    ref, _ = load_vlm(str(policy), dtype=getattr(torch, dtype))
    if freeze_vision:
        freeze_vision_tower(model)
    model.train()
    args = trainer_config(stage, out_dir / "trainer", seed=seed)
    trainer = DPOTrainer(model=model, ref_model=ref, args=args, train_dataset=Dataset.from_list(list(rows)),
                         processing_class=processor)
    result = trainer.train()
    check_trained(stage.name, steps=result.global_step, loss=result.training_loss)
    trainer.save_model(str(out_dir / "model"))
    processor.save_pretrained(str(out_dir / "model"))
    history = [{k: h[k] for k in ("step", "loss", "rewards/accuracies", "rewards/margins") if k in h}
               for h in trainer.state.log_history if "loss" in h]
    return {"train_loss": float(result.training_loss), "steps": int(result.global_step), "pairs": len(rows),
            "history": history, "seconds": round(float(result.metrics.get("train_runtime", 0.0)), 2)}
