"""Stage schemas of recipes/taco.yaml: models, data, GRPO (TRL GRPOConfig fields + TACO's knobs), ablations, eval.

Every knob the card lists as a kit choice (card §5) is a field here, with the card's default, so a reader can
change it in YAML; the profiles (recipes/profiles/tiny.yaml, smoke.yaml) say what differs in the tiny world and why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from longthink.config import Fraction, NonNegativeFloat, Positive, PositiveFloat, stage_schema

REWARD_NAMES = ("format", "rec_accuracy", "vqa_accuracy", "consistency")
GENERATION_BACKENDS = ("auto", "hf", "vllm")
DATA_SOURCES = ("world", "jsonl")


def _check_choice(stage: str, key: str, value, choices) -> None:
    if value not in choices:
        raise ValueError(f"{stage}.{key} must be one of {list(choices)}, got {value!r}")


def _check_range(stage: str, key: str, value) -> None:
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, int) for v in value)
            and 1 <= value[0] <= value[1]):
        raise ValueError(f"{stage}.{key} must be [min, max] object counts with 1 <= min <= max, got {value!r}")


@stage_schema("taco.models")
@dataclass
class ModelsStage:
    """The policy's starting point (``world-vision:base`` in the tiny world, Qwen2.5-VL-3B-Instruct at paper scale)."""

    policy: str = "Qwen/Qwen2.5-VL-3B-Instruct"
    dtype: str = "bfloat16"  # the tiny world trains in float32 on a CPU
    threads: int = 0  # torch threads (0 = torch's default); 1 on a busy 2-core laptop
    min_pixels: Positive = 3136  # the processor's bounds during training (VLM-R1 run_grpo_rec.sh)
    max_pixels: Positive = 12845056

    def __post_init__(self) -> None:
        if self.min_pixels > self.max_pixels:
            raise ValueError(f"models: min_pixels {self.min_pixels} must be <= max_pixels {self.max_pixels}")


@stage_schema("taco.data")
@dataclass
class DataStage:
    """Training prompts and the dev / evaluation / out-of-distribution splits (card §3)."""

    source: str = "jsonl"  # "world": the vision world's scenes; "jsonl": VLM-R1-style files (paper)
    scenes: str = "world-vision:scenes"  # the world's scene tool (source: world)
    rec_kinds: list[str] = field(default_factory=lambda: ["ground"])
    vqa_kinds: list[str] = field(default_factory=list)
    n_train_rec: int = 0
    n_train_vqa: int = 0
    n_dev: int = 0  # per task (REC and VQA each)
    n_eval: Positive = 2000  # per task and split (card §3: 2,000 samples per split, seed-42 shuffle)
    train_objects: list[int] = field(default_factory=lambda: [3, 6])  # object counts GRPO trains on
    ood_objects: list[int] = field(default_factory=lambda: [7, 8])  # held out: the OOD split
    grid: Positive = 4
    resolution: Positive = 112  # the training resolution (world: one merged visual token per cell)
    # the resolution-shift test: each image's sides times these factors (world: 112 px -> 168 and 84 px)
    shift_factors: list[float] = field(default_factory=lambda: [1.5, 0.75])
    prompt_template: str = ("{question} Output the thinking process in <think> </think> and final answer in "
                            "<answer> </answer> tags.")
    # paper scale (source: jsonl): VLM-R1's RefCOCO/+/g jsonl, COCO train2014 images; LISA-Grounding as OOD
    rec_train: list[str] = field(default_factory=lambda: ["rec_jsons_processed/refcoco_train.jsonl",
                                                          "rec_jsons_processed/refcocop_train.jsonl",
                                                          "rec_jsons_processed/refcocog_train.jsonl"])
    vqa_train: list[str] = field(default_factory=lambda: ["vqa/mcq_numeric_9600.jsonl"])
    rec_eval: list[str] = field(default_factory=lambda: ["rec_jsons_processed/refcoco_val.jsonl"])
    vqa_eval: list[str] = field(default_factory=lambda: ["vqa/mcq_numeric_val.jsonl"])
    rec_ood: list[str] = field(default_factory=lambda: ["lisa_json/lisa_test.json"])
    image_root: str = "data/images"

    def __post_init__(self) -> None:
        _check_choice("data", "source", self.source, DATA_SOURCES)
        _check_range("data", "train_objects", self.train_objects)
        _check_range("data", "ood_objects", self.ood_objects)
        if self.source == "world" and not (self.n_train_rec + self.n_train_vqa):
            raise ValueError("data: the world source needs n_train_rec + n_train_vqa > 0")
        if not self.shift_factors or any(f <= 0 or f == 1.0 for f in self.shift_factors):
            raise ValueError(f"data.shift_factors must be positive and differ from 1, got {self.shift_factors!r}")
        if self.source == "world":
            shifted = [self.resolution * f for f in self.shift_factors]
            if self.resolution % 28 or any(r != int(r) or int(r) % 28 for r in shifted):
                raise ValueError(f"data: world resolutions must be multiples of 28 (one visual token per 28 px), got "
                                 f"{self.resolution} and {self.resolution} x {self.shift_factors} = {shifted}")


