"""Pretraining the world's base models from scratch: a Qwen2 built from config, a plain AdamW loop on CPU.

The data is generated on the fly, one kind per batch (``BATCH_KINDS``): chat-format short answers (a hurried pass:
at most ``short_steps`` ``f+4:3=7`` lines, ``...`` when the chain is longer, then ``Answer:`` and the value reached)
for questions of every difficulty, and run drills (``Mix 3:f+4,g*3,h-2. Run:5.`` -> the whole chain from 5,
``f+4:5=9`` ..., written in one of the long styles' surfaces: ``teacher.RUN_SURFACES``). In chat no base model ever writes more than ``short_steps`` steps or a thinking block: long
reasoning in chat arrives only through the papers' own fine-tunes (s1's SFT, ThinkLogit's guider). Run drills are
what makes reading every chain position saturate in the build's budget (notes/cpu-calibration.md: single-step
drills alone left the base models 30-50% right after 900 steps; see recipes/world.yaml for the measured mix). Each batch
holds one difficulty, so sequences in a batch have nearly the same length (little padding); the loss covers the
assistant turn only.

**Trained to saturation, checked.** A fixed step count leaves the base skills wherever a build's luck put them: they
arrive late and suddenly, at a step that moves with the seed (with one recipe, the guider base of world seed 1
read chain position 5 right 0.27 of the time after its 2,000 scheduled steps and every position right at 3,400,
while that of seed 0 was saturated at 2,000). So past ``max_steps`` the build works dev chains every
``saturation_every`` steps (``saturation_check``: whole run drills read and answered right, chat answers right)
and trains on at the schedule's floor rate until they reach ``saturation_target``, or until
``saturation_max_steps``; the checks are recorded in the build's result, so a build that hit its cap says so.

A plain loop rather than a TRL trainer: this is pretraining from scratch, where the only goal
is speed on a CPU (the papers' stages use TRL).
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence

from longthink.text_world.tasks import check_difficulty, make_problem
from longthink.text_world.teacher import run_drill, short_completion

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


BATCH_KINDS = ("short", "run")


def training_pairs(rng: random.Random, *, n: int, difficulty: int, domains: Sequence[str], kind: str = "short",
                   exclude: frozenset[str] = frozenset(), short_steps: int = 3) -> list[tuple[str, str]]:
    """``n`` (question, completion) pairs of one difficulty and one ``kind`` (a key of ``BATCH_KINDS``)."""
    if kind not in BATCH_KINDS:
        raise ValueError(f"unknown pretraining batch kind {kind!r}; known: {list(BATCH_KINDS)}")
    pairs = []
    while len(pairs) < n:
        p = make_problem(rng, domain=rng.choice(list(domains)), difficulty=difficulty)
        if p.question in exclude:
            continue
        pairs.append(run_drill(p, rng, short_steps=short_steps) if kind == "run"
                     else (p.question, short_completion(p, short_steps=short_steps)))
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


def lm_loss(logits, labels, *, label_smoothing: float = 0.0):
    """Next-token cross-entropy over the labelled positions, with optional label smoothing.

    Why smoothing: a model trained to zero loss puts the tokens it never predicts at arbitrary, very low logits,
    and two such models disagree there by many nats; ThinkLogit adds ``guider - guider base`` to the target's raw
    logits, so those tails became noise that sampled garbage tokens even on one-step chains (probe: ThinkLogit 0.86
    at difficulty 1 against the target's 1.00). With smoothing every saturated prediction converges to the same
    shape (the right token ``log((1 - e + e/V) / (e/V))`` nats above a flat tail), so the target and the guider base
    cancel where both are sure, and the guider's delta carries only what its fine-tune changed.
    """
    import torch.nn.functional as F

    shift_logits = logits[:, :-1, :].float()
    shift_labels = labels[:, 1:]
    return F.cross_entropy(shift_logits.reshape(-1, shift_logits.shape[-1]), shift_labels.reshape(-1),
                           ignore_index=IGNORE, label_smoothing=label_smoothing)


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
    from longthink.training import cosine_schedule, train_to_saturation

    opt = torch.optim.AdamW(model.parameters(), lr=settings.learning_rate, betas=(0.9, 0.98),
                            weight_decay=settings.weight_decay)
    schedule = cosine_schedule(opt, warmup_steps=settings.warmup_steps, total_steps=settings.max_steps,
                               min_lr_ratio=MIN_LR_RATIO)
    model.train()
    losses: list[float] = []
    start = time.perf_counter()

    def train_step(step: int) -> None:
        kind = "run" if rng.random() < settings.run_share else "short"
        k = rng.choices(difficulties, weights=weights)[0] if kind == "short" else \
            rng.randint(min(settings.run_min_difficulty, max_difficulty), max_difficulty)
        ids, mask, labels = encode_batch(
            tokenizer, training_pairs(rng, n=settings.batch_size, difficulty=k, domains=domains, kind=kind,
                                      exclude=exclude, short_steps=settings.short_steps)
        )
        loss = lm_loss(model(input_ids=ids, attention_mask=mask).logits, labels,
                       label_smoothing=settings.label_smoothing)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step < settings.max_steps:  # past the schedule's end the rate stays at its floor (MIN_LR_RATIO)
            schedule.step()
        losses.append(loss.item())

    bar = tqdm(range(settings.max_steps), desc=desc, disable=not progress, leave=False)
    for step in bar:
        train_step(step)
        if step % 25 == 0:
            bar.set_postfix(loss=f"{sum(losses[-25:]) / len(losses[-25:]):.3f}")
    # Train to saturation: past max_steps, work dev chains every saturation_every steps and stop once they are read
    # and answered right saturation_target of the time (saturation_check), or at saturation_max_steps (the cap).
    checks = train_to_saturation(
        train_step,
        lambda: saturation_check(model, tokenizer, settings, max_difficulty=max_difficulty, domains=domains,
                                 seed=seed, exclude=exclude),
        start=settings.max_steps, every=settings.saturation_every, cap=settings.saturation_max_steps,
        on_check=(lambda c: bar.write(f"{desc}: saturation check {c}")) if progress else None)
    seconds = time.perf_counter() - start
    model.eval()
    tail = losses[-50:] or [float("nan")]
    return {
        "steps": len(losses),
        "seconds": round(seconds, 2),
        "steps_per_second": round(len(losses) / max(seconds, 1e-9), 2),
        "final_loss": round(sum(tail) / len(tail), 4),
        "parameters": sum(p.numel() for p in model.parameters()),
        "saturation_checks": checks,
        "saturated": checks[-1]["passed"] if checks else None,  # None: no check asked for
    }


def run_tokens(difficulty: int) -> int:
    """Room for a whole run drill of ``difficulty`` operations in its longest surface (s1's stepwise pass: a step,
    ``...`` and ``Wait`` per operation past the hurried pass, up to four checks of the last step, the answer)."""
    return 20 * difficulty + 16


def saturation_check(model, tokenizer, settings, *, max_difficulty: int, domains: Sequence[str], seed: int,
                     exclude: frozenset[str] = frozenset()) -> dict:
    """Greedy reading on ``settings.saturation_n`` dev chains, drawn apart from the training stream and the
    evaluation sets, in both contexts the model is trained in: whole run drills (``Q Run:<start>.``) of the hardest
    difficulty, read per chain position (``read``: ``text_world.diagnosis.read_accuracy``) and answered right
    (``run``: every step read and computed right), and chat questions of ``short_steps`` operations, whose hurried
    pass works the whole chain (``chat``: the share answered right; a model can work run drills right and still
    slip in chat). ``passed`` when every position, ``run`` and ``chat`` reach ``settings.saturation_target``."""
    import torch

    from longthink.generation import generate
    from longthink.text_world.diagnosis import parse_output, read_accuracy
    from longthink.text_world.tasks import sample_problems

    started = time.perf_counter()
    n = settings.saturation_n
    dev_seed = 7_919 + seed  # never the training stream's seed (``seed``) nor the showcase's reading sample
    runs = sample_problems(n, seed=dev_seed, difficulties=[max_difficulty], domains=domains, exclude=exclude)
    k_chat = min(settings.short_steps, max_difficulty)
    chats = sample_problems(n, seed=dev_seed + 1, difficulties=[k_chat], domains=domains, exclude=exclude)
    rng = random.Random(dev_seed)
    model.eval()
    try:
        with torch.no_grad():
            run_texts = generate(model, tokenizer, [run_drill(p, rng, x=p.start)[0] for p in runs],
                                 max_new_tokens=run_tokens(max_difficulty), batch_size=n).texts
            chat_texts = generate(model, tokenizer, [p.question for p in chats],
                                  max_new_tokens=run_tokens(k_chat), batch_size=n).texts
    finally:
        model.train()
    read = {k: round(v["inputs"], 4) for k, v in read_accuracy(runs, run_texts).items()}
    worst = min(read.get(k, 0.0) for k in range(1, max_difficulty + 1))
    run = sum(parse_output(t).answer == p.answer for p, t in zip(runs, run_texts, strict=True)) / n
    chat = sum(parse_output(t).answer == p.answer for p, t in zip(chats, chat_texts, strict=True)) / n
    return {"read": read, "read_min": worst, "run": round(run, 4), "chat": round(chat, 4),
            "passed": min(worst, run, chat) >= settings.saturation_target,
            "seconds": round(time.perf_counter() - started, 1)}
