"""A VLM as Insight-V uses it: prompts as chat messages with one image, batched sampling, and TRL SFT.

One code path for the tiny world's Qwen2-VL and the paper's LLaVA-NeXT: messages are rendered with the
processor's chat template (an image part becomes the model's image tokens), batches are left-padded, and outputs
are decoded *keeping* special tokens up to the end of the turn, as upstream does before cutting the chain out of
``<thoughts>`` tags (LLaVA's think tokens are special; the world tokenizer's are plain). SFT is TRL's
``SFTTrainer`` on conversational prompt/completion rows with an ``images`` column: loss on the completion only
(TRL's default for prompt/completion data), images processed on the fly.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any


@dataclasses.dataclass(frozen=True)
class Sampling:
    """How to decode: ``temperature`` 0 is greedy."""

    temperature: float = 0.0
    top_p: float = 1.0
    max_new_tokens: int = 256
    repetition_penalty: float = 1.0

    def generate_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"max_new_tokens": self.max_new_tokens}
        if self.temperature > 0:
            kwargs.update(do_sample=True, temperature=self.temperature, top_p=self.top_p)
        else:
            kwargs.update(do_sample=False)
        if self.repetition_penalty != 1.0:
            kwargs["repetition_penalty"] = self.repetition_penalty
        return kwargs


def user_turn(text: str, *, image: bool = True) -> dict[str, Any]:
    """A user message: the image first, then the text (the world's order and TRL's for a string prompt)."""
    content = ([{"type": "image"}] if image else []) + [{"type": "text", "text": text}]
    return {"role": "user", "content": content}


def render(processor, messages: list[dict[str, Any]], *, add_generation_prompt: bool = True) -> str:
    """The prompt text of ``messages`` under the processor's chat template."""
    return processor.apply_chat_template(messages, tokenize=False, add_generation_prompt=add_generation_prompt)


def load(path: str | Path, *, dtype: str = "float32"):
    """``(model, processor)`` for a VLM folder or hub id (``longthink.models.load_vlm``), ready to decode."""
    import torch

    from longthink.models import load_vlm

    model, processor = load_vlm(str(path), dtype=getattr(torch, dtype))
    processor.tokenizer.padding_side = "left"
    return model, processor


def _stop_ids(model, tokenizer) -> set[int]:
    ids = {tokenizer.eos_token_id}
    eos = getattr(model.generation_config, "eos_token_id", None)
    ids |= set(eos) if isinstance(eos, (list, tuple)) else {eos}
    return {i for i in ids if i is not None}


def decode(tokenizer, ids: Sequence[int], stop_ids: set[int]) -> str:
    """Decode up to the first end-of-turn token, keeping special tokens but dropping padding."""
    out = []
    for i in ids:
        if i in stop_ids:
            break
        if i != tokenizer.pad_token_id:
            out.append(i)
    return tokenizer.decode(out, skip_special_tokens=False)


def generate(model, processor, prompts: Sequence[list[dict[str, Any]]], images: Sequence[Any], *,
             sampling: Sampling, batch_size: int = 16, seed: int = 0,
             progress: Callable[[int], None] | None = None) -> list[str]:
    """Batched generation: one output per (messages, image); ``images[i]`` may be None for a text-only prompt."""
    import torch

    if len(prompts) != len(images):
        raise ValueError(f"got {len(prompts)} prompts but {len(images)} images")
    tok = processor.tokenizer
    stops = _stop_ids(model, tok)
    kwargs = sampling.generate_kwargs()
    outputs: list[str] = []
    generator_state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    try:
        for start in range(0, len(prompts), batch_size):
            chunk = list(range(start, min(start + batch_size, len(prompts))))
            texts = [render(processor, prompts[i]) for i in chunk]
            imgs = [images[i] for i in chunk]
            if any(img is None for img in imgs) and not all(img is None for img in imgs):
                raise ValueError("a batch mixes prompts with and without an image; batch them apart")
            inputs = processor(text=texts, images=None if imgs[0] is None else imgs, padding=True,
                               return_tensors="pt")
            with torch.no_grad():
                gen = model.generate(**inputs, **kwargs, pad_token_id=tok.pad_token_id)
            new = gen[:, inputs["input_ids"].shape[1]:]
            outputs += [decode(tok, row.tolist(), stops) for row in new]
            if progress:
                progress(len(chunk))
    finally:
        torch.random.set_rng_state(generator_state)
    return outputs


# ----------------------------------------------------------------------------------------------------------- SFT
def freeze_vision_tower(model) -> int:
    """Freeze the vision encoder but not the projector (card §2.3: projector + LLM train); returns frozen params.

    Qwen2-VL keeps its projector (``merger``) inside ``model.model.visual``; LLaVA-NeXT keeps it outside the
    ``vision_tower`` (``multi_modal_projector``).
    """
    inner = getattr(model, "model", model)
    tower = getattr(inner, "visual", None) or getattr(inner, "vision_tower", None)
    if tower is None:
        raise ValueError(f"{type(model).__name__} has no vision tower (model.model.visual / vision_tower) to freeze")
    frozen = 0
    for name, param in tower.named_parameters():
        if name.startswith("merger."):
            continue
        param.requires_grad_(False)
        frozen += param.numel()
    return frozen


def to_dataset(rows: Sequence[dict[str, Any]]):
    """Rows ``{"images": [PIL], "prompt": [...], "completion": [...]}`` as a ``datasets.Dataset``."""
    from datasets import Dataset

    if not rows:
        raise ValueError("no training rows")
    return Dataset.from_list(list(rows))


def train_sft(*, base: str | Path, rows: Sequence[dict[str, Any]], stage, out_dir: Path, seed: int,
              freeze_vision: bool = True, dtype: str = "float32", prepare: Callable | None = None) -> dict:
    """TRL SFT of the VLM at ``base`` on prompt/completion rows; model + processor saved in ``out_dir/model``.

    ``prepare(model, processor)`` runs before training (the paper recipe adds LLaVA's think tokens there).
    """
    import torch
    from trl import SFTTrainer

    from longthink.models import load_vlm
    from longthink.runs import set_seed
    from longthink.training import check_trained, trainer_config

    set_seed(seed)
    model, processor = load_vlm(str(base), dtype=getattr(torch, dtype))
    if prepare is not None:
        prepare(model, processor)
    frozen = freeze_vision_tower(model) if freeze_vision else 0
    model.train()
    dataset = to_dataset(rows)
    args = trainer_config(stage, out_dir / "trainer", seed=seed)
    trainer = SFTTrainer(model=model, args=args, train_dataset=dataset, processing_class=processor)
    result = trainer.train()
    check_trained(stage.name, steps=result.global_step, loss=result.training_loss)
    trainer.save_model(str(out_dir / "model"))
    if trainer.is_world_process_zero():
        processor.save_pretrained(str(out_dir / "model"))
    history = [{"step": h["step"], "loss": h["loss"]} for h in trainer.state.log_history if "loss" in h]
    return {"train_loss": float(result.training_loss), "steps": int(result.global_step), "rows": len(rows),
            "frozen_parameters": frozen, "history": history,
            "seconds": round(float(result.metrics.get("train_runtime", 0.0)), 2)}
