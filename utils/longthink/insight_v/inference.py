"""The systems the paper compares, each answering a list of questions (batched).

* ``base``: the base MLLM asked the question directly (its own reply format; the answer is what ``<answer>`` holds
  when there is one, else the whole reply).
* ``two_agents`` (card §2.3): the reasoning agent writes a chain for image + question + suffix; the chain is cut out of
  the ``<thoughts>`` tags (decoded with special tokens kept); the summary agent answers from the instruction, the
  question, the chain and the *same* image.
* ``single``: one model asked the question writes chain and answer; the answer is what follows ``</thoughts>``.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence
from typing import Any

from longthink.insight_v import agents
from longthink.insight_v.steps import after_thoughts, cut_thoughts
from longthink.insight_v.vlm import Sampling, generate

_ANSWER = re.compile(r"<answer>(.*?)(?:</answer>|$)", re.S)


def extract_answer(text: str) -> str:
    """The answer in a reply: inside ``<answer>`` when the tag is there (an unclosed tag reads to the end), else the
    reply itself (a summary agent's or a direct short answer), stripped."""
    m = _ANSWER.search(text or "")
    return (m.group(1) if m else (text or "")).strip()


@dataclasses.dataclass
class Answer:
    """One system's output on one question."""

    question_id: str
    system: str
    answer: str
    output: str  # the final model's raw output
    chain: str | None = None  # the reasoning agent's chain (two agents) or the single model's
    correct: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def answer_base(model, processor, questions: Sequence[dict], image_fn: Callable, *, sampling: Sampling,
                batch_size: int, seed: int, system: str = "base") -> list[Answer]:
    outs = generate(model, processor, [agents.plain_messages(q["question"]) for q in questions],
                    [image_fn(q) for q in questions], sampling=sampling, batch_size=batch_size, seed=seed)
    return [Answer(q["id"], system, extract_answer(o), o) for q, o in zip(questions, outs)]


def write_chains(model, processor, questions: Sequence[dict], image_fn: Callable, *, suffix: str,
                 sampling: Sampling, batch_size: int, seed: int, images: Sequence[Any] | None = None) -> list[str]:
    """The reasoning agent's chains (cut between the ``<thoughts>`` tags)."""
    images = list(images) if images is not None else [image_fn(q) for q in questions]
    outs = generate(model, processor, [agents.reason_messages(q["question"], suffix) for q in questions], images,
                    sampling=sampling, batch_size=batch_size, seed=seed)
    return [cut_thoughts(o) for o in outs]


def summarise(model, processor, questions: Sequence[dict], chains: Sequence[str], image_fn: Callable, *,
              instruction: str, sampling: Sampling, batch_size: int, seed: int,
              images: Sequence[Any] | None = None) -> list[str]:
    """The summary agent's raw outputs for (question, chain) pairs, each with the question's image."""
    images = list(images) if images is not None else [image_fn(q) for q in questions]
    messages = [agents.summary_messages(q["question"], c, instruction) for q, c in zip(questions, chains)]
    return generate(model, processor, messages, images, sampling=sampling, batch_size=batch_size, seed=seed)


def answer_two_agents(reasoner: tuple, summary: tuple, questions: Sequence[dict], image_fn: Callable, *,
                      suffix: str, instruction: str, reason_sampling: Sampling, summary_sampling: Sampling,
                      batch_size: int, seed: int, system: str = "two_agents") -> list[Answer]:
    images = [image_fn(q) for q in questions]
    chains = write_chains(*reasoner, questions, image_fn, suffix=suffix, sampling=reason_sampling,
                          batch_size=batch_size, seed=seed, images=images)
    outs = summarise(*summary, questions, chains, image_fn, instruction=instruction, sampling=summary_sampling,
                     batch_size=batch_size, seed=seed + 1, images=images)
    return [Answer(q["id"], system, extract_answer(o), o, chain=c) for q, c, o in zip(questions, chains, outs)]


def answer_single(model, processor, questions: Sequence[dict], image_fn: Callable, *, sampling: Sampling,
                  batch_size: int, seed: int, system: str = "single_model") -> list[Answer]:
    outs = generate(model, processor, [agents.plain_messages(q["question"]) for q in questions],
                    [image_fn(q) for q in questions], sampling=sampling, batch_size=batch_size, seed=seed)
    return [Answer(q["id"], system, extract_answer(after_thoughts(o)), o, chain=cut_thoughts(o))
            for q, o in zip(questions, outs)]
