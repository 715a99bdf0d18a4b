"""Stage schemas of ``recipes/thinklogit.yaml``: models, data, guider SFT, rollouts, DPO, evaluation, sweep, timing.

Defaults are the paper's (the card, 2510.09354v1); profiles overlay what the tiny world needs. Trainer stages
(``thinklogit.guider`` = TRL SFTConfig fields, ``thinklogit.dpo`` = TRL DPOConfig fields) take TRL's own names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from longthink.config import Bounds, Fraction, NonNegativeFloat, Positive, PositiveFloat, stage_schema

# The card's prompt (upstream ``math_instr`` in eval/gsm/run_eval.py): plain text, no chat template, same for T, G, B.
MATH_PROMPT = "Solve the following math problem. Put your final answer within \\boxed{{}}.\n\nQuestion: {question}"


@stage_schema("thinklogit.models")
@dataclass
class ModelsStage:
    """The three models. ``guider: null`` means "train it": the guider stage fine-tunes ``guider_base``."""

    target: str  # Qwen/Qwen2.5-32B | world:target
    guider_base: str  # Qwen/Qwen2.5-Math-1.5B | world:guider_base
    guider: str | None = None  # deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B (exists at paper scale) | null
    dtype: str = "float32"  # bfloat16 at paper scale; logits are cast to fp32 before the arithmetic
    threads: int = 0  # torch CPU threads for this paper's stages (0 = torch's default; 1 on a shared CPU)


@stage_schema("thinklogit.data")
@dataclass
class DataStage:
    """Evaluation benchmarks, DPO training prompts and the prompt template (registries in ``data.py``)."""

    # hub benchmark names (data.HUB_SETS) or world references (world:by_difficulty, world:hard)
    benchmarks: list[str] = field(default_factory=lambda: ["aime2024", "aime2025", "amc23", "math_l5", "gpqa_diamond"])
    max_per_benchmark: int = 0  # 0 = all questions
    dpo_prompts: str = "math_train_l45"  # hub: MATH train levels 4-5; or a world pool (world:pool, also the SFT traces)
    n_dpo_prompts: Positive = 6272  # 49 shards x 128 (fork launch_all.sh)
    dpo_difficulties: list[int] = field(default_factory=lambda: [4, 5])  # MATH levels 4-5; world: chain lengths
    # a dev split of training problems, disjoint from the DPO prompts, the SFT traces and the evaluation questions,
    # for choosing the DPO settings (pairs, beta, learning rate) without looking at the evaluation questions
    n_dev_prompts: int = 0
    dev_difficulties: list[int] = field(default_factory=list)  # world: chain lengths of the dev split ([] = all)
    prompt_template: str = MATH_PROMPT  # {question} is replaced; the world uses its chat prompt


@stage_schema("thinklogit.guider", trainer="sft")
@dataclass
class GuiderStage:
    """The R1-Distill analog: the guider base fine-tuned on long reasoning traces (skipped if models.guider is set)."""

    n_traces: Positive = 20000  # long traces from the world pool (world source only)
    only_correct: bool = True  # rejection sampling: keep traces whose attempt grades correct and well formed
    # "s1": <|im_start|>think ... <|im_start|>answer Answer: y (the pool's s1 text); "plain": the same steps and
    # re-checks written straight into the answer, then "Answer: y" (the target's own surface; see data.py)
    completion_format: str = "s1"
    keep_rechecks: bool = True  # False: only traces without "Wait" re-checks (world source; see data.py)
    # the pool's trace columns the guider learns from (world source): s1's teacher, or the R1 analog's
    # deepseek_thinking_trajectory / deepseek_attempt (as in s1K-1.1)
    thinking_column: str = "thinking_trajectories"
    attempt_column: str = "attempt"


@stage_schema("thinklogit.rollouts")
@dataclass
class RolloutsStage:
    """Rollouts on training prompts from the guider alone and the guided system, graded, paired for DPO."""

    rollouts_per_source: Positive = 4
    sources: list[str] = field(default_factory=lambda: ["guider", "thinklogit"])
    # (chosen source, rejected source) combinations kept (upstream ablation names: G/G, G/T, T/G)
    combos: list[str] = field(default_factory=lambda: ["guider>guider", "guider>thinklogit", "thinklogit>guider"])
    max_pairs: Positive = 10000
    balance: bool = True  # subsample evenly over the combinations
    temperature: PositiveFloat | None = None  # the rollouts' sampling temperature (None = the evaluation's)
    pairs_per_question: int = 0  # > 0: at most this many distinct pairs per problem and combination (0 = all)
    # "full": whole rollouts (the card); "first_step": Step-DPO, the shared lines go into the prompt and the pair is
    # the first line where chosen and rejected differ (``longthink.thinklogit.dpo.PAIR_CUTS``)
    pair_cut: str = "full"
    batch_size: Positive = 16


@stage_schema("thinklogit.dpo", trainer="dpo")
@dataclass
class DPOStage:
    """DPO on the guider with a LoRA adapter (card kit choice: r 64, alpha 128, dropout 0.05, all linear)."""

    lora_r: Positive = 64
    lora_alpha: Positive = 128
    lora_dropout: Fraction = 0.05
    lora_target_modules: str = "all-linear"


@stage_schema("thinklogit.eval")
@dataclass
class EvalStage:
    """The sampler shared by every system (the card's defaults of ``generate_completions``) and pass@1 over k."""

    k: Positive = 8  # samples per question; pass@1 = mean accuracy over the k
    temperature: NonNegativeFloat = 0.6
    top_p: Annotated[float, Bounds(lo=0, hi=1, lo_open=True)] = 0.95
    alpha: float = 1.0
    warmup: int = 100
    max_new_tokens: Positive = 8192
    repeat_limit: Positive = 10
    batch_size: Positive = 1
    max_scored_tokens: Positive = 8192  # scoring keeps the first N generated tokens ...
    truncate_at: list[str] = field(default_factory=lambda: ["Human"])  # ... and cuts at the first of these
    answer_fallback: str = "last_number"  # no \\boxed{}: upstream grades the last number (GPQA: last letter)
    systems: list[str] = field(default_factory=lambda: ["target", "guider", "thinklogit", "thinklogit_dpo"])


@stage_schema("thinklogit.sweep")
@dataclass
class SweepStage:
    """ThinkLogit at several alphas (warm-up fixed) and several warm-ups (alpha fixed) on a subset."""

    alphas: list[float] = field(default_factory=lambda: [0.25, 0.5, 1.0, 1.5, 2.0])
    warmups: list[int] = field(default_factory=lambda: [0, 50, 100, 200, 400])
    n_questions: int = 0  # 0 = the whole evaluation set
    k: Positive = 1


@stage_schema("thinklogit.timing")
@dataclass
class TimingStage:
    """Wall time per generated token: target alone vs ThinkLogit (vs naive no-cache), same prompts and batch."""

    batch_size: Positive = 1
    new_tokens: Positive = 256
    repeats: Positive = 3
    naive: bool = False
    parallel: bool = False  # also time the guider side in a worker thread (upstream's thread pool)
