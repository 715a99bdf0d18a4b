"""Qwen2-VL's processor without its video half, so VLM folders load on a torchvision-free CPU install.

Stock ``Qwen2VLProcessor`` insists on a video processor, which needs torchvision, and ``AutoProcessor`` then returns
only the tokenizer (notes/trl-transformers.md §4). :class:`Qwen2VLImageOnlyProcessor` drops the video processor and
uses the PIL image processor; TRL's SFT, DPO and GRPO trainers accept it as ``processing_class``. The tiny vision
world's VLM is saved with it; a hub Qwen2/2.5-VL folder loads with ``AutoProcessor`` where torchvision is installed.
"""

from __future__ import annotations

import json
from pathlib import Path

from transformers import Qwen2VLProcessor


class Qwen2VLImageOnlyProcessor(Qwen2VLProcessor):
    """Qwen2-VL's processor without the video processor (which needs torchvision)."""

    def __init__(self, image_processor=None, tokenizer=None, chat_template=None, **kwargs):
        kwargs.pop("video_processor", None)
        super().__init__(image_processor=image_processor, tokenizer=tokenizer, video_processor=None,
                         chat_template=chat_template, **kwargs)


def is_image_only_folder(folder: str | Path) -> bool:
    """A saved image-only processor: a processor config beside a plain fast tokenizer (the world VLM's)."""
    folder = Path(folder)
    cfg = folder / "tokenizer_config.json"
    if not (folder / "processor_config.json").is_file() or not cfg.is_file():
        return False
    # a LLaVA-NeXT folder also pairs a processor config with a plain fast tokenizer (Llama 3's)
    processor_class = json.loads((folder / "processor_config.json").read_text()).get("processor_class")
    if processor_class not in (None, "Qwen2VLImageOnlyProcessor", "Qwen2VLProcessor"):
        return False
    return json.loads(cfg.read_text()).get("tokenizer_class", "") in {"PreTrainedTokenizerFast", "TokenizersBackend"}


def load_image_only_processor(path: str | Path, *, chat_template: str | None = None) -> Qwen2VLImageOnlyProcessor:
    """Reload a saved image-only processor (``AutoProcessor`` would return only the tokenizer without torchvision)."""
    from transformers import PreTrainedTokenizerFast, Qwen2VLImageProcessorPil

    path = Path(path)
    if not (path / "tokenizer.json").is_file():
        raise FileNotFoundError(f"{path} holds no saved processor: tokenizer.json is missing")
    tokenizer = PreTrainedTokenizerFast.from_pretrained(str(path))
    image_processor = Qwen2VLImageProcessorPil.from_pretrained(str(path))
    return Qwen2VLImageOnlyProcessor(image_processor, tokenizer, chat_template=chat_template or tokenizer.chat_template)
