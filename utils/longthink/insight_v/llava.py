"""The paper recipe's base model, LLaVA-NeXT-LLaMA3-8B (``llava-hf/llama3-llava-next-8b-hf``), prepared as upstream.

Upstream trains its own LLaVA-NeXT build (``llava/model/llava_arch.py``); the kit uses the transformers port
(``LlavaNextForConditionalGeneration``) and makes it match (card §2.3, §3):

* the think tokens ``<thoughts>``, ``</thoughts>``, ``<output>``, ``</output>`` are added as *special* tokens and
  their new embedding rows (input and output) are the mean of the old rows (``initialize_vision_tokenizer``);
* anyres with the grid of the scripts, 1x1 ... 3x3 tiles of 336 px (``image_grid_pinpoints "(1x1),...,(3x3)"``),
  instead of the hub config's five pinpoints (kit choice: "grid matched");
* the vision layer the scripts select: -1 for the reasoning agent, -2 (the hub default) for the summary agent;
* the vision tower frozen, projector and LLM trained (``mm_tunable_parts="mm_mlp_adapter,mm_language_model"``),
  done by ``longthink.insight_v.vlm.freeze_vision_tower``.

``prepare`` is what the SFT and DPO stages call on a loaded model when ``models.add_think_tokens`` is on; it is
tested on a folder a test writes with ``save_pretrained`` of a tiny ``LlavaNextForConditionalGeneration``.
"""

from __future__ import annotations

from pathlib import Path

from longthink.formats import OUTPUT_CLOSE, OUTPUT_OPEN, THOUGHTS_CLOSE, THOUGHTS_OPEN

LLAVA_NEXT_LLAMA3_8B = "llava-hf/llama3-llava-next-8b-hf"
THINK_TOKENS = (THOUGHTS_OPEN, THOUGHTS_CLOSE, OUTPUT_OPEN, OUTPUT_CLOSE)
TILE = 336  # CLIP-L/14-336
VISION_LAYER = {"reason": -1, "summary": -2, "single": -1}  # llava_next_reason.sh / llava_next_summary.sh


def grid_pinpoints(tile: int = TILE, max_tiles: int = 3) -> list[list[int]]:
    """Upstream's ``(1x1),...,(3x3)``: every grid of 1-3 by 1-3 tiles, in pixels."""
    return [[tile * i, tile * j] for i in range(1, max_tiles + 1) for j in range(1, max_tiles + 1)]


def add_think_tokens(model, tokenizer, tokens=THINK_TOKENS) -> int:
    """Add ``tokens`` as special tokens; their new input and output embedding rows = the mean of the old rows.

    Tokens the tokenizer already has keep their ids and rows (the world tokenizer has them as plain tokens)."""
    import torch

    old_rows = model.get_input_embeddings().weight.shape[0]
    missing = [t for t in tokens if t not in tokenizer.get_vocab()]
    if not missing:
        return 0
    tokenizer.add_tokens(missing, special_tokens=True)
    model.resize_token_embeddings(len(tokenizer), mean_resizing=False)
    new_ids = [tokenizer.convert_tokens_to_ids(t) for t in missing]
    with torch.no_grad():
        emb_in = model.get_input_embeddings().weight
        emb_in[new_ids] = emb_in[:old_rows].mean(dim=0, keepdim=True)
        emb_out = model.get_output_embeddings().weight
        if emb_out.data_ptr() != emb_in.data_ptr():
            emb_out[new_ids] = emb_out[:old_rows].mean(dim=0, keepdim=True)
    return len(missing)


def match_grid(model, processor, pinpoints: list[list[int]] | None = None) -> None:
    """Use upstream's anyres grid (tiles of the vision tower's input size) in the model config and the processor."""
    pinpoints = pinpoints or grid_pinpoints(model.config.vision_config.image_size)
    model.config.image_grid_pinpoints = pinpoints
    processor.image_processor.image_grid_pinpoints = pinpoints


def is_llava_next(model) -> bool:
    return getattr(model.config, "model_type", "") == "llava_next"


def prepare(model, processor, *, role: str = "reason", add_tokens: bool = True) -> dict:
    """Upstream's preparation of a LLaVA-NeXT base for one agent (a no-op but for the tokens on other models)."""
    if role not in VISION_LAYER:
        raise ValueError(f"unknown agent role {role!r}; known: {sorted(VISION_LAYER)}")
    added = add_think_tokens(model, processor.tokenizer) if add_tokens else 0
    if not is_llava_next(model):
        return {"added_tokens": added}
    match_grid(model, processor)
    model.config.vision_feature_layer = VISION_LAYER[role]
    return {"added_tokens": added, "vision_feature_layer": VISION_LAYER[role],
            "image_grid_pinpoints": len(model.config.image_grid_pinpoints)}


def load_llava_next(path: str | Path, *, role: str = "reason", dtype: str = "bfloat16"):
    """``(model, processor, info)``: a LLaVA-NeXT folder or hub id, loaded and prepared for ``role``."""
    import torch

    from longthink.models import load_vlm

    model, processor = load_vlm(str(path), dtype=getattr(torch, dtype))
    if not is_llava_next(model):
        raise ValueError(f"{path} is a {model.config.model_type!r} model, not LLaVA-NeXT (llava_next)")
    info = prepare(model, processor, role=role)
    return model, processor, info
