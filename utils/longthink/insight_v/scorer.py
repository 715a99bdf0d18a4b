"""Path scoring (card §2.2): a score from 1 to 100 for each path, bucketed High / Mid / Low.

Upstream's scorer is unreleased (issue #7); the card's kit choice is an MLLM asked for 1-100 for correctness and
detail, with High >= 80, Mid 50-79, Low < 50. Two scorers behind one interface:

* ``scene`` (tiny profile): checks each step against the scene *through the world*: the world's chain teacher
  without mistakes (``world-vision:chains``, ``error_rate=0``) says what every step should read for this scene and
  question, and a path scores the share of its steps that are right before the first wrong one, over the longer of
  the two step lists: 100 for a faithful path, lower the earlier it goes wrong (later steps follow from the
  mistake), lower for a path that skips steps (detail). So a path whose answer is right by luck (a misread object
  that the question did not need to be right about, an error that cancels) is not High.
* ``mllm`` (paper): the scorer prompt (``prompts.SCORER_PROMPT``) to an MLLM with the image; the first integer of the
  reply, clipped to 1-100; a reply without one scores 1 (Low).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence
from typing import Any

from longthink.insight_v import prompts
from longthink.insight_v.steps import chain_steps, format_chain, world_teacher

TIERS = ("High", "Mid", "Low")


@dataclasses.dataclass(frozen=True)
class ScoreItem:
    question: dict[str, Any]  # the question row (the world example rides along in the tiny profile)
    steps: list[dict[str, str]]


def tier(score: int, *, high: int = 80, mid: int = 50) -> str:
    """High >= ``high``, Mid >= ``mid``, else Low."""
    if not mid < high:
        raise ValueError(f"tier cut-offs need mid < high, got mid={mid}, high={high}")
    return "High" if score >= high else "Mid" if score >= mid else "Low"


def _line(s: dict[str, str]) -> str:
    return " ".join(f"{s.get('title', '')}: {s.get('content', '')}".split()).lower()


def leading_agreement(path: Sequence[dict[str, str]], gold: Sequence[dict[str, str]]) -> int:
    """How many steps of ``path`` agree with ``gold`` before the first that does not."""
    n = 0
    for a, b in zip(path, gold):
        if _line(a) != _line(b):
            break
        n += 1
    return n


class SceneScorer:
    """Scores a path by its agreement, step by step, with the world's faithful chain for the same question."""

    def __init__(self, chains, *, keep_answer_step: bool = True, plan_step: bool = False):
        self.teacher = world_teacher(chains, error_rate=0.0, seed=0, plan_step=plan_step)
        self.keep_answer_step = keep_answer_step
        self._gold: dict[str, list[dict[str, str]]] = {}

    def gold(self, question: dict[str, Any]) -> list[dict[str, str]]:
        qid = question["id"]
        if qid not in self._gold:
            example = question.get("example")
            if example is None:
                raise ValueError(f"question {qid!r} carries no world example: the scene scorer needs "
                                 "world-vision:scenes questions (questions.source: world)")
            self._gold[qid] = chain_steps(self.teacher.chain(example).steps, keep_answer_step=self.keep_answer_step)
        return self._gold[qid]

    def score(self, items: Sequence[ScoreItem]) -> list[int]:
        out = []
        for item in items:
            gold = self.gold(item.question)
            steps = chain_steps(item.steps, keep_answer_step=self.keep_answer_step)
            agree = leading_agreement(steps, gold)
            out.append(max(1, round(100 * agree / max(len(steps), len(gold), 1))))
        return out


def parse_score(text: str) -> int:
    """The first integer of a scorer's reply, clipped to 1..100; 1 when there is none."""
    m = re.search(r"-?\d+", text or "")
    return min(100, max(1, int(m.group()))) if m else 1


class MLLMScorer:
    """An MLLM scorer (``complete(messages, images) -> replies``, e.g. a transformers or vLLM generator)."""

    def __init__(self, complete: Callable[[list, list], list[str]], *, image_fn: Callable | None,
                 prompt: str = prompts.SCORER_PROMPT, batch_size: int = 16):
        self.complete, self.image_fn, self.prompt, self.batch_size = complete, image_fn, prompt, batch_size

    def messages(self, item: ScoreItem) -> list[dict[str, Any]]:
        text = self.prompt.format(question=item.question["question"], ground_truth=item.question["answer"],
                                  chain=format_chain(chain_steps(item.steps)))
        return [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": text}]}]

    def score(self, items: Sequence[ScoreItem]) -> list[int]:
        out: list[int] = []
        for i in range(0, len(items), self.batch_size):
            chunk = items[i: i + self.batch_size]
            images = [self.image_fn(it.question) if self.image_fn else None for it in chunk]
            out += [parse_score(r) for r in self.complete([self.messages(it) for it in chunk], images)]
        return out


def _scene(settings, *, tools: dict[str, Any], keep_answer_step: bool = True, plan_step: bool = False,
           **_) -> SceneScorer:
    if "chains" not in tools:
        raise ValueError("assess.scorer: scene needs the world's chain teacher (world-vision:chains)")
    return SceneScorer(tools["chains"], keep_answer_step=keep_answer_step, plan_step=plan_step)


def _mllm(settings, *, complete: Callable | None = None, image_fn: Callable | None = None, seed: int = 0,
          **_) -> MLLMScorer:
    if complete is None:
        from longthink.insight_v.vlm import Sampling, generate, load

        model, processor = load(settings.scorer_model, dtype="bfloat16")
        sampling = Sampling(temperature=0.0, max_new_tokens=settings.scorer_max_tokens)

        def complete(messages, images):
            return generate(model, processor, messages, images, sampling=sampling, batch_size=settings.batch_size,
                            seed=seed)
    return MLLMScorer(complete, image_fn=image_fn, prompt=settings.scorer_prompt, batch_size=settings.batch_size)


# assess.scorer -> a builder ``(settings, *, tools, complete, image_fn, seed) -> scorer``
SCORERS: dict[str, Callable[..., object]] = {"scene": _scene, "mllm": _mllm}


def make_scorer(settings, **kwargs):
    if settings.scorer not in SCORERS:
        raise ValueError(f"assess.scorer: unknown scorer {settings.scorer!r}; known: {sorted(SCORERS)}")
    return SCORERS[settings.scorer](settings, **kwargs)
