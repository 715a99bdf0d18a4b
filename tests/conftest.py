"""Shared fixtures: offline environment, a private model cache, and tiny models built in the test itself."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("MPLBACKEND", "Agg")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def tiny_tokenizer():
    from longthink.tokenizer import build_tokenizer

    corpus = ["Question: a = 3 + 4. What is a? Answer: \\boxed{7}", "<|im_start|>think\nWait, re-check.<|im_start|>answer"] * 20
    return build_tokenizer(corpus, vocab_size=320)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory, tiny_tokenizer) -> Path:
    """A 1-layer Qwen2 with the world tokenizer, saved like a hub model."""
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    from longthink.models import save_pretrained

    torch.manual_seed(0)
    config = Qwen2Config(
        vocab_size=len(tiny_tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=1,
        num_attention_heads=2, num_key_value_heads=1, tie_word_embeddings=True,
        eos_token_id=tiny_tokenizer.eos_token_id, pad_token_id=tiny_tokenizer.pad_token_id,
    )
    path = tmp_path_factory.mktemp("models") / "tiny"
    save_pretrained(Qwen2ForCausalLM(config), tiny_tokenizer, path)
    return path
