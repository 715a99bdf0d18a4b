"""The budget-forcing backends by name: ``hf`` (one batched decode loop over a continued KV cache,
``budget_forcing.HFBackend``) and ``vllm`` (the paper harness's way, ``vllm_backend.VLLMBackend``, which imports
vLLM only when it is asked for)."""

from __future__ import annotations

from collections.abc import Callable

from longthink.s1.budget_forcing import BudgetForcingError, HFBackend


def _vllm(model, tokenizer, **kwargs):
    from longthink.s1.vllm_backend import VLLMBackend

    return VLLMBackend(model, tokenizer, **kwargs)


BACKENDS: dict[str, Callable] = {"hf": HFBackend, "vllm": _vllm}


def make_backend(name: str, model, tokenizer, **kwargs):
    """The backend ``name`` for ``model`` (a loaded model, or a path for vLLM) and its tokenizer."""
    if name not in BACKENDS:
        raise BudgetForcingError(f"unknown budget-forcing backend {name!r}; known: {sorted(BACKENDS)}")
    return BACKENDS[name](model, tokenizer, **kwargs)
