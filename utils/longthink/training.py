"""TRL configs from recipe stages, with defaults that work on a CPU laptop and on GPU nodes alike.

TRL's own defaults assume a GPU (``bf16=True``, activation checkpointing on) and fail or crawl on a CPU
(notes/trl-transformers.md §0, §5). The kit's defaults switch those off when no accelerator is present; a
recipe's own TRL fields always win, so the paper profile's ``bf16: true`` still applies on GPUs.
"""

from __future__ import annotations

import contextlib
import math
from pathlib import Path
from typing import Any

from longthink.config import TRAINER_CONFIGS, StageSettings

def has_accelerator() -> bool:
    import torch

    return torch.cuda.is_available()


def runtime_defaults(*, seed: int) -> dict[str, Any]:
    """Defaults under every stage: quiet, no hub, no checkpoints; CPU-safe precision where there is no GPU."""
    defaults: dict[str, Any] = {
        "report_to": "none",
        "save_strategy": "no",
        "dataloader_num_workers": 0,
        "seed": seed,
        "data_seed": seed,
        "logging_steps": 10,
        "push_to_hub": False,
    }
    if not has_accelerator():
        defaults.update(use_cpu=True, bf16=False, fp16=False, activation_checkpointing=False)
    return defaults


def trainer_config(stage: StageSettings, output_dir: str | Path, *, seed: int = 0, **overrides: Any):
    """Build the stage's TRL config (SFTConfig / DPOConfig / GRPOConfig): defaults < recipe fields < overrides."""
    if stage.trainer_kind is None:
        raise ValueError(f"stage {stage.name!r} ({stage.kind}) does not run a TRL trainer")
    import trl

    cls = getattr(trl, TRAINER_CONFIGS[stage.trainer_kind])
    fields = {**runtime_defaults(seed=seed), **stage.trainer, **overrides}
    if not has_accelerator():  # a paper recipe's bf16 cannot run on a CPU: keep it off there
        fields.update(bf16=False, fp16=False)
    return cls(output_dir=str(output_dir), **fields)


@contextlib.contextmanager
def torch_threads(n: int):
    """Run a block with ``n`` torch CPU threads (0 keeps torch's default), then restore the old count.

    On a 2-core machine that other processes share, one thread per process avoids OpenMP oversubscription, which
    was measured here to slow tiny-model training 3-20x; recipes set it per stage.
    """
    import torch

    old = torch.get_num_threads()
    if n and n > 0:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)


def cosine_schedule(optimizer, *, warmup_steps: int, total_steps: int, min_lr_ratio: float = 0.0):
    """Linear warm-up, then cosine decay to ``min_lr_ratio`` of the peak: transformers' own schedule (the one TRL's
    ``lr_scheduler_type: cosine`` / ``cosine_with_min_lr`` use), for the kit's hand-written pretraining loops.
    Call ``.step()`` after each optimizer step."""
    from transformers import get_cosine_with_min_lr_schedule_with_warmup

    return get_cosine_with_min_lr_schedule_with_warmup(optimizer, num_warmup_steps=warmup_steps,
                                                       num_training_steps=total_steps, min_lr_rate=min_lr_ratio)


class TrainingError(RuntimeError):
    """A training run produced nothing worth caching (no step taken, or a loss that is not a number)."""


def check_trained(stage_name: str, *, steps: int, loss: float) -> None:
    """Refuse to cache a run that took no optimizer step or whose loss is NaN / infinite (bad settings slipped
    through, or training diverged): the stage fails with the figures instead of storing an untrained model."""
    if steps < 1:
        raise TrainingError(f"stage {stage_name!r} took {steps} optimizer steps: nothing was trained "
                            "(check num_train_epochs, max_steps and the size of the training set)")
    if not math.isfinite(loss):
        raise TrainingError(f"stage {stage_name!r} ended with training loss {loss}: training diverged "
                            "(lower learning_rate, or check the data)")


def train_to_saturation(train_step, check, *, start: int, every: int, cap: int, on_check=None) -> list[dict]:
    """Past a schedule's ``start`` steps: ``check()`` (a dict with ``passed``), then ``every`` more ``train_step(s)``
    calls, until a check passes or ``cap`` steps in all; returns the checks, each with its ``step``. No check at
    all when ``cap <= start`` (the world builds' "train to saturation, checked", text and vision alike)."""
    checks: list[dict] = []
    step = start
    while cap > start:
        checks.append({"step": step, **check()})
        if on_check is not None:
            on_check(checks[-1])
        if checks[-1]["passed"] or step >= cap:
            break
        stop = min(step + every, cap)
        for s in range(step, stop):
            train_step(s)
        step = stop
    return checks
