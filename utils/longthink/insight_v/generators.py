"""The generator interface of progressive generation, and its three implementations.

A generator answers a batch of conversations, one reply each (``complete``); the loop in
``longthink.insight_v.progressive`` decides what to send (the card's turns) and what a reply means. So the same loop
drives:

* ``teacher``: the tiny world's chain teacher (``world-vision:chains``). It writes each step of its chain for
  (question, run k) as the JSON reply to the k-th step call, and the final answer to the final call; with
  ``malformed_rate`` a reply is wrapped in a Markdown fence as real models do (the system prompt forbids it), which
  exercises the retry rule. It reads the scene, not the image: the tiny world has no 72B model to sample.
* ``transformers``: any MLLM folder or hub id through ``longthink.insight_v.vlm.generate`` (the paper's
  Qwen2-VL-72B-Instruct on GPUs; the tiny VLM in tests), with the card's sampling settings.
* ``vllm``: the paper's engine (upstream ``data_generation.py``); vLLM is imported only when this is built.
"""

from __future__ import annotations

import dataclasses
import json
import random
from collections.abc import Callable, Sequence
from typing import Any

from longthink.insight_v.steps import FINAL_TITLE, world_teacher


@dataclasses.dataclass
class Conversation:
    """One run of the generator on one question: the messages so far and how to get the image."""

    question: dict[str, Any]  # a question row: id, question, answer, kind (and the world example)
    index: int  # which of the N runs
    messages: list[dict[str, Any]]
    image_fn: Callable[[dict[str, Any]], Any] | None = None
    final_prompt: str = ""

    @property
    def image(self):
        return self.image_fn(self.question) if self.image_fn is not None else None

    def step_replies(self) -> int:
        """Assistant replies after the pre-filled turn (each one a step the loop accepted)."""
        return sum(m["role"] == "assistant" for m in self.messages[3:])

    def asks_final(self) -> bool:
        last = self.messages[-1]
        return last["role"] == "user" and last["content"] == self.final_prompt


class TeacherGenerator:
    """The world's chain teacher behind the generator interface (``chains`` is the ``world-vision:chains`` tool)."""

    def __init__(self, chains, *, error_rate: float = 0.0, malformed_rate: float = 0.0, seed: int = 0,
                 error_kinds: Sequence[str] = (), plan_step: bool = False):
        if not 0.0 <= malformed_rate <= 1.0:
            raise ValueError(f"malformed_rate must be in [0, 1], got {malformed_rate!r}")
        kinds = {"error_kinds": tuple(error_kinds)} if error_kinds else {}  # the teacher names an unknown kind
        self.teacher = world_teacher(chains, error_rate=error_rate, seed=seed, plan_step=plan_step, **kinds)
        self.malformed_rate, self.seed = malformed_rate, seed
        self._chains: dict[tuple[str, int], Any] = {}

    def chain(self, conv: Conversation):
        key = (conv.question["id"], conv.index)
        if key not in self._chains:
            example = conv.question.get("example")
            if example is None:
                raise ValueError(f"question {conv.question['id']!r} carries no world example: the teacher generator "
                                 "only writes chains for world-vision:scenes questions (questions.source: world)")
            self._chains[key] = self.teacher.chain(example, sample=conv.index)
        return self._chains[key]

    def complete(self, conversations: Sequence[Conversation]) -> list[str]:
        return [self._reply(c) for c in conversations]

    def _reply(self, conv: Conversation) -> str:
        chain = self.chain(conv)
        if conv.asks_final():
            reply = json.dumps({"title": FINAL_TITLE, "content": chain.answer})
        else:
            i = conv.step_replies()
            if i >= len(chain.steps):  # asked past the chain's end: say the answer is ready
                reply = json.dumps({"title": "Final answer", "content": chain.answer, "next_action": "final_answer"})
            else:
                reply = json.dumps(chain.steps[i])
        rng = random.Random(f"malformed-{self.seed}-{conv.question['id']}-{conv.index}-{len(conv.messages)}")
        if self.malformed_rate and rng.random() < self.malformed_rate:
            return f"```json\n{reply}\n```"
        return reply