@stage_schema("taco.grpo", trainer="grpo")
@dataclass
class GRPOStage:
    """GRPO with TACO's rewards, RRS and ADS (card §2); TRL GRPOConfig fields sit beside these kit keys."""

    rewards: list[str] = field(default_factory=lambda: list(REWARD_NAMES))
    tac_weight: NonNegativeFloat = 1.0  # λ in R = R_fmt + R_acc + λ·R_tac (card §5: 1.0, sum)
    tac_rec_mode: str = "triple"  # triple | product | min (longthink.taco.consistency.TAC_REC_MODES)
    tac_no_think_value: Fraction = 0.0
    tac_vqa: str = "judge"  # a rule of consistency.VQA_RULES (tiny: last_value) or "judge" (paper)
    tac_judge_model: str = "Qwen/Qwen2.5-32B-Instruct"
    tac_judge_backend: str = "vllm"
    iou_plus: NonNegativeFloat = 1.0  # 1: VLM-R1's pixel-inclusive IoU; 0: exclusive corners (the tiny world)
    # RRS (card §2.3)
    rrs_tau_mode: str = "adaptive"
    rrs_k: NonNegativeFloat = 3.0
    rrs_tau_min: NonNegativeFloat = 0.05
    rrs_tau: Optional[PositiveFloat] = None  # the fixed threshold (rrs_tau_mode: fixed)
    rrs_window: Positive = 50  # steps
    rrs_period: Positive = 100  # T: optimizer steps between buffer releases
    rrs_buffer_size: Positive = 1024
    # ADS (card §2.4)
    ads_reward: str = "accuracy"  # accuracy | total
    ads_p_lo: Fraction = 0.2
    ads_p_hi: Fraction = 0.8
    ads_w_min: Fraction = 0.1
    ads_warmup_epochs: int = 1
    generation_backend: str = "auto"  # auto: vLLM where installed (use_vllm), else transformers' generate
    threads: int = 0

    def __post_init__(self) -> None:
        from longthink.taco.consistency import TAC_REC_MODES, VQA_RULES

        bad = [r for r in self.rewards if r not in REWARD_NAMES]
        if bad or not self.rewards:
            raise ValueError(f"grpo.rewards: unknown reward(s) {bad or self.rewards}; known: {list(REWARD_NAMES)}")
        _check_choice("grpo", "tac_rec_mode", self.tac_rec_mode, TAC_REC_MODES)
        _check_choice("grpo", "tac_vqa", self.tac_vqa, [*VQA_RULES, "judge"])
        _check_choice("grpo", "tac_judge_backend", self.tac_judge_backend, ("hf", "vllm"))
        _check_choice("grpo", "rrs_tau_mode", self.rrs_tau_mode, ("adaptive", "fixed"))
        if self.rrs_tau_mode == "fixed" and self.rrs_tau is None:
            raise ValueError("grpo: rrs_tau_mode fixed needs rrs_tau")
        _check_choice("grpo", "ads_reward", self.ads_reward, ("accuracy", "total"))
        if self.ads_p_lo > self.ads_p_hi:
            raise ValueError(f"grpo: ads_p_lo {self.ads_p_lo} must be <= ads_p_hi {self.ads_p_hi}")
        _check_choice("grpo", "generation_backend", self.generation_backend, GENERATION_BACKENDS)


@stage_schema("taco.ablations")
@dataclass
class AblationsStage:
    """Which training arms run (``longthink.taco.arms.ARMS``): GRPO alone, then TACO's parts added one by one."""

    arms: list[str] = field(default_factory=lambda: ["grpo", "grpo_tac", "grpo_tac_rrs", "taco"])
    # arms trained (and evaluated) at once, each in a worker process with ``models.threads`` torch threads; 1 = one
    # after another in this process (at paper scale each arm is its own multi-GPU launch)
    workers: Positive = 1

    def __post_init__(self) -> None:
        from longthink.taco.arms import ARMS

        bad = [a for a in self.arms if a not in ARMS]
        if bad or not self.arms:
            raise ValueError(f"ablations.arms: unknown arm(s) {bad or self.arms}; known: {list(ARMS)}")


@stage_schema("taco.eval")
@dataclass
class EvalStage:
    """Greedy evaluation (card §3: VLM-R1 test_rec_r1.py), TTRS and TTME (card §2.5)."""

    max_new_tokens: Positive = 256
    batch_size: Positive = 32
    backend: str = "hf"  # hf | vllm (paper, GPU nodes)
    ttrs_scales: list[float] = field(default_factory=lambda: [0.5, 1.0, 2.0])  # × train pixels (card §5)
    ttrs_train_pixels: Positive = 12845056  # the pixels the model was trained at (VLM-R1's max_pixels)
    ttrs_bound: str = "max"  # max: the card's max_pixels; both: min_pixels too (small images enlarged)
    ttme_k: Positive = 3  # the first K of ttrs_scales (card §5: K = 3)
    n_examples: Positive = 3  # replies shown per failure mode in the notebook

    def __post_init__(self) -> None:
        _check_choice("eval", "backend", self.backend, ("hf", "vllm"))
        _check_choice("eval", "ttrs_bound", self.ttrs_bound, ("max", "both"))
        if not self.ttrs_scales or any(s <= 0 for s in self.ttrs_scales):
            raise ValueError(f"eval.ttrs_scales must be positive numbers, got {self.ttrs_scales!r}")
        if 1.0 not in self.ttrs_scales:
            raise ValueError("eval.ttrs_scales must hold 1.0 (the training scale: TTME's tie-break)")
        if self.ttme_k > len(self.ttrs_scales):
            raise ValueError(f"eval.ttme_k {self.ttme_k} exceeds the {len(self.ttrs_scales)} ttrs_scales")
