"""One way to get a model with its tokenizer or processor: a local folder, a hub id, or a ``world:<name>`` ref.

``world:<name>`` resolves to a folder of the tiny world, built on first use and cached by config hash (the tiny
and smoke profiles). A hub id is loaded with ``from_pretrained`` as the paper profile expects. Either way the
weights are safetensors only and ``trust_remote_code`` stays off.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from longthink.runs import atomic_dir

WORLD_PREFIX = "world:"
WORLD_VISION_PREFIX = "world-vision:"


class ModelLoadError(RuntimeError):
    """A model reference cannot be resolved or loaded; the message names the reference."""


def resolve_model(ref: str, profile: str | None = None) -> str:
    """Map ``world:<name>`` to its cached folder; return hub ids and local paths unchanged."""
    if not isinstance(ref, str) or not ref.strip():
        raise ModelLoadError(f"a model reference must be a non-empty string, got {ref!r}")
    if ref.startswith(WORLD_PREFIX):
        from longthink.text_world.models import world_model_path

        return str(world_model_path(ref[len(WORLD_PREFIX) :], profile or "tiny"))
    if ref.startswith(WORLD_VISION_PREFIX):
        from longthink.vision_world.pretrain import vision_model_path

        return str(vision_model_path(profile or "tiny"))
    return ref


def _check_source(path_or_id: str) -> None:
    """A path-like reference must be an existing folder holding config.json (hub ids pass through)."""
    looks_local = path_or_id.startswith((".", "/", "~")) or Path(path_or_id).exists() or path_or_id.count("/") > 1
    if not looks_local:
        return
    folder = Path(path_or_id).expanduser()
    if not folder.is_dir():
        raise ModelLoadError(f"model folder not found: {folder}")
    if not (folder / "config.json").is_file():
        raise ModelLoadError(f"{folder} is not a saved model: config.json is missing")


def _is_world_tokenizer(folder: Path) -> bool:
    cfg = folder / "tokenizer_config.json"
    if not cfg.is_file():
        return False
    cls = json.loads(cfg.read_text()).get("tokenizer_class", "")
    return cls in {"PreTrainedTokenizerFast", "TokenizersBackend"}


def load_tokenizer(path_or_id: str):
    """The saved tokenizer; world tokenizers bypass AutoTokenizer (it would pick Qwen2Tokenizer for qwen2)."""
    from transformers import AutoTokenizer, PreTrainedTokenizerFast

    folder = Path(path_or_id).expanduser()
    if folder.is_dir() and _is_world_tokenizer(folder):
        return PreTrainedTokenizerFast.from_pretrained(str(folder))
    return AutoTokenizer.from_pretrained(path_or_id, trust_remote_code=False)


def load_causal_lm(ref: str, *, profile: str | None = None, dtype: Any = None, device: str | None = None):
    """``(model, tokenizer)`` for a causal LM; the model is in eval mode."""
    import torch
    from transformers import AutoModelForCausalLM

    path = resolve_model(ref, profile)
    _check_source(path)
    try:
        model = AutoModelForCausalLM.from_pretrained(
            path, dtype=dtype or torch.float32, use_safetensors=True, trust_remote_code=False
        )
        tokenizer = load_tokenizer(path)
    except OSError as exc:
        raise ModelLoadError(f"cannot load model {ref!r} (resolved to {path}): {exc}") from exc
    if device:
        model.to(device)
    model.eval()
    return model, tokenizer


def load_vlm(ref: str, *, profile: str | None = None, dtype: Any = None, device: str | None = None):
    """``(model, processor)`` for an image-text-to-text model (the world VLM or a hub Qwen2/2.5-VL)."""
    import torch
    from transformers import AutoModelForImageTextToText, AutoProcessor

    path = resolve_model(ref, profile)
    _check_source(path)
    try:
        model = AutoModelForImageTextToText.from_pretrained(
            path, dtype=dtype or torch.float32, use_safetensors=True, trust_remote_code=False
        )
        folder = Path(path)
        if folder.is_dir() and (folder / "processor_config.json").exists() and _is_world_tokenizer(folder):
            from longthink.vision_world.vlm import load_processor  # the image-only Qwen2-VL processor (no torchvision)

            processor = load_processor(folder)
        else:
            processor = AutoProcessor.from_pretrained(path, trust_remote_code=False)
    except OSError as exc:
        raise ModelLoadError(f"cannot load VLM {ref!r} (resolved to {path}): {exc}") from exc
    if device:
        model.to(device)
    model.eval()
    return model, processor


def save_pretrained(model, tokenizer_or_processor, path: str | Path) -> Path:
    """Save model + tokenizer/processor as safetensors into ``path`` atomically (temp folder, then rename)."""
    path = Path(path)
    with atomic_dir(path) as tmp:
        model.save_pretrained(str(tmp), safe_serialization=True)
        if tokenizer_or_processor is not None:
            tokenizer_or_processor.save_pretrained(str(tmp))
    return path