class TransformersGenerator:
    """An MLLM sampled with transformers (batched, left-padded)."""

    def __init__(self, model_ref: str, *, temperature: float, top_p: float, repetition_penalty: float,
                 max_tokens: int, min_pixels: int, max_pixels: int, batch_size: int, seed: int = 0,
                 dtype: str = "float32", loaded: tuple | None = None):
        from longthink.insight_v.vlm import Sampling, load

        self.model, self.processor = loaded if loaded is not None else load(model_ref, dtype=dtype)
        size = getattr(self.processor.image_processor, "size", None)
        if isinstance(size, dict) and "shortest_edge" in size and "longest_edge" in size:
            self.processor.image_processor.size = {"shortest_edge": min_pixels, "longest_edge": max_pixels}
        self.sampling = Sampling(temperature=temperature, top_p=top_p, max_new_tokens=max_tokens,
                                 repetition_penalty=repetition_penalty)
        self.batch_size, self.seed, self.calls = batch_size, seed, 0

    def complete(self, conversations: Sequence[Conversation]) -> list[str]:
        from longthink.insight_v.vlm import generate

        self.calls += 1
        return [t.strip() for t in generate(self.model, self.processor, [c.messages for c in conversations],
                                            [c.image for c in conversations], sampling=self.sampling,
                                            batch_size=self.batch_size, seed=self.seed * 100003 + self.calls)]


class VLLMGenerator:
    """The paper's engine: vLLM with the card's sampling settings and pixel bounds (imported only here)."""

    def __init__(self, model_ref: str, *, temperature: float, top_p: float, repetition_penalty: float,
                 max_tokens: int, min_pixels: int, max_pixels: int, batch_size: int, seed: int = 0, **_: Any):
        try:
            from vllm import LLM, SamplingParams
        except ImportError as exc:
            raise ImportError("generate.generator: vllm needs the vllm package (GPU nodes: pip install vllm); on a "
                              "CPU use generator: transformers") from exc
        from transformers import AutoProcessor

        self.llm = LLM(model=model_ref, limit_mm_per_prompt={"image": 10},
                       mm_processor_kwargs={"min_pixels": min_pixels, "max_pixels": max_pixels}, seed=seed)
        self.processor = AutoProcessor.from_pretrained(model_ref)
        self.params = SamplingParams(temperature=temperature, top_p=top_p, repetition_penalty=repetition_penalty,
                                     max_tokens=max_tokens)

    def complete(self, conversations: Sequence[Conversation]) -> list[str]:
        inputs = [{"prompt": self.processor.apply_chat_template(c.messages, tokenize=False, add_generation_prompt=True),
                   "multi_modal_data": {"image": c.image}} for c in conversations]
        return [o.outputs[0].text.strip() for o in self.llm.generate(inputs, self.params, use_tqdm=False)]


def _teacher(settings, *, tools: dict[str, Any], seed: int, **_: Any) -> TeacherGenerator:
    if "chains" not in tools:
        raise ValueError("generate.generator: teacher needs the world's chain teacher (world-vision:chains)")
    return TeacherGenerator(tools["chains"], error_rate=settings.error_rate, malformed_rate=settings.malformed_rate,
                            seed=seed, error_kinds=settings.error_kinds, plan_step=settings.plan_step)


def _sampled(cls):
    def build(settings, *, model_ref: str | None = None, seed: int, dtype: str = "float32", **_: Any):
        return cls(model_ref or settings.model, temperature=settings.temperature, top_p=settings.top_p,
                   repetition_penalty=settings.repetition_penalty, max_tokens=settings.max_tokens,
                   min_pixels=settings.min_pixels, max_pixels=settings.max_pixels, batch_size=settings.batch_size,
                   seed=seed, dtype=dtype)

    return build


# generate.generator -> a builder ``(settings, *, tools, model_ref, seed, dtype) -> generator``
GENERATORS: dict[str, Callable[..., Any]] = {
    "teacher": _teacher,
    "transformers": _sampled(TransformersGenerator),
    "vllm": _sampled(VLLMGenerator),
}


def make_generator(settings, **kwargs: Any):
    """The generator the recipe names (``generate.generator``)."""
    if settings.generator not in GENERATORS:
        raise ValueError(f"generate.generator: unknown generator {settings.generator!r}; known: {sorted(GENERATORS)}")
    return GENERATORS[settings.generator](settings, **kwargs)
