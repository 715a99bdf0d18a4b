"""The LLM judge behind TACO's VQA consistency reward at paper scale (card §2.2: a ~32B Qwen judges agreement).

The paper's judge prompt is not public. The kit's judge reads the question, the reasoning, the answer and (for the
reward) the gold answer, and replies ``1`` or ``0`` (card §5: binary output). Two templates:

* ``reward`` (:data:`REWARD_TEMPLATE`): 1 iff the reasoning supports the answer *and* the answer matches the gold;
* ``support`` (:data:`SUPPORT_TEMPLATE`): 1 iff the reasoning supports the answer (the evaluation's consistency rate).

``LLMJudge`` loads its model on first use, with transformers (``backend="hf"``) or vLLM (``backend="vllm"``,
imported only inside :meth:`LLMJudge._load_vllm`; GPU nodes only), decodes greedily and reads the first verdict
word of each reply (:func:`parse_verdict`; anything unreadable is 0, so a broken judge never pays). The tiny
profile uses a rule instead (``longthink.taco.consistency.VQA_RULES``): no 32B model fits a laptop.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

REWARD_TEMPLATE = (
    "You check answers to questions about an image.\n"
    "Question: {question}\nReasoning: {think}\nAnswer: {answer}\nReference answer: {gold}\n"
    "Does the reasoning support the answer, and does the answer match the reference answer? "
    "Reply with 1 for yes or 0 for no."
)
SUPPORT_TEMPLATE = (
    "You check answers to questions about an image.\n"
    "Question: {question}\nReasoning: {think}\nAnswer: {answer}\n"
    "Does the answer follow from the reasoning? Reply with 1 for yes or 0 for no."
)
TEMPLATES = {"reward": REWARD_TEMPLATE, "support": SUPPORT_TEMPLATE}
BACKENDS = ("hf", "vllm")
_VERDICT = re.compile(r"\b(1|0|yes|no|true|false)\b", re.I)
VLLM_HINT = "the vLLM judge needs the `vllm` package (GPU nodes): pip install vllm, or set tac_judge_backend: hf"


def parse_verdict(text: Any) -> float:
    """1.0 for a first verdict word of ``1``/``yes``/``true``, else 0.0 (unreadable replies included)."""
    if not isinstance(text, str):
        return 0.0
    match = _VERDICT.search(text)
    return 1.0 if match and match.group(1).lower() in ("1", "yes", "true") else 0.0


def judge_prompt(item: dict, *, template: str = "reward") -> str:
    """The judge's user message for one ``{"question", "think", "answer", "gold"}`` item."""
    if template not in TEMPLATES:
        raise ValueError(f"unknown judge template {template!r}; known: {sorted(TEMPLATES)}")
    fields = {k: str(item.get(k) or "")[:4000] for k in ("question", "think", "answer", "gold")}
    return TEMPLATES[template].format(**fields)


class LLMJudge:
    """A causal LM that answers 1/0 for batches of items; loads lazily, never raises on odd replies."""

    def __init__(self, model: str, *, backend: str = "hf", max_new_tokens: int = 4, batch_size: int = 16,
                 dtype: str = "bfloat16", template: str = "reward", profile: str | None = None):
        if backend not in BACKENDS:
            raise ValueError(f"unknown judge backend {backend!r}; known: {list(BACKENDS)}")
        if template not in TEMPLATES:
            raise ValueError(f"unknown judge template {template!r}; known: {sorted(TEMPLATES)}")
        self.model_ref, self.backend, self.template = model, backend, template
        self.max_new_tokens, self.batch_size, self.dtype, self.profile = max_new_tokens, batch_size, dtype, profile
        self._model = self._tokenizer = self._llm = None

    def __call__(self, items: Sequence[dict], *, template: str | None = None) -> list[float]:
        if not items:
            return []
        prompts = [judge_prompt(item, template=template or self.template) for item in items]
        texts = self._generate_vllm(prompts) if self.backend == "vllm" else self._generate_hf(prompts)
        return [parse_verdict(t) for t in texts]

    # -- transformers ----------------------------------------------------------------------------------------
    def _generate_hf(self, prompts: list[str]) -> list[str]:
        import torch

        from longthink.generation import generate

        if self._model is None:
            from longthink.models import load_causal_lm

            dtype = getattr(torch, self.dtype) if torch.cuda.is_available() else torch.float32
            self._model, self._tokenizer = load_causal_lm(self.model_ref, profile=self.profile, dtype=dtype,
                                                          device="cuda" if torch.cuda.is_available() else None)
        out = generate(self._model, self._tokenizer, [[{"role": "user", "content": p}] for p in prompts],
                       max_new_tokens=self.max_new_tokens, batch_size=self.batch_size, skip_special_tokens=True)
        return out.texts

    # -- vLLM ------------------------------------------------------------------------------------------------
    def _load_vllm(self):
        try:
            import vllm
        except ImportError as exc:
            raise ImportError(VLLM_HINT) from exc
        self._llm = vllm.LLM(model=self.model_ref, dtype=self.dtype)
        self._sampling = vllm.SamplingParams(temperature=0.0, max_tokens=self.max_new_tokens)

    def _generate_vllm(self, prompts: list[str]) -> list[str]:
        if self._llm is None:
            self._load_vllm()
        outputs = self._llm.chat([[{"role": "user", "content": p}] for p in prompts], self._sampling)
        return [o.outputs[0].text for o in outputs]
