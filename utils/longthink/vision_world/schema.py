"""Settings of the tiny visual world's base VLM (stage kind ``world.vlm`` in ``recipes/world_vision.yaml``).

Every field enters the cache key (``pretrain.build_key``); the chosen values and the measurements behind them
are in the recipe's comments.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

try:
    from longthink.config import stage_schema
except ImportError:  # config.py not landed yet: a no-op decorator keeps the dataclass usable
    def stage_schema(kind, *, trainer=None):  # type: ignore[no-redef]
        return lambda cls: cls

DEFAULT_TASK_WEIGHTS = {
    "describe": 0.1,
    "colour_of": 0.12,
    "shape_of": 0.12,
    "where": 0.12,
    "colour_at": 0.06,
    "shape_at": 0.06,
    "ground": 0.2,
    "count_cond": 0.05,
    "compare_counts": 0.05,
    "count_arith": 0.04,
    "spatial": 0.04,
    "spatial_count": 0.04,
}
DEFAULT_TEXT_TASK_WEIGHTS = {"colour_of": 1.0, "shape_of": 1.0, "where": 1.0, "ground": 1.0, "colour_at": 0.5,
                             "shape_at": 0.5}


@stage_schema("world.vlm", trainer=None)
@dataclass
class VisionWorldStage:
    """The base VLM: scenes, tokenizer and model shape, the pretraining curriculum (a plain loop: it is not a
    paper's stage) and the evaluation.

    Curriculum, in optimizer steps: ``text_warmup_steps`` of text-only lookup batches (the look given as text in
    the user turn, the same reply), then ``describe_warmup_steps`` of image batches where ``describe_warmup_share``
    of the image examples are "Describe the scene." (the vision tower learns to see from a target on every visual
    token), then the main mix ``task_weights``; from the describe warm-up on, ``text_share`` of every batch stays
    text-only (``text_task_weights``: question kinds with the look given, and drills such as ``arith``,
    ``longthink.vision_world.drills``), so the lookup does not decay while images take over.
    """

    # scenes
    grid: int = 4
    min_objects: int = 3
    max_objects: int = 8
    train_resolution: int = 112
    shifted_resolutions: list[int] = field(default_factory=lambda: [168, 84])
    # tokenizer and model
    vocab_size: int = 512
    tokenizer_corpus_size: int = 600
    hidden_size: int = 128
    num_hidden_layers: int = 3
    num_attention_heads: int = 4
    num_key_value_heads: int = 2
    intermediate_size: int = 512
    vision_depth: int = 2
    vision_embed_dim: int = 64
    vision_num_heads: int = 2
    # the vision tower's own pretraining (vision_encoder: the stand-in for a pretrained ViT), then the VLM's
    vision_steps: int = 200
    vision_batch_size: int = 32
    vision_learning_rate: float = 2.0e-3
    # pretraining
    max_steps: int = 1800
    batch_size: int = 32
    length_groups: int = 4  # each step's examples run in this many length-sorted groups (less padding)
    learning_rate: float = 2.0e-3
    min_lr_ratio: float = 0.1
    warmup_steps: int = 50
    weight_decay: float = 0.01
    text_warmup_steps: int = 0
    describe_warmup_steps: int = 300
    describe_warmup_share: float = 0.6
    text_share: float = 0.125
    task_weights: dict = field(default_factory=lambda: dict(DEFAULT_TASK_WEIGHTS))
    text_task_weights: dict = field(default_factory=lambda: dict(DEFAULT_TEXT_TASK_WEIGHTS))
    mark_weight: float = 2.0  # loss weight of the walk's yes/no tokens
    result_weight: float = 1.0  # loss weight of a count's values and a sum's or comparison's result (batches.encode_batch)
    short_lines: int = 2  # walk lines a several-step question's short reasoning writes before it jumps
    long_share: float = 0.0  # several-step training replies written in the long style (the rest short)
    drills_per_batch: int = 0  # text drills (longthink.vision_world.drills) added to every batch, beyond batch_size
    stop_at_first_yes: bool = True  # a referent's walk stops at its first yes (False: on to the last cell)
    num_threads: int = 1
    # training to saturation (pretrain.saturation_check): past max_steps, every saturation_every steps at the
    # schedule's floor rate until each of saturation_kinds reaches saturation_target on saturation_per_kind dev
    # questions, or until saturation_max_steps in all (0 or <= max_steps: no check, exactly max_steps)
    saturation_max_steps: int = 0
    saturation_every: int = 200
    saturation_target: float = 0.95
    saturation_per_kind: int = 40
    saturation_kinds: list[str] = field(default_factory=lambda: ["colour_of", "shape_of", "where", "ground"])
    # evaluation
    eval_per_kind: int = 100
    eval_batch_size: int = 50

    def __post_init__(self) -> None:
        from longthink.vision_world.drills import DRILL_KINDS
        from longthink.vision_world.scenes import MAX_GRID, QUESTION_KINDS

        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if f.type in ("int", int) and (not isinstance(v, int) or isinstance(v, bool) or v < 0):
                raise ValueError(f"world.vlm: {f.name} must be a non-negative int, got {v!r}")
            if f.type in ("float", float) and (isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0):
                raise ValueError(f"world.vlm: {f.name} must be a non-negative number, got {v!r}")
        if not 2 <= self.grid <= MAX_GRID:
            raise ValueError(f"world.vlm: grid must be in 2..{MAX_GRID}, got {self.grid}")
        if self.train_resolution % 28 or any(r % 28 for r in self.shifted_resolutions):
            raise ValueError(f"world.vlm: resolutions must be multiples of 28 (Qwen2-VL patch 14 x merge 2), got "
                             f"train_resolution={self.train_resolution}, shifted_resolutions={self.shifted_resolutions}")
        if self.train_resolution in self.shifted_resolutions or not self.shifted_resolutions:
            raise ValueError(f"world.vlm: shifted_resolutions {self.shifted_resolutions} must be non-empty and differ "
                             f"from train_resolution={self.train_resolution}")
        for name, allowed in (("task_weights", {"describe", *QUESTION_KINDS}),
                              ("text_task_weights", {*QUESTION_KINDS, *DRILL_KINDS})):
            weights = getattr(self, name)
            bad = [k for k in weights if k not in allowed]
            if bad:
                raise ValueError(f"world.vlm: unknown task(s) {bad} in {name}; known: {sorted(allowed)}")
            if any(isinstance(w, bool) or not isinstance(w, (int, float)) or w < 0 for w in weights.values()) or not sum(
                weights.values()
            ):
                raise ValueError(f"world.vlm: {name} must be non-negative numbers, not all zero: {weights}")
        bad = [k for k in self.saturation_kinds if k not in QUESTION_KINDS]
        if bad or not self.saturation_kinds:
            raise ValueError(f"world.vlm: saturation_kinds must name question kinds, got {self.saturation_kinds}; "
                             f"known: {sorted(QUESTION_KINDS)}")
        if self.saturation_max_steps > self.max_steps and (self.saturation_every < 1 or self.saturation_per_kind < 1):
            raise ValueError(f"world.vlm: saturation_every and saturation_per_kind must be >= 1 when "
                             f"saturation_max_steps ({self.saturation_max_steps}) > max_steps ({self.max_steps})")
        for name in ("describe_warmup_share", "text_share", "min_lr_ratio", "saturation_target", "long_share"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"world.vlm: {name} must be in [0, 1], got {getattr(self, name)}")
        if self.batch_size < 1 or self.eval_batch_size < 1 or self.max_steps < 1:
            raise ValueError(f"world.vlm: batch sizes and max_steps must be >= 1, got batch_size={self.batch_size}, "
                             f"eval_batch_size={self.eval_batch_size}, max_steps={self.max_steps}")
        if not 1 <= self.min_objects <= self.max_objects <= self.grid ** 2:
            raise ValueError(f"world.vlm: need 1 <= min_objects <= max_objects <= grid^2, got "
                             f"{self.min_objects}..{self.max_objects} on a {self.grid}x{self.grid} grid")

    @property
    def reply_options(self) -> dict[str, Any]:
        """How replies are written (``replies.reply`` / ``reasoning.reason`` keywords); stored with the model."""
        return {"short_lines": self.short_lines, "stop_at_first_yes": self.stop_at_first_yes}

    @property
    def max_number(self) -> int:
        """The largest number a reply writes: a pixel coordinate at the training resolution, or a count."""
        return max(self.train_resolution, self.grid ** 2)

    def arch(self):
        from longthink.vision_world.vlm import VLMArch

        names = {f.name for f in dataclasses.fields(VLMArch)}
        return VLMArch(**{k: getattr(self, k) for k in names if hasattr(self, k)})
