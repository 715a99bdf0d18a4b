"""Stage schemas of the tiny world's recipe (``recipes/world.yaml``): tasks, tokenizer, pool, eval sets, models."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from longthink.config import Bounds, Fraction, NonNegativeFloat, Positive, PositiveFloat, stage_schema


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
    """The s1-style pool: questions with teacher traces (the 59K pool analog)."""

    pool_size: Positive = 20000
    p_recheck: Fraction = 0.35
    p_final_check: Fraction = 0.25
    max_final_checks: Positive = 1
    final_check_decay: Annotated[float, Bounds(lo=0, hi=1, lo_open=True)] = 1.0
    p_final_misread: Fraction = 0.0
    p_wrong_base: Fraction = 0.05
    p_wrong_per_step: Fraction = 0.06
    p_garbled: Fraction = 0.08
    recheck_surface: str = "own_line"  # a key of longthink.text_world.teacher.RECHECK_SURFACES


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
    drill_share: Fraction = 0.2  # batches of step drills (one step anywhere in a question, from a given value)
    short_steps: Positive = 3  # explicit steps in its short reasoning; longer chains: "..." then the answer
    difficulty_weights: list[float] = field(default_factory=list)  # empty = uniform over 1..max_difficulty
    threads: int = 1  # on a shared 2-core CPU one thread wastes less time in synchronisation
