"""Replies of a VLM to rows, at any pixel bounds: the evaluation's and TTRS's one way to ask the model.

The prompt text is rendered exactly as TRL's ``GRPOTrainer`` renders it during training
(``trl.data_utils.prepare_multimodal_messages`` + ``apply_chat_template``: the image before the question), so the
model is evaluated on the prompts it was trained on. Decoding is greedy (the card's evaluation, VLM-R1
``test_rec_r1.py``); ``max_new_tokens`` is the recipe's. Each reply comes with the size of the image the model was
actually given (read from the processor's ``image_grid_thw``, so it is the processor's own ``smart_resize``) and its
number of visual tokens, which TTRS reports as compute.

``backend="vllm"`` (paper profile, GPU nodes) decodes with vLLM, imported only inside :func:`vllm_replies`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from longthink.taco.frames import FACTOR, PixelBounds, given_size, pixel_bounds_as, processor_bounds

BACKENDS = ("hf", "vllm")
VLLM_HINT = "backend vllm needs the `vllm` package (GPU nodes): pip install vllm, or set the eval backend to hf"


@dataclasses.dataclass
class Replies:
    """Replies in row order, with the ``(w̄, h̄)`` each image was given at and its visual tokens."""

    texts: list[str] = dataclasses.field(default_factory=list)
    given_sizes: list[tuple[int, int]] = dataclasses.field(default_factory=list)
    visual_tokens: list[int] = dataclasses.field(default_factory=list)


def prompt_texts(processor, rows: Sequence[dict]) -> list[str]:
    """The chat-template text of each row's prompt, with the image placeholder where TRL puts it."""
    from trl.data_utils import apply_chat_template, prepare_multimodal_messages

    return [apply_chat_template({"prompt": prepare_multimodal_messages(r["prompt"], images=[r["image"]])},
                                processor)["prompt"] for r in rows]


def generate_replies(model, processor, rows: Sequence[dict], *, bounds: PixelBounds | None = None,
                     max_new_tokens: int = 256, batch_size: int = 32, do_sample: bool = False,
                     temperature: float = 1.0) -> Replies:
    """Greedy (or sampled) replies to ``rows`` with the processor's pixel bounds set to ``bounds`` for the call."""
    import contextlib

    import torch

    if max_new_tokens < 1 or batch_size < 1:
        raise ValueError(f"need max_new_tokens >= 1 and batch_size >= 1, got {max_new_tokens}, {batch_size}")
    tok = processor.tokenizer
    out = Replies()
    device = next(model.parameters()).device
    scope = pixel_bounds_as(processor, bounds) if bounds is not None else contextlib.nullcontext()
    old_side = tok.padding_side
    tok.padding_side = "left"
    try:
        with scope:
            for start in range(0, len(rows), batch_size):
                chunk = list(rows[start: start + batch_size])
                batch = processor(text=prompt_texts(processor, chunk), images=[r["image"] for r in chunk],
                                  padding=True, return_tensors="pt").to(device)
                kwargs = dict(max_new_tokens=max_new_tokens, do_sample=do_sample, eos_token_id=tok.eos_token_id,
                              pad_token_id=tok.pad_token_id)
                if do_sample:
                    kwargs.update(temperature=temperature, top_k=0, top_p=1.0)
                with torch.no_grad():
                    generated = model.generate(**batch, **kwargs)
                new = generated[:, batch["input_ids"].shape[1]:]
                out.texts += [t.strip() for t in tok.batch_decode(new, skip_special_tokens=True)]
                for t, h, w in batch["image_grid_thw"].tolist():
                    out.given_sizes.append((int(w) * 14, int(h) * 14))
                    out.visual_tokens.append(int(t * h * w) // 4)
    finally:
        tok.padding_side = old_side
    return out


def vllm_replies(model_path: str, rows: Sequence[dict], *, bounds: PixelBounds, max_new_tokens: int = 256,
                 llm: Any = None, processor=None) -> Replies:
    """Greedy replies through vLLM (paper profile); sizes and tokens follow ``smart_resize`` at ``bounds``."""
    try:
        import vllm
    except ImportError as exc:
        raise ImportError(VLLM_HINT) from exc
    if llm is None:
        llm = vllm.LLM(model=model_path, limit_mm_per_prompt={"image": 1},
                       mm_processor_kwargs={"min_pixels": bounds.min_pixels, "max_pixels": bounds.max_pixels})
    if processor is None:
        from transformers import AutoProcessor

        processor = AutoProcessor.from_pretrained(model_path)
    texts = prompt_texts(processor, rows)
    params = vllm.SamplingParams(temperature=0.0, max_tokens=max_new_tokens)
    outputs = llm.generate([{"prompt": t, "multi_modal_data": {"image": r["image"]}} for t, r in zip(texts, rows)],
                           params)
    out = Replies(texts=[o.outputs[0].text.strip() for o in outputs])
    for r in rows:
        w, h = given_size(tuple(r["image_size"]), bounds)
        out.given_sizes.append((w, h))
        out.visual_tokens.append(w * h // (FACTOR * FACTOR))
    return out


def current_bounds(processor) -> PixelBounds:
    return processor_bounds(processor)
