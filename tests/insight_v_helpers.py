"""Tiny stand-ins for the Insight-V tests, built in the test itself (seconds): a Qwen2-VL with the kit's tokenizer and
image-only processor, and a tiny LLaVA-NeXT of the paper recipe's class."""

from __future__ import annotations

from pathlib import Path

CORPUS = [
    "<thoughts>\nLook at the scene: a1 lrc a2 . a3 syt\nCount: count 2\n</thoughts>",
    "How many red circles are there? Reason step by step.",
    "Check the reasoning, then answer. QUESTION: REASON PROCESS: yes no 0 1 2 3 [ 10 , 20 , 30 , 40 ]",
    '{"title": "Scan", "content": "row 1: large red circle", "next_action": "continue"} final_answer',
] * 10


def tiny_tokenizer():
    from longthink.tokenizer import build_tokenizer

    return build_tokenizer(CORPUS, vocab_size=320)


def tiny_processor(tok):
    from transformers import Qwen2VLImageProcessorPil

    from longthink.processors import Qwen2VLImageOnlyProcessor
    from longthink.tokenizer import CHAT_TEMPLATE

    image_processor = Qwen2VLImageProcessorPil(min_pixels=56 * 56, max_pixels=56 * 56)
    return Qwen2VLImageOnlyProcessor(image_processor, tok, chat_template=CHAT_TEMPLATE)


def tiny_qwen2vl(tok, *, seed: int = 0):
    import torch
    from transformers import Qwen2VLConfig, Qwen2VLForConditionalGeneration

    from longthink.tokenizer import IMAGE_PAD, VIDEO_PAD, VISION_END, VISION_START

    ids = {t: tok.convert_tokens_to_ids(t) for t in (IMAGE_PAD, VIDEO_PAD, VISION_START, VISION_END)}
    config = Qwen2VLConfig(
        text_config=dict(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                         num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=1024,
                         rope_parameters={"rope_type": "default", "rope_theta": 10000.0, "mrope_section": [2, 3, 3]},
                         tie_word_embeddings=True, bos_token_id=tok.eos_token_id, eos_token_id=tok.eos_token_id,
                         pad_token_id=tok.pad_token_id),
        vision_config=dict(depth=1, embed_dim=16, hidden_size=32, num_heads=2, mlp_ratio=2, patch_size=14,
                           spatial_merge_size=2, temporal_patch_size=2),
        image_token_id=ids[IMAGE_PAD], video_token_id=ids[VIDEO_PAD], vision_start_token_id=ids[VISION_START],
        vision_end_token_id=ids[VISION_END], tie_word_embeddings=True, eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id)
    torch.manual_seed(seed)
    model = Qwen2VLForConditionalGeneration(config)
    model.generation_config.eos_token_id = tok.eos_token_id
    model.generation_config.pad_token_id = tok.pad_token_id
    return model


def save_tiny_vlm(path: Path) -> Path:
    """A tiny Qwen2-VL + processor saved like a hub folder (loads with ``longthink.models.load_vlm``)."""
    tok = tiny_tokenizer()
    processor = tiny_processor(tok)
    model = tiny_qwen2vl(tok)
    model.save_pretrained(str(path), safe_serialization=True)
    processor.save_pretrained(str(path))
    return path


def image(seed: int = 0, size: int = 56):
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 255, (size, size, 3), dtype=np.uint8), "RGB")


LLAMA3_TEMPLATE = (
    "{% for message in messages %}{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' }}"
    "{% if message['content'] is string %}{{ message['content'] }}{% else %}{% for part in message['content'] %}"
    "{% if part['type'] == 'image' %}{{ '<image>\\n' }}{% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}"
    "{% endfor %}{% endif %}{{ '<|eot_id|>' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}"
)


def save_tiny_llava_next(path: Path, *, tile: int = 28) -> Path:
    """A tiny ``LlavaNextForConditionalGeneration`` (CLIP + Llama, the paper recipe's class) saved with
    ``save_pretrained``, with a Llama-3-style chat template and a PIL image processor."""
    import torch
    from transformers import (
        CLIPVisionConfig,
        LlamaConfig,
        LlavaNextConfig,
        LlavaNextForConditionalGeneration,
        LlavaNextImageProcessorPil,
        LlavaNextProcessor,
    )

    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    specials = ["<|begin_of_text|>", "<|eot_id|>", "<|start_header_id|>", "<|end_header_id|>", "<image>", "<pad>"]
    bpe.train_from_iterator(CORPUS, trainers.BpeTrainer(vocab_size=300, special_tokens=specials, show_progress=False,
                                                        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tok = PreTrainedTokenizerFast(tokenizer_object=bpe, eos_token="<|eot_id|>", pad_token="<pad>",
                                  bos_token="<|begin_of_text|>", padding_side="left", chat_template=LLAMA3_TEMPLATE)
    image_processor = LlavaNextImageProcessorPil(
        size={"shortest_edge": tile}, crop_size={"height": tile, "width": tile},
        image_grid_pinpoints=[[tile, 2 * tile], [2 * tile, tile], [2 * tile, 2 * tile]])
    processor = LlavaNextProcessor(image_processor=image_processor, tokenizer=tok, patch_size=14,
                                   vision_feature_select_strategy="default", chat_template=LLAMA3_TEMPLATE,
                                   num_additional_image_tokens=1)
    config = LlavaNextConfig(
        vision_config=CLIPVisionConfig(hidden_size=16, intermediate_size=32, num_hidden_layers=2,
                                       num_attention_heads=2, image_size=tile, patch_size=14, projection_dim=16),
        text_config=LlamaConfig(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                                num_attention_heads=2, num_key_value_heads=1, eos_token_id=tok.eos_token_id,
                                pad_token_id=tok.pad_token_id, tie_word_embeddings=False),
        image_token_index=tok.convert_tokens_to_ids("<image>"), image_grid_pinpoints=image_processor.image_grid_pinpoints,
        vision_feature_layer=-2, vision_feature_select_strategy="default", tie_word_embeddings=False)
    torch.manual_seed(0)
    model = LlavaNextForConditionalGeneration(config)
    model.generation_config.eos_token_id = tok.eos_token_id
    model.generation_config.pad_token_id = tok.pad_token_id
    model.save_pretrained(str(path), safe_serialization=True)
    processor.save_pretrained(str(path))
    return path


def world_tools() -> dict:
    """The smoke vision world's scene and chain-teacher tools, through the resolver as the paper room reaches them."""
    from longthink.resolver import resolve

    return {name: resolve(f"world-vision:{name}", kind="tool", profile="smoke").load() for name in ("scenes", "chains")}


def question_rows(world: dict, n: int, *, seed: int) -> list[dict]:
    """``n`` world questions as Insight-V's question rows (id, question, answer, kind, the world's example)."""
    exs = world["scenes"].generate_examples(n, seed=seed)
    return [{"id": e["id"], "question": e["question"], "answer": e["answer"], "kind": e["kind"], "example": e}
            for e in exs]
