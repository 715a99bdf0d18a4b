"""Stage schemas of ``recipes/insight_v.yaml``: models, questions, generation, assessment, the three SFT runs,
iterative DPO and evaluation.

Defaults are the paper's (card ``papers/insight_v.md``; upstream ``dongyh20/Insight-V@5e9c6f9``); the card's kit
choices (its section 5) are settings here too, each named after the card's row. Trainer stages take TRL's own field
names (``insight_v.sft`` = SFTConfig fields, ``insight_v.dpo`` = DPOConfig fields). The prompts default to the
upstream texts (``longthink.insight_v.prompts``); the tiny profile shortens them (a 512-token world tokenizer spells
the 70-word summary instruction in ~340 tokens, more than a whole chain).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from longthink.config import Bounds, Fraction, NonNegative, NonNegativeFloat, Positive, PositiveFloat, stage_schema
from longthink.insight_v import prompts

TopP = Annotated[float, Bounds(lo=0, hi=1, lo_open=True)]
Score = Annotated[int, Bounds(lo=1, hi=100)]


@stage_schema("insight_v.models")
@dataclass
class ModelsStage:
    """The base MLLM both agents start from, and how it is prepared (card §2.3)."""

    base: str  # llava-hf/llama3-llava-next-8b-hf | world-vision:base
    dtype: str = "bfloat16"
    threads: int = 0  # torch CPU threads for this paper's stages (0 = torch's default; 1 on a shared CPU)
    add_think_tokens: bool = True  # <thoughts> </thoughts> <output> </output> as special tokens, mean-initialised
    freeze_vision_tower: bool = True  # the vision tower stays frozen; projector + LLM train (card §2.3)
    workers: Positive = 1  # agents trained at once in worker processes (their SFTs are independent); 1 = in turn


@stage_schema("insight_v.questions")
@dataclass
class QuestionsStage:
    """Where the questions come from and how they are split (``longthink.insight_v.questions.SOURCES``).

    ``source: world`` draws scenes and questions from ``world-vision:scenes``; ``source: hub`` reads data sets
    named in ``datasets`` (``id[:config]@split``) with the column names in ``columns``. The splits are disjoint:
    ``train`` feeds data generation, ``dpo`` the DPO rounds, ``dev`` choosing settings, ``eval`` the evaluation.
    """

    source: str = "hub"
    datasets: list[str] = field(default_factory=list)  # hub: chart / OCR / math / VQA train splits (card §5)
    eval_datasets: list[str] = field(default_factory=list)  # hub: the benchmarks (MMMU, MMBench, ChartQA, ...)
    columns: dict = field(default_factory=lambda: {"question": "question", "answer": "answer", "image": "image",
                                                   "kind": "kind"})
    kinds: list[str] = field(default_factory=list)  # world: the question kinds of every split ([] = all)
    dpo_kinds: list[str] = field(default_factory=list)  # world: the kinds of the dpo split ([] = kinds)
    n_train: NonNegative = 0  # world: questions for data generation (hub: 0 = all rows)
    n_dpo: NonNegative = 0  # questions the DPO rounds sample chains on
    n_dev_per_kind: NonNegative = 0
    n_eval_per_kind: NonNegative = 0  # world: evaluation questions per kind (hub: 0 = all rows)
    min_objects: Positive = 3  # world: scene sizes
    max_objects: Positive = 8

    def __post_init__(self) -> None:
        if self.min_objects > self.max_objects:
            raise ValueError(f"min_objects ({self.min_objects}) must be <= max_objects ({self.max_objects})")
        missing = [k for k in ("question", "answer", "image") if k not in self.columns]
        if missing:
            raise ValueError(f"columns must name the {missing} column(s), got {self.columns}")


@stage_schema("insight_v.generate")
@dataclass
class GenerateStage:
    """Progressive generation (card §2.1): one JSON step per call, retries, a step cap, N paths, the final call."""

    generator: str = "vllm"  # longthink.insight_v.generators.GENERATORS: vllm | transformers | teacher
    model: str = "Qwen/Qwen2-VL-72B-Instruct"  # the generator MLLM (teacher: unused)
    n_paths: Positive = 4  # N runs per question (card §5)
    max_steps: Positive = 15  # stop once the step counter exceeds this (upstream: ``step_count > 15``)
    max_retries: Positive = 3  # tries per step before an "Error" step with final_answer
    temperature: NonNegativeFloat = 0.7
    top_p: TopP = 0.95
    repetition_penalty: PositiveFloat = 1.05
    max_tokens: Positive = 1024  # per call (upstream ignores its per-call argument)
    min_pixels: Positive = 224 * 224
    max_pixels: Positive = 1280 * 28 * 28
    batch_size: Positive = 64  # conversations advanced together
    system_prompt: str = prompts.GENERATOR_SYSTEM
    prefill: str = prompts.GENERATOR_PREFILL
    continue_prompt: str = prompts.GENERATOR_CONTINUE
    reminder_prompt: str = prompts.GENERATOR_REMINDER
    final_prompt: str = prompts.GENERATOR_FINAL
    # teacher only: the world's chain teacher (longthink.insight_v.generators.TeacherGenerator)
    error_rate: Fraction = 0.0  # probability that a path holds one real mistake
    malformed_rate: Fraction = 0.0  # probability that one reply is not valid JSON (exercises the retry rule)
    error_kinds: list[str] = field(default_factory=list)  # the mistakes a path may hold ([] = all the world's kinds)
    plan_step: bool = False  # a first step naming the steps to come (``Plan: Look Find Count Compute``)

    def __post_init__(self) -> None:
        if self.min_pixels > self.max_pixels:
            raise ValueError(f"min_pixels ({self.min_pixels}) must be <= max_pixels ({self.max_pixels})")


@stage_schema("insight_v.assess")
@dataclass
class AssessStage:
    """Multi-granularity assessment (card §2.2): the answer filter, path scoring into tiers, routing."""

    judge: str = "llm"  # longthink.insight_v.judge.JUDGES: llm | match
    judge_model: str = "Qwen/Qwen2.5-72B-Instruct"
    judge_temperature: NonNegativeFloat = 0.2
    judge_top_p: TopP = 0.7
    judge_repetition_penalty: PositiveFloat = 1.05
    judge_max_tokens: Positive = 512
    judge_prompt: str = prompts.JUDGE_PROMPT
    scorer: str = "mllm"  # longthink.insight_v.scorer.SCORERS: mllm | scene
    scorer_model: str = "Qwen/Qwen2-VL-72B-Instruct"
    scorer_prompt: str = prompts.SCORER_PROMPT
    scorer_max_tokens: Positive = 16
    high_cutoff: Score = 80  # High >= 80, Mid 50-79, Low < 50 (card §5)
    mid_cutoff: Score = 50
    reasoning_per_question: Positive = 1  # the best correct High path(s) per question (card §5)
    summary_per_question: Positive = 2  # all routed paths, at most 2 per question (card §5)
    summary_wrong_share: Fraction | None = None  # share of wrong-answer paths in the summary set (None: as produced)
    batch_size: Positive = 32

    def __post_init__(self) -> None:
        if self.mid_cutoff >= self.high_cutoff:
            raise ValueError(f"mid_cutoff ({self.mid_cutoff}) must be below high_cutoff ({self.high_cutoff})")


@stage_schema("insight_v.sft", trainer="sft")
@dataclass
class SFTStage:
    """One agent's SFT with TRL's SFTTrainer (``role``: reason | summary | single; ``longthink.insight_v.agents``).

    The reasoning agent learns image + question + ``reason_suffix`` -> ``<thoughts>`` chain; the summary agent
    ``summary_instruction`` + question + chain -> answer, plus ``general`` rows (short-answer data that keeps
    perception); the single model (the baseline the paper argues against) question -> chain + answer.
    """

    role: str = "reason"
    reason_suffix: str = prompts.REASON_SUFFIX
    summary_instruction: str = prompts.SUMMARY_INSTRUCTION
    keep_answer_step: bool = True  # keep the generator's last step (next_action final_answer) in the chain
    general: str | None = None  # summary/single: general data (world-vision:general, or a hub data set id)
    n_general: NonNegative = 0  # rows of general data mixed in (0 = none)
    general_in_single: bool = True  # single: the same general rows (a fair baseline keeps perception too)
    max_rows: NonNegative = 0  # cap on the agent's own rows (0 = all)
    # how the summary agent and the single model write the answer: upstream's bare answer at paper scale; in the
    # tiny world the base VLM's own answer surface "<answer> {answer} </answer>" (its bare words are other tokens)
    answer_template: str = "{answer}"

    def __post_init__(self) -> None:
        if "{answer}" not in self.answer_template:
            raise ValueError(f"answer_template must contain '{{answer}}', got {self.answer_template!r}")

    def format_answer(self, answer: str) -> str:
        return self.answer_template.replace("{answer}", answer)


@stage_schema("insight_v.dpo", trainer="dpo")
@dataclass
class DPOStage:
    """Iterative DPO on the reasoning agent (card §2.4): per round sample, answer, assess, pair, train."""

    rounds: Positive = 3
    chains_per_question: Positive = 4  # chains sampled per question per round (card §5)
    sample_temperature: PositiveFloat = 0.7
    sample_top_p: TopP = 0.95
    max_new_tokens: Positive = 16384
    pairs_per_question: Positive = 1
    batch_size: Positive = 16


@stage_schema("insight_v.eval")
@dataclass
class EvalStage:
    """Evaluation of every system on the evaluation questions, by question kind (card §3: VLMEvalKit ``InsightV``)."""

    reason_temperature: NonNegativeFloat = 0.7  # 0 = greedy
    reason_top_p: TopP = 0.95
    reason_max_new_tokens: Positive = 16384
    summary_temperature: NonNegativeFloat = 0.2
    summary_top_p: TopP = 0.95
    summary_max_new_tokens: Positive = 512
    base_max_new_tokens: Positive = 512
    batch_size: Positive = 16
    flawed_per_kind: NonNegative = 0  # world: chains with one injected mistake per kind, for the summary agent
    # world: the systems evaluated on every kind; the others (single model, DPO rounds) on the reasoning kinds only
    all_kinds_systems: list[str] = field(default_factory=lambda: ["base", "single_model", "two_agents"])
    n_examples: NonNegative = 3  # outputs shown per system in the notebook
