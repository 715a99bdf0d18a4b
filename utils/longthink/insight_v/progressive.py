"""Progressive long-chain generation (card §2.1; upstream ``data_generation/data_generation.py``), batched.

Each run on a question is a conversation: system prompt, user turn (image + question), the pre-filled assistant
turn. Then, step by step:

* the generator replies; a reply that :func:`~longthink.insight_v.steps.parse_step` rejects gets the schema reminder
  appended (the bad reply is *not* kept) and is asked again, at most ``max_retries`` times; the last failure becomes
  an ``Error`` step with ``final_answer`` (upstream keeps it out of the step list, and so do we);
* an accepted step is appended as the assistant's turn; the run stops when it says ``final_answer`` or when the step
  counter passes ``max_steps`` (upstream ``step_count > 15``: at most 16 steps); else the continue prompt follows;
* then the final call asks for ``{"title": "FINAL ANSWER", "content": ...}`` from the steps alone.

All runs advance together: every round sends one call for each unfinished conversation to the generator in
batches, so a transformers or vLLM generator decodes them in parallel. ``N`` runs per question are ``N``
conversations (card Fig. 2).
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Sequence
from typing import Any

from longthink.insight_v.generators import Conversation
from longthink.insight_v.steps import ERROR_TITLE, FINAL, Path, StepError, parse_final, parse_step, step


@dataclasses.dataclass(frozen=True)
class Protocol:
    """The card's turns and limits (``generate`` stage settings)."""

    system_prompt: str
    prefill: str
    continue_prompt: str
    reminder_prompt: str
    final_prompt: str
    max_steps: int = 15
    max_retries: int = 3

    @classmethod
    def from_settings(cls, s) -> Protocol:
        return cls(s.system_prompt, s.prefill, s.continue_prompt, s.reminder_prompt, s.final_prompt,
                   max_steps=s.max_steps, max_retries=s.max_retries)


class _Run:
    """The state of one conversation in the loop."""

    def __init__(self, conv: Conversation, protocol: Protocol):
        self.conv, self.p = conv, protocol
        self.path = Path(conv.question["id"], conv.index, [])
        self.step_count, self.retry, self.final_phase, self.done = 1, 0, False, False

    def advance(self, reply: str) -> None:
        self.path.calls += 1
        msgs = self.conv.messages
        if self.final_phase:
            self.path.final_raw = reply
            self.path.answer = parse_final(reply)
            self.done = True
            return
        try:
            data = parse_step(reply)
        except StepError:
            self.path.retries += 1
            self.retry += 1
            msgs.append({"role": "user", "content": self.p.reminder_prompt})
            if self.retry < self.p.max_retries:
                return
            data = step(ERROR_TITLE, f"Failed to generate step after {self.p.max_retries} attempts.", FINAL)
            self.path.failed = True
        else:
            self.path.steps.append(data)
        self.retry = 0
        msgs.append({"role": "assistant", "content": json.dumps(data)})
        if data["next_action"] == FINAL or self.step_count > self.p.max_steps:
            self.path.capped = data["next_action"] != FINAL
            msgs.append({"role": "user", "content": self.p.final_prompt})
            self.final_phase = True
            return
        msgs.append({"role": "user", "content": self.p.continue_prompt})
        self.step_count += 1


def start(question: dict[str, Any], index: int, protocol: Protocol, *,
          image_fn: Callable[[dict[str, Any]], Any] | None = None) -> Conversation:
    """The opening turns of one run: system, user (image + question), the pre-filled assistant turn."""
    messages = [
        {"role": "system", "content": protocol.system_prompt},
        {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": question["question"]}]},
        {"role": "assistant", "content": protocol.prefill},
    ]
    return Conversation(question, index, messages, image_fn=image_fn, final_prompt=protocol.final_prompt)


@dataclasses.dataclass
class GenerationStats:
    paths: int
    calls: int
    rounds: int
    retries: int
    failed: int
    capped: int
    seconds: float

    @property
    def chains_per_second(self) -> float:
        return self.paths / self.seconds if self.seconds > 0 else float("inf")


def generate_paths(questions: Sequence[dict[str, Any]], generator, protocol: Protocol, *, n_paths: int,
                   batch_size: int = 64, image_fn: Callable | None = None,
                   progress: Callable[[int], None] | None = None) -> tuple[list[Path], GenerationStats]:
    """``n_paths`` runs per question through ``generator``; returns the paths (question order) and the figures."""
    if n_paths < 1:
        raise ValueError(f"n_paths must be >= 1, got {n_paths!r}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size!r}")
    runs = [_Run(start(q, k, protocol, image_fn=image_fn), protocol) for q in questions for k in range(n_paths)]
    started = time.perf_counter()
    rounds = 0
    active = list(runs)
    while active:
        rounds += 1
        for i in range(0, len(active), batch_size):
            chunk = active[i: i + batch_size]
            replies = generator.complete([r.conv for r in chunk])
            if len(replies) != len(chunk):
                raise RuntimeError(f"the generator returned {len(replies)} replies for {len(chunk)} conversations")
            for run, reply in zip(chunk, replies):
                run.advance(reply)
        finished = sum(r.done for r in active)
        active = [r for r in active if not r.done]
        if progress and finished:
            progress(finished)
    seconds = time.perf_counter() - started
    paths = [r.path for r in runs]
    stats = GenerationStats(paths=len(paths), calls=sum(p.calls for p in paths), rounds=rounds,
                            retries=sum(p.retries for p in paths), failed=sum(p.failed for p in paths),
                            capped=sum(p.capped for p in paths), seconds=seconds)
    return paths, stats
