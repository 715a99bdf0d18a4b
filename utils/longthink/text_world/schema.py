"""Stage schemas of the tiny world's recipe (``recipes/world.yaml``): tasks, tokenizer, pool, eval sets, models."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from longthink.config import Bounds, Fraction, NonNegative, NonNegativeFloat, Positive, PositiveFloat, stage_schema


@stage_schema("world.tasks")
@dataclass
class TasksStage:
    """Which problems exist: difficulties 1..max_difficulty (operations per chain) and the domains."""

    max_difficulty: Positive = 5
    domains: list[str] = field(default_factory=lambda: ["tally", "ledger", "scale", "drift", "mix"])


@stage_schema("world.tokenizer")
@dataclass
class TokenizerStage:
    """Byte-level BPE trained on a sample of world text (questions, short answers, long traces)."""

    vocab_size: Annotated[int, Bounds(lo=300)] = 400
    corpus_size: Positive = 3000


@stage_schema("world.pool")
@dataclass
class PoolStage:
    """The s1-style pool: questions with two teachers' traces (the 59K pool / s1K-1.1 analog).

    Every field but ``pool_size`` is a ``longthink.text_world.teacher.TeacherSettings`` field (what it does, and
    why these values, is said there and in recipes/world.yaml).
    """

    pool_size: Positive = 20000
    short_steps: Positive = 3
    p_rethink: Fraction = 0.2
    p_continue: Fraction = 0.25
    p_verify: Fraction = 0.3
    max_verify: NonNegative = 6
    p_garbled: Fraction = 0.08
    distill_p_merged: Fraction = 0.0
    merge_from: Positive = 1


@stage_schema("world.eval")
@dataclass
class EvalStage:
    """Held-out evaluation sets: n per difficulty (the MATH500 analog) and the hard set (the AIME analog)."""

    n_per_difficulty: Positive = 100
    hard_difficulties: list[int] = field(default_factory=lambda: [4, 5])
    n_hard: Positive = 200
    max_new_tokens: Positive = 64
    batch_size: Positive = 128


@stage_schema("world.model")
@dataclass
class ModelStage:
    """A Qwen2 built from config and pretrained from scratch on short-reasoning chat data + step drills."""

    hidden_size: Positive = 128
    num_hidden_layers: Positive = 2
    num_attention_heads: Positive = 4
    num_key_value_heads: Positive = 4
    intermediate_factor: Positive = 4
    max_steps: Positive = 800
    batch_size: Positive = 64
    learning_rate: PositiveFloat = 3.0e-3
    warmup_steps: int = 50
    weight_decay: NonNegativeFloat = 0.01
    run_share: Fraction = 0.5  # batches of run drills (a whole chain worked, from the start or another value)
    run_min_difficulty: Positive = 1  # run drills draw chains of this many operations or more
    label_smoothing: Fraction = 0.0  # cross-entropy label smoothing (see longthink.text_world.pretrain.lm_loss)
    short_steps: Positive = 3  # explicit steps in its short reasoning; longer chains: "..." then the answer
    difficulty_weights: list[float] = field(default_factory=list)  # empty = uniform over 1..max_difficulty
    threads: int = 1  # on a shared 2-core CPU one thread wastes less time in synchronisation
    # training to saturation (pretrain.saturation_check): past max_steps, every saturation_every steps at the
    # schedule's floor rate until saturation_n greedy dev chains are read right saturation_target of the time at
    # every chain position and answered right (run drills of the hardest difficulty), and answered right in chat
    # (short_steps operations), or until saturation_max_steps in all (0 or <= max_steps: no check, exactly max_steps)
    saturation_max_steps: int = 0
    saturation_every: Positive = 200
    saturation_target: Fraction = 0.98
    saturation_n: Positive = 100
