"""Pretraining the world's base models from scratch: a Qwen2 built from config, a plain AdamW loop on CPU.

The data is generated on the fly: chat-format short-reasoning answers (at most ``short_steps`` ``f+4:3=7`` lines,
``...`` when the chain is longer, then ``Answer: 9``) for questions of every difficulty, plus step drills: one step at any position of a question, from a
given value (``Mix 3:f+4,g*3,h-2. Apply h to 6.`` -> ``h-2:6=4``). No model here ever sees a long chain written out or a thinking block: long reasoning arrives only through the papers' own fine-tunes (s1's SFT, ThinkLogit's
guider). Each batch holds one difficulty, so sequences in a batch have nearly the same length (little padding);
the loss covers the assistant turn only. A plain loop rather than a TRL trainer: this is pretraining from
scratch, where the only goal is speed on a CPU (the papers' stages use TRL).
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence

from longthink.text_world.tasks import check_difficulty, make_problem
from longthink.text_world.teacher import short_completion, step_drill

IGNORE = -100
MIN_LR_RATIO = 0.1  # the cosine decays to 10% of the peak learning rate


def prompt_text(question: str) -> str:
    """The chat prompt every world model reads (the world template with ``add_generation_prompt=True``)."""
    return f"<|im_start|>user\n{question}<|im_end|>\n<|im_start|>assistant\n"


def build_model(settings, tokenizer, *, seed: int):
    """A fresh Qwen2ForCausalLM sized by a ``world.model`` stage."""
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    torch.manual_seed(seed)
    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=settings.hidden_size,
        intermediate_size=settings.intermediate_factor * settings.hidden_size,
        num_hidden_layers=settings.num_hidden_layers,
        num_attention_heads=settings.num_attention_heads,
        num_key_value_heads=settings.num_key_value_heads,
        tie_word_embeddings=True,
        max_position_embeddings=1024,
        rope_parameters={"rope_type": "default", "rope_theta": 10000.0},
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=None,
    )
    model = Qwen2ForCausalLM(config)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.bos_token_id = None
    return model


def training_pairs(rng: random.Random, *, n: int, difficulty: int, domains: Sequence[str], drill: bool = False,
                   exclude: frozenset[str] = frozenset(), short_steps: int = 3) -> list[tuple[str, str]]:
    """``n`` (question, completion) pairs of one difficulty: short-reasoning answers, or step drills."""
    pairs = []
    while len(pairs) < n:
        p = make_problem(rng, domain=rng.choice(list(domains)), difficulty=difficulty)
        if drill:
            pairs.append(step_drill(p, rng))
        elif p.question not in exclude:
            pairs.append((p.question, short_completion(p, short_steps=short_steps)))
    return pairs


def encode_batch(tokenizer, pairs: list[tuple[str, str]]):
    """Right-padded ``input_ids``, ``attention_mask`` and ``labels`` (-100 outside the assistant turn)."""
    import torch

    prompts = tokenizer([prompt_text(q) for q, _ in pairs], add_special_tokens=False)["input_ids"]
    answers = tokenizer([c + tokenizer.eos_token for _, c in pairs], add_special_tokens=False)["input_ids"]
    length = max(len(p) + len(a) for p, a in zip(prompts, answers, strict=True))
    ids = torch.full((len(pairs), length), tokenizer.pad_token_id, dtype=torch.long)
    labels = torch.full((len(pairs), length), IGNORE, dtype=torch.long)
    mask = torch.zeros((len(pairs), length), dtype=torch.long)
    for i, (p, a) in enumerate(zip(prompts, answers, strict=True)):
        seq = p + a
        ids[i, : len(seq)] = torch.tensor(seq)
        labels[i, len(p) : len(seq)] = torch.tensor(a)
        mask[i, : len(seq)] = 1
    return ids, mask, labels


def pretrain(model, tokenizer, settings, *, max_difficulty: int, domains: Sequence[str], seed: int,
             exclude: frozenset[str] = frozenset(), progress: bool = True, desc: str = "pretrain") -> dict:
    """Train ``model`` in place for ``settings.max_steps`` steps (``settings.threads`` torch threads, restored
    afterwards); returns timing and loss figures."""
    from longthink.training import torch_threads

    with torch_threads(max(1, settings.threads)):
        return _pretrain(model, tokenizer, settings, max_difficulty=max_difficulty, domains=domains, seed=seed,
                         exclude=exclude, progress=progress, desc=desc)


def _pretrain(model, tokenizer, settings, *, max_difficulty: int, domains: Sequence[str], seed: int,
              exclude: frozenset[str], progress: bool, desc: str) -> dict:
    import torch
    from tqdm.auto import tqdm

    rng = random.Random(seed)
    check_difficulty(max_difficulty)
    weights = list(settings.difficulty_weights) or [1.0] * max_difficulty
    if len(weights) != max_difficulty:
        raise ValueError(f"difficulty_weights has {len(weights)} entries, expected max_difficulty={max_difficulty}")
    difficulties = list(range(1, max_difficulty + 1))
    from longthink.training import cosine_schedule

    opt = torch.optim.AdamW(model.parameters(), lr=settings.learning_rate, betas=(0.9, 0.98),
                            weight_decay=settings.weight_decay)
    schedule = cosine_schedule(opt, warmup_steps=settings.warmup_steps, total_steps=settings.max_steps,
                               min_lr_ratio=MIN_LR_RATIO)
    model.train()
    losses: list[float] = []
    start = time.perf_counter()
    bar = tqdm(range(settings.max_steps), desc=desc, disable=not progress, leave=False)
    for step in bar:
        drill = rng.random() < settings.drill_share
        k = rng.randint(1, max_difficulty) if drill else rng.choices(difficulties, weights=weights)[0]
        ids, mask, labels = encode_batch(
            tokenizer, training_pairs(rng, n=settings.batch_size, difficulty=k, domains=domains, drill=drill,
                                      exclude=exclude, short_steps=settings.short_steps)
        )
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        schedule.step()
        losses.append(loss.item())
        if step % 25 == 0:
            bar.set_postfix(loss=f"{sum(losses[-25:]) / len(losses[-25:]):.3f}")
    seconds = time.perf_counter() - start
    model.eval()
    tail = losses[-50:] or [float("nan")]
    return {
        "steps": settings.max_steps,
        "seconds": round(seconds, 2),
        "steps_per_second": round(settings.max_steps / max(seconds, 1e-9), 2),
        "final_loss": round(sum(tail) / len(tail), 4),
        "parameters": sum(p.numel() for p in model.parameters()),
    }
