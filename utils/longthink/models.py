"""One way to get a model with its tokenizer or processor: a world reference, a hub id, or a local folder.

References go through the resolver (``longthink.resolver``): ``world:instruct`` and ``world-vision:base`` become
cached folders of the tiny worlds (built on first use for the given profile and seed); a hub id is loaded with
``from_pretrained`` as the paper profile expects. Either way the weights are safetensors only and
``trust_remote_code`` stays off, and a model that cannot be loaded is an error that names the reference.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from longthink.files import atomic_dir


class ModelLoadError(RuntimeError):
    """A model reference cannot be resolved or loaded; the message names the reference."""


def resolve_model(ref: str, profile: str | None = None, seed: int = 0) -> str:
    """The folder or hub id behind ``ref`` (a world model is built on first use)."""
    from longthink.resolver import ResolveError, resolve_path

    if not isinstance(ref, str) or not ref.strip():
        raise ModelLoadError(f"a model reference must be a non-empty string, got {ref!r}")
    try:
        return resolve_path(ref, profile=profile or "tiny", seed=seed)
    except ResolveError as exc:
        raise ModelLoadError(str(exc)) from exc


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


def _is_plain_fast_tokenizer(folder: Path) -> bool:
    cfg = folder / "tokenizer_config.json"
    if not cfg.is_file():
        return False
    cls = json.loads(cfg.read_text()).get("tokenizer_class", "")
    return cls in {"PreTrainedTokenizerFast", "TokenizersBackend"}


def load_tokenizer(path_or_id: str):
    """The saved tokenizer; plain fast tokenizers (the worlds') bypass AutoTokenizer, which would pick
    ``Qwen2Tokenizer`` for a ``qwen2`` config and its different pre-tokenizer (notes/trl-transformers.md §4)."""
    from transformers import AutoTokenizer, PreTrainedTokenizerFast

    folder = Path(path_or_id).expanduser()
    if folder.is_dir() and _is_plain_fast_tokenizer(folder):
        return PreTrainedTokenizerFast.from_pretrained(str(folder))
    return AutoTokenizer.from_pretrained(path_or_id, trust_remote_code=False)


def _load_error(ref: str, path: str, exc: Exception) -> ModelLoadError:
    return ModelLoadError(f"cannot load model {ref!r} (resolved to {path}): {type(exc).__name__}: {exc}")


def _load_errors() -> tuple[type[Exception], ...]:
    """What a damaged or missing model folder raises (a cut safetensors file: ``SafetensorError``)."""
    from safetensors import SafetensorError

    return (OSError, ValueError, RuntimeError, SafetensorError)


def load_causal_lm(ref: str, *, profile: str | None = None, seed: int = 0, dtype: Any = None,
                   device: str | None = None):
    """``(model, tokenizer)`` for a causal LM; the model is in eval mode."""
    import torch
    from transformers import AutoModelForCausalLM

    path = resolve_model(ref, profile, seed)
    _check_source(path)
    try:
        model = AutoModelForCausalLM.from_pretrained(
            path, dtype=dtype or torch.float32, use_safetensors=True, trust_remote_code=False
        )
        tokenizer = load_tokenizer(path)
    except _load_errors() as exc:
        raise _load_error(ref, path, exc) from exc
    if device:
        model.to(device)
    model.eval()
    return model, tokenizer


def load_vlm(ref: str, *, profile: str | None = None, seed: int = 0, dtype: Any = None, device: str | None = None):
    """``(model, processor)`` for an image-text-to-text model (the world VLM or a hub Qwen2/2.5-VL, LLaVA-NeXT)."""
    import torch
    from transformers import AutoModelForImageTextToText, AutoProcessor

    from longthink.processors import is_image_only_folder, load_image_only_processor

    path = resolve_model(ref, profile, seed)
    _check_source(path)
    try:
        model = AutoModelForImageTextToText.from_pretrained(
            path, dtype=dtype or torch.float32, use_safetensors=True, trust_remote_code=False
        )
        if Path(path).is_dir() and is_image_only_folder(Path(path)):
            processor = load_image_only_processor(path)
        else:
            processor = AutoProcessor.from_pretrained(path, trust_remote_code=False)
    except _load_errors() as exc:
        raise _load_error(ref, path, exc) from exc
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
