"""Tiny models and rows for the TACO tests, built in the test itself (seconds): a Qwen2-VL or Qwen2.5-VL from config
with the world tokenizer and the image-only processor, saved like a hub folder, and rows from the world's scenes."""

from __future__ import annotations

from pathlib import Path

from longthink.tokenizer import CHAT_TEMPLATE, IMAGE_PAD, VIDEO_PAD, VISION_END, VISION_START, build_tokenizer

CORPUS = ["<think> a1 lrc a2 . find red circle : a1 yes -> yes . so a1 box a1 large : [ 3 , 4 , 25 , 26 ] </think>"
          "<answer> [ 3 , 4 , 25 , 26 ] </answer>", "<think> count 3 so 3 </think><answer> 3 </answer>",
          "What colour is the triangle? How many red objects are there? Give the bounding box of the red circle."] * 10


def tokenizer():
    return build_tokenizer(CORPUS, vocab_size=400)


def vlm_folder(path: Path, *, family: str = "qwen2_vl", seed: int = 0, hidden: int = 32) -> Path:
    """Save a tiny VLM of ``family`` (``qwen2_vl`` | ``qwen2_5_vl``) with an image-only processor into ``path``."""
    import torch
    from transformers import (
        Qwen2_5_VLConfig,
        Qwen2_5_VLForConditionalGeneration,
        Qwen2VLConfig,
        Qwen2VLForConditionalGeneration,
        Qwen2VLImageProcessorPil,
    )

    from longthink.processors import Qwen2VLImageOnlyProcessor

    tok = tokenizer()
    ids = {t: tok.convert_tokens_to_ids(t) for t in (IMAGE_PAD, VIDEO_PAD, VISION_START, VISION_END)}
    text = dict(vocab_size=len(tok), hidden_size=hidden, intermediate_size=2 * hidden, num_hidden_layers=1,
                num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=1024, tie_word_embeddings=True,
                rope_parameters={"rope_type": "default", "rope_theta": 10000.0, "mrope_section": [2, 3, 3]},
                bos_token_id=tok.eos_token_id, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
    common = dict(image_token_id=ids[IMAGE_PAD], video_token_id=ids[VIDEO_PAD],
                  vision_start_token_id=ids[VISION_START], vision_end_token_id=ids[VISION_END],
                  tie_word_embeddings=True, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
    if family == "qwen2_vl":
        vision = dict(depth=1, embed_dim=16, hidden_size=hidden, num_heads=2, mlp_ratio=2, patch_size=14,
                      spatial_merge_size=2, temporal_patch_size=2)
        config, cls = Qwen2VLConfig(text_config=text, vision_config=vision, **common), Qwen2VLForConditionalGeneration
    elif family == "qwen2_5_vl":
        vision = dict(depth=1, hidden_size=16, out_hidden_size=hidden, intermediate_size=32, num_heads=2,
                      patch_size=14, spatial_merge_size=2, temporal_patch_size=2, window_size=56,
                      fullatt_block_indexes=[0])
        config, cls = Qwen2_5_VLConfig(text_config=text, vision_config=vision, **common), Qwen2_5_VLForConditionalGeneration
    else:
        raise ValueError(family)
    torch.manual_seed(seed)
    model = cls(config)
    model.generation_config.eos_token_id = tok.eos_token_id
    model.generation_config.pad_token_id = tok.pad_token_id
    processor = Qwen2VLImageOnlyProcessor(Qwen2VLImageProcessorPil(min_pixels=28 * 28, max_pixels=448 * 448), tok,
                                          chat_template=CHAT_TEMPLATE)
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(path))
    processor.save_pretrained(str(path))
    return path


def scenes():
    from longthink.resolver import resolve

    return resolve("world-vision:scenes", kind="tool", profile="smoke").load()


def rows(*, split: str = "train", n_rec: int = 4, n_vqa: int = 4, seed: int = 0, resolution: int = 112,
         objects=(3, 5)) -> list[dict]:
    from longthink.taco.data import world_rows

    return world_rows(scenes(), split=split, seed=seed, n_rec=n_rec, n_vqa=n_vqa, rec_kinds=["ground"],
                      vqa_kinds=["count_cond", "colour_of"], objects=list(objects), resolution=resolution,
                      prompt_template="{question}")
