"""Settings of the tiny visual world's base VLM (stage kind ``world.vlm`` in ``recipes/world_vision.yaml``)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

try:
    from longthink.config import stage_schema
except ImportError:  # config.py not landed yet: a no-op decorator keeps the dataclass usable
    def stage_schema(kind, *, trainer=None):  # type: ignore[no-redef]
        return lambda cls: cls

DEFAULT_TASK_WEIGHTS = {
    "describe": 0.25,
    "colour_of": 0.12,
    "shape_of": 0.12,
    "where": 0.14,
    "ground": 0.18,
    "colour_at": 0.05,
    "shape_at": 0.05,
    "count_cond": 0.02,
    "compare_counts": 0.02,
    "count_arith": 0.02,
    "spatial": 0.02,
    "spatial_count": 0.01,
}


@stage_schema("world.vlm", trainer=None)
@dataclass
class VisionWorldStage:
    """The base VLM: scenes, model shape, the pretraining loop (a plain loop: it is not a paper's stage) and eval.

    ``task_weights`` mixes the pretraining tasks: ``describe`` is the dense supervision (one entry per grid cell)
    that teaches the vision tower to see (notes/cpu-calibration.md); the others are question kinds of
    ``longthink.vision_world.scenes`` answered directly (short answers; boxes for ``ground``).
    """

    # scenes
    grid: int = 4
    min_objects: int = 3
    max_objects: int = 8
    train_resolution: int = 112
    shifted_resolutions: list[int] = field(default_factory=lambda: [168, 84])
    # tokenizer and model
    vocab_size: int = 512
    hidden_size: int = 64
    num_hidden_layers: int = 3
    num_attention_heads: int = 2
    num_key_value_heads: int = 1
    intermediate_size: int = 256
    vision_depth: int = 2
    vision_embed_dim: int = 64
    vision_num_heads: int = 2
    # pretraining
    max_steps: int = 1200
    batch_size: int = 32
    learning_rate: float = 3.0e-3
    min_lr_ratio: float = 0.05
    warmup_steps: int = 60
    weight_decay: float = 0.0
    loss_per_example: bool = True
    question_first: bool = False  # the user turn puts the question before the image (see vlm.user_message)
    vision_aux_weight: float = 1.0  # CellProbe: per-visual-token cell labels (vision-encoder pretraining)
    vision_scale_weight: float = 0.0  # keeps visual tokens at the word embeddings' scale (CellProbe.scale_loss)
    vision_scale_rms: float = 0.0  # the visual tokens' target RMS (0: the word embeddings' RMS)
    referent_aux_weight: float = 0.0  # ReferentProbe: point at the referent's visual token (grounding pretraining)
    readout_aux_weight: float = 0.0  # ReferentProbe.readout_loss: the answer attends to the referent's token
    layer_cell_aux_weight: float = 0.0  # CellProbe's labels read at that LM layer too (ReferentProbe.cell_loss)
    referent_aux_layer: int = 2  # the LM layer whose visual hidden states the ReferentProbe reads (1 = first)
    task_weights: dict = field(default_factory=lambda: dict(DEFAULT_TASK_WEIGHTS))
    num_threads: int = 1
    # evaluation
    eval_per_kind: int = 100
    eval_batch_size: int = 64

    def __post_init__(self) -> None:
        from longthink.vision_world.scenes import QUESTION_KINDS

        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if f.type in ("int", int) and (not isinstance(v, int) or isinstance(v, bool) or v < 0):
                raise ValueError(f"world.vlm: {f.name} must be a non-negative int, got {v!r}")
        if self.train_resolution % 28 or any(r % 28 for r in self.shifted_resolutions):
            raise ValueError(f"world.vlm: resolutions must be multiples of 28 (Qwen2-VL patch 14 x merge 2), got "
                             f"train_resolution={self.train_resolution}, shifted_resolutions={self.shifted_resolutions}")
        if self.train_resolution in self.shifted_resolutions:
            raise ValueError(f"world.vlm: shifted_resolutions {self.shifted_resolutions} must differ from "
                             f"train_resolution={self.train_resolution}")
        known = {"describe", *QUESTION_KINDS}
        bad = [k for k in self.task_weights if k not in known]
        if bad:
            raise ValueError(f"world.vlm: unknown task(s) {bad} in task_weights; known: {sorted(known)}")
        if any(not isinstance(w, (int, float)) or w < 0 for w in self.task_weights.values()) or not sum(
            self.task_weights.values()
        ):
            raise ValueError(f"world.vlm: task_weights must be non-negative numbers, not all zero: {self.task_weights}")
        if self.referent_aux_weight > 0 and not self.question_first:
            raise ValueError("world.vlm: referent_aux_weight > 0 needs question_first: true (image first, no visual "
                             "token can see the question it should point for)")
        if (self.vision_scale_weight > 0 or self.layer_cell_aux_weight > 0) and not self.vision_aux_weight > 0:
            raise ValueError("world.vlm: vision_scale_weight and layer_cell_aux_weight work through the CellProbe: "
                             f"set vision_aux_weight > 0 (got {self.vision_aux_weight})")
        if (self.readout_aux_weight > 0 or self.layer_cell_aux_weight > 0) and not self.referent_aux_weight > 0:
            raise ValueError("world.vlm: readout_aux_weight and layer_cell_aux_weight work through the ReferentProbe: "
                             f"set referent_aux_weight > 0 (got {self.referent_aux_weight})")
        if self.batch_size < 1 or self.eval_batch_size < 1:
            raise ValueError(f"world.vlm: batch sizes must be >= 1, got {self.batch_size}, {self.eval_batch_size}")

    def arch(self):
        from longthink.vision_world.vlm import VLMArch

        names = {f.name for f in dataclasses.fields(VLMArch)}
        return VLMArch(**{k: getattr(self, k) for k in names if hasattr(self, k)})
