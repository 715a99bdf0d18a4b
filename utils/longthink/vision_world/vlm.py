"""A tiny Qwen2-VL built from config, with a processor built locally, saved and loaded like a hub model.

The model is a real ``Qwen2VLForConditionalGeneration`` (Qwen2-VL's native dynamic resolution: the number of
visual tokens follows the input resolution, which TACO's test-time resolution scaling varies). The processor is
``Qwen2VLImageOnlyProcessor``: stock ``Qwen2VLProcessor`` insists on a video processor, which needs torchvision;
this subclass drops it (notes/trl-transformers.md §4), so TRL's SFT, DPO and GRPO trainers accept it as a
``processing_class`` on a torchvision-free CPU install. The tokenizer is the world tokenizer (``build_tokenizer``)
trained on the visual world's texts, with every cell label, code, attribute word, number and walk word added whole
(``look.world_words``), so a reply's words are one token each; its ChatML template renders ``{"type": "image"}``
parts as ``<|vision_start|><|image_pad|><|vision_end|>``.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from longthink.processors import Qwen2VLImageOnlyProcessor, load_image_only_processor
from longthink.tokenizer import CHAT_TEMPLATE, IMAGE_PAD, VIDEO_PAD, VISION_END, VISION_START

META_FILE = "world_vision.json"


@dataclasses.dataclass(frozen=True)
class VLMArch:
    """The tiny model's shape (defaults: the calibration notes' 1.4M-parameter model; the tiny profile's base VLM is
    set in recipes/world_vision.yaml)."""

    hidden_size: int = 128
    num_hidden_layers: int = 3
    num_attention_heads: int = 4
    num_key_value_heads: int = 2
    intermediate_size: int = 512
    vision_depth: int = 3
    vision_embed_dim: int = 96
    vision_num_heads: int = 4
    max_position_embeddings: int = 2048

    def check(self) -> None:
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"VLMArch.{f.name} must be a positive int, got {v!r}")
        if self.hidden_size % self.num_attention_heads or (self.hidden_size // self.num_attention_heads) % 16:
            raise ValueError(
                f"hidden_size={self.hidden_size} / num_attention_heads={self.num_attention_heads} must give a "
                "head size divisible by 16 (mrope splits half of it 2:3:3)"
            )
        if self.num_attention_heads % self.num_key_value_heads:
            raise ValueError(f"num_attention_heads={self.num_attention_heads} must be a multiple of "
                             f"num_key_value_heads={self.num_key_value_heads}")
        if self.vision_embed_dim % self.vision_num_heads or (self.vision_embed_dim // self.vision_num_heads) % 4:
            raise ValueError(f"vision_embed_dim={self.vision_embed_dim} / vision_num_heads={self.vision_num_heads} "
                             "must give a head size divisible by 4 (2D rotary positions)")


def tokenizer_corpus(*, seed: int = 0, n: int = 600, grid: int = 4) -> list[str]:
    """Texts of the visual world to train the BPE on: questions, gold replies (both reasoning styles) and
    Insight-V-format teacher chains with mistakes."""
    from longthink.vision_world.chains import ChainTeacher, format_thoughts
    from longthink.vision_world.replies import describe_reply, reply
    from longthink.vision_world.scenes import Scene, generate_examples

    examples = generate_examples(n, seed=seed, grid=grid)
    teacher = ChainTeacher(error_rate=0.3, seed=seed)
    texts = []
    for ex in examples:
        texts += [ex["question"], ex["answer"], describe_reply(Scene.from_dict(ex["scene"]))]
        texts += [reply(ex, style="long"), reply(ex, style="short"), format_thoughts(teacher.chain(ex))]
    return texts


def build_vision_tokenizer(*, vocab_size: int = 512, seed: int = 0, corpus_size: int = 600, grid: int = 4,
                           max_number: int = 112):
    """The world tokenizer trained on the visual world's texts (same specials and template as the text world),
    with every cell label, code, attribute word, number ``0..max_number`` and walk word added whole
    (``look.world_words``): each is one token wherever it stands after a space."""
    from longthink.tokenizer import build_tokenizer
    from longthink.vision_world.look import world_words

    return build_tokenizer(tokenizer_corpus(seed=seed, n=corpus_size, grid=grid), vocab_size=vocab_size,
                           extra_tokens=world_words(grid, max_number))


def build_processor(tokenizer, *, min_pixels: int = 28 * 28, max_pixels: int = 448 * 448):
    """An image-only Qwen2-VL processor around the world tokenizer.

    The pixel bounds are wide on purpose: an image keeps its own resolution (rounded to 28 px), so a scene
    rendered at a shifted resolution really gives the model another number of visual tokens. TACO's TTRS rescales
    at test time with :func:`set_pixel_bounds` (transformers 5 keeps the bounds in ``image_processor.size``).
    """
    from transformers import Qwen2VLImageProcessorPil

    if not 0 < min_pixels <= max_pixels:
        raise ValueError(f"need 0 < min_pixels <= max_pixels, got min_pixels={min_pixels!r}, max_pixels={max_pixels!r}")
    image_processor = Qwen2VLImageProcessorPil(min_pixels=min_pixels, max_pixels=max_pixels)
    return Qwen2VLImageOnlyProcessor(image_processor, tokenizer, chat_template=CHAT_TEMPLATE)


def pixel_bounds(processor) -> tuple[int, int]:
    """``(min_pixels, max_pixels)`` the processor resizes images into (Qwen2-VL ``smart_resize``)."""
    size = processor.image_processor.size
    return int(size["shortest_edge"]), int(size["longest_edge"])


def set_pixel_bounds(processor, *, min_pixels: int, max_pixels: int):
    """Change the pixel bounds in place (e.g. TTRS: ``max_pixels = s × training pixels``); returns the processor."""
    if not 0 < min_pixels <= max_pixels:
        raise ValueError(f"need 0 < min_pixels <= max_pixels, got min_pixels={min_pixels!r}, max_pixels={max_pixels!r}")
    processor.image_processor.size = {"shortest_edge": int(min_pixels), "longest_edge": int(max_pixels)}
    return processor


def build_vlm(tokenizer, arch: VLMArch = VLMArch(), *, seed: int = 0):
    """A freshly initialised tiny ``Qwen2VLForConditionalGeneration`` for ``tokenizer`` (seeded)."""
    import torch
    from transformers import Qwen2VLConfig, Qwen2VLForConditionalGeneration

    arch.check()
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in (IMAGE_PAD, VIDEO_PAD, VISION_START, VISION_END)}
    missing = [t for t, i in ids.items() if i is None or i == tokenizer.unk_token_id]
    if missing:
        raise ValueError(f"the tokenizer lacks the vision tokens {missing}: build it with longthink.tokenizer")
    head_dim = arch.hidden_size // arch.num_attention_heads
    unit = head_dim // 16  # head_dim/2 rotary frequencies split 2:3:3 over (time, height, width)
    config = Qwen2VLConfig(
        text_config=dict(
            vocab_size=len(tokenizer),
            hidden_size=arch.hidden_size,
            intermediate_size=arch.intermediate_size,
            num_hidden_layers=arch.num_hidden_layers,
            num_attention_heads=arch.num_attention_heads,
            num_key_value_heads=arch.num_key_value_heads,
            max_position_embeddings=arch.max_position_embeddings,
            rope_parameters={"rope_type": "default", "rope_theta": 10000.0,
                             "mrope_section": [2 * unit, 3 * unit, 3 * unit]},
            tie_word_embeddings=True,
            bos_token_id=tokenizer.eos_token_id,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
        ),
        vision_config=dict(
            depth=arch.vision_depth,
            embed_dim=arch.vision_embed_dim,
            hidden_size=arch.hidden_size,
            num_heads=arch.vision_num_heads,
            mlp_ratio=4,
            patch_size=14,
            spatial_merge_size=2,
            temporal_patch_size=2,
        ),
        image_token_id=ids[IMAGE_PAD],
        video_token_id=ids[VIDEO_PAD],
        vision_start_token_id=ids[VISION_START],
        vision_end_token_id=ids[VISION_END],
        tie_word_embeddings=True,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(seed)
    model = Qwen2VLForConditionalGeneration(config)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    return model


def save_vlm(model, processor, path: str | Path, *, meta: dict[str, Any] | None = None) -> Path:
    """Save model + processor (+ ``world_vision.json`` with ``meta``) atomically, like a hub folder."""
    from longthink.files import atomic_dir

    path = Path(path)
    with atomic_dir(path) as tmp:
        write_vlm(model, processor, tmp, meta=meta)
    return path


def write_vlm(model, processor, folder: str | Path, *, meta: dict[str, Any] | None = None) -> Path:
    """Write into an existing (temp) folder, e.g. inside ``cached_build``."""
    from longthink.files import atomic_write_json

    folder = Path(folder)
    model.save_pretrained(str(folder), safe_serialization=True)
    processor.save_pretrained(str(folder))
    atomic_write_json(folder / META_FILE, meta or {})
    return folder


def load_processor(path: str | Path) -> Qwen2VLImageOnlyProcessor:
    """Reload the processor (``AutoProcessor`` would return only the tokenizer without torchvision)."""
    return load_image_only_processor(path, chat_template=CHAT_TEMPLATE)


def load_vlm(path: str | Path, *, dtype: Any = None):
    """``(model, processor)`` from a saved folder; the model is float32 and in eval mode."""
    import torch
    from transformers import Qwen2VLForConditionalGeneration

    path = Path(path)
    if not (path / "config.json").is_file():
        raise FileNotFoundError(f"{path} is not a saved VLM: config.json is missing")
    model = Qwen2VLForConditionalGeneration.from_pretrained(str(path), dtype=dtype or torch.float32)
    model.eval()
    return model, load_processor(path)


def read_meta(path: str | Path) -> dict[str, Any]:
    f = Path(path) / META_FILE
    return json.loads(f.read_text()) if f.is_file() else {}


def build_result(path: str | Path) -> dict[str, Any]:
    """What the build stored (build seconds, steps per second, loss curve...)."""
    import json

    f = Path(path) / "result.json"
    return json.loads(f.read_text()) if f.is_file() else {}


def user_message(question: str, *, image: bool = True) -> list[dict[str, Any]]:
    """A user turn in the conversational format TRL uses: the image, then the question (TRL's own order for a
    string prompt; TRL fills the ``{"type": "image"}`` placeholder with the row's image). ``image=False``: text
    only (the pretraining curriculum's lookup batches, where the look is given as text)."""
    if not image:
        return [{"role": "user", "content": question}]
    return [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": question}]}]


def num_parameters(model) -> int:
    return sum(p.numel() for p in model.parameters())
