"""Stage schemas of recipes/s1.yaml: curation, SFT (curated, ablations, token-conditional), evaluation, baselines.

Every key a recipe may set is a field here (kit keys) or, for trainer stages, a field of ``trl.SFTConfig``.
Kit choices the card marks as unknowns are fields, so a reader can change them in YAML.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Optional

from longthink.config import Bounds, NonNegativeFloat, Positive, PositiveFloat, stage_schema


@stage_schema("s1.curate")
@dataclass
class CurateStage:
    """The s1K funnel (curation.py) or, at paper scale, the released s1K when ``released`` is set."""

    pool: str = "world:pool"  # "world:pool" or a hub dataset id (the 59K pool, qfq/train)
    released: Optional[str] = None  # a released curated set (simplescaling/s1K-1.1): skips the funnel
    eval_sets: list[str] = field(default_factory=lambda: ["world:by_difficulty", "world:hard"])
    difficulty_models: list[str] = field(default_factory=lambda: ["world:guider_base", "world:instruct"])
    n_select: Positive = 1000
    ngram: Positive = 8
    seed_sources: list[str] = field(default_factory=list)  # paper: ["aime", "gpqa"]
    seed_min_length: int = 0  # paper: 5600 (MATH items longer than this are seeds)
    domain_key: str = "subject"
    diversity_seed: int = 42  # the paper set none (#71); the card's kit choice
    max_new_tokens: Positive = 32
    batch_size: Positive = 256
    threads: int = 0  # torch threads (0 = torch's default); 1 is fastest on a busy 2-core laptop


@stage_schema("s1.sft", trainer="sft")
@dataclass
class SFTStage:
    """SFT on one training set; TRL SFTConfig fields sit beside these kit keys."""

    model: str = "world:instruct"
    train_set: str = "curated_1k"
    thinking_column: str = "thinking_trajectories"  # s1.1: deepseek_thinking_trajectory
    attempt_column: str = "attempt"  # s1.1: deepseek_attempt
    control: str = "none"  # "token": token-conditional control (user turn ends "Think for up to N tokens.")
    system_prompt: Optional[str] = None  # None: the chat template's default (Qwen adds its own)
    pad_token: Optional[str] = None  # set on the tokenizer before training (s1: <|fim_pad|>, never the EOS)
    threads: int = 0  # torch threads (0 = torch's default)


@stage_schema("s1.ablations")
@dataclass
class AblationStage:
    """Table 2: the same SFT (settings of ``base_stage``) on other 1K selections and on the full pool."""

    base_stage: str = "sft"
    sets: list[str] = field(default_factory=lambda: ["random_1k", "diverse_1k", "longest_1k", "full_pool"])
    full_pool_max_steps: Annotated[int, Bounds(lo=1, allow=(-1,))] = -1  # -1: the base stage's own schedule (the paper: 5 epochs of 59K)


@stage_schema("s1.eval")
@dataclass
class EvalStage:
    """Budget forcing sweeps on the held-out hard set (the AIME analog)."""

    eval_set: str = "hard"
    budgets: list[Positive] = field(default_factory=lambda: [500, 1000, 2000, 4000, 8000, 16000])
    include_auto: bool = True
    waits: list[int] = field(default_factory=lambda: [0, 1, 2, 4, 6])
    ignore_string: str = "Wait"
    final_answer: str = "Final Answer:"
    think_prefix: str = "<|im_start|>think"
    max_new_tokens: Positive = 32768
    max_answer_tokens: Positive = 2048
    temperature: NonNegativeFloat = 0.0
    batch_size: Positive = 64
    backend: str = "hf"  # "hf" | "vllm"
    limit: int = 0  # evaluate only the first N questions (0 = all)
    threads: int = 0  # torch threads for evaluation, baselines and the benchmark (0 = torch's default)


@stage_schema("s1.baselines")
@dataclass
class BaselinesStage:
    """Test-time scaling baselines of §3.1 / §5.2: TCC (+BF), class-conditional prompts, rejection sampling,
    majority voting with the base instruct model."""

    tcc_stage: str = "sft_tcc"
    tcc_budgets: list[Positive] = field(default_factory=lambda: [1024, 2048, 4096, 8192, 16384])
    ccc_prompts: dict = field(default_factory=dict)
    rs_budgets: list[Positive] = field(default_factory=lambda: [3500, 4000, 5000, 8000, 16000])
    rs_max_tries: Positive = 64
    rs_temperature: PositiveFloat = 1.0
    mv_model: str = "Qwen/Qwen2.5-32B-Instruct"
    mv_ks: list[Positive] = field(default_factory=lambda: [1, 2, 4, 8, 16, 32, 64])
    mv_temperature: PositiveFloat = 1.0
    mv_max_new_tokens: Positive = 32768


@stage_schema("s1.bench")
@dataclass
class BenchStage:
    """bf_overhead_ratio: budget-forcing wall time / plain generate time for the same generated tokens."""

    n_prompts: Positive = 64
    max_thinking_tokens: Positive = 32
    num_ignore: int = 2
    repeats: Positive = 3
