"""The vision tower's own pretraining: the tiny world's stand-in for the pretrained vision encoder a VLM starts from.

Qwen2-VL and LLaVA-NeXT put a vision encoder that was already pretrained (a ViT trained on image-text pairs,
CLIP, SigLIP) in front of their language model. The tiny world has no such encoder, and learning one through the
language model's loss alone is slow and erratic on a CPU: the look (``look.description``) appears only when the
language model attends to the right visual token *and* the tower encodes that cell's content, so the loss sits on a
plateau until both happen at once. Measured on world seed 0 (``benchmarks/probe_vlm.py``, batches of 16): in three
runs with different task mixes the describe loss left its plateau (about 0.8) after roughly 600, 1,100 and more than
1,500 steps, and the last run ended with 0.60 of cells right. With the tower trained first (200 steps, about 30 s;
0.9996 of cells read right by the head), the describe loss was 0.05 by step 500 and the look 1.000 per cell.

So the tower is first trained on its own, in a few hundred cheap steps (no language model in the loop): a linear
head reads each merged visual token and predicts its cell's content (colour, shape, size or empty) and place
(row, column); at the training resolution token ``k`` of an image is cell ``k`` (one 28 px token per cell). The
head is then dropped; the language model's pretraining (``pretrain``) starts from the trained tower and trains
everything together. This is not a device for finding an object by the question's words (issue 6's devices for that
are gone): it only gives the model eyes before it learns to describe what they see.
"""

from __future__ import annotations

import random
from typing import Any

from longthink.vision_world.look import ATTRIBUTE_WORDS, ATTRIBUTES
from longthink.vision_world.scenes import Scene, make_scene, render


def cell_targets(scene: Scene):
    """``(grid², 5)`` long tensor: per cell in reading order, colour, shape and size (0 = empty, else 1 + index of
    the value), then row and column."""
    import torch

    rows = []
    for r in range(scene.grid):
        for c in range(scene.grid):
            obj = scene.at(r, c)
            attrs = [0 if obj is None else 1 + ATTRIBUTE_WORDS[a].index(getattr(obj, a)) for a in ATTRIBUTES]
            rows.append([*attrs, r, c])
    return torch.tensor(rows)


def target_sizes(grid: int) -> list[int]:
    return [len(ATTRIBUTE_WORDS[a]) + 1 for a in ATTRIBUTES] + [grid, grid]


def pretrain_vision_tower(model, processor, *, grid: int, resolution: int, min_objects: int, max_objects: int,
                          steps: int, batch_size: int, learning_rate: float, seed: int) -> dict[str, Any]:
    """Train ``model.model.visual`` with a temporary linear head on per-cell targets; return its figures."""
    import torch
    import torch.nn.functional as F

    if resolution != grid * 28:
        raise ValueError(f"vision pretraining needs one visual token per cell: resolution {resolution} != grid {grid} x 28")
    visual = model.model.visual
    sizes = target_sizes(grid)
    head = torch.nn.Linear(model.config.get_text_config().hidden_size, sum(sizes))
    params = [*visual.parameters(), *head.parameters()]
    opt = torch.optim.AdamW(params, lr=learning_rate, weight_decay=0.0)
    rng = random.Random(f"vision-{seed}")
    losses, accs = [], []
    visual.train()
    for _ in range(steps):
        scenes = [make_scene(rng, grid=grid, min_objects=min_objects, max_objects=max_objects)
                  for _ in range(batch_size)]
        inputs = processor.image_processor(images=[render(s, resolution) for s in scenes], return_tensors="pt")
        tokens = visual(inputs["pixel_values"], grid_thw=inputs["image_grid_thw"]).pooler_output
        targets = torch.cat([cell_targets(s) for s in scenes])
        logits = head(tokens).split(sizes, dim=-1)
        loss = sum(F.cross_entropy(lg, targets[:, i]) for i, lg in enumerate(logits))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        losses.append(loss.item())
        with torch.no_grad():
            right = torch.stack([lg.argmax(-1) == targets[:, i] for i, lg in enumerate(logits[:3])]).all(0)
            accs.append(right.float().mean().item())
    tail = max(1, min(20, len(losses)))
    return {"vision_steps": steps, "vision_final_loss": round(sum(losses[-tail:]) / tail, 4) if losses else None,
            "vision_cell_acc": round(sum(accs[-tail:]) / tail, 4) if accs else None}
