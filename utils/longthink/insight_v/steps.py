"""Insight-V's step format: one JSON object per generator call, a path of steps, and the chain template.

A step is ``{"title", "content", "next_action"}`` with ``next_action`` in ``continue`` / ``final_answer`` (card
§2.1); the final call returns ``{"title": "FINAL ANSWER", "content": ...}``. :func:`parse_step` is the strict
reading upstream does (``json.loads`` of the whole reply, the three keys present): anything else is a
:class:`StepError`, which the progressive loop answers with the schema reminder.

The reasoning agent's target (card §2.3, ``infer_summary_model.py``) is the chain ``<thoughts>\\n`` + one
``title: content`` line per step + ``\\n</thoughts>``; :func:`cut_thoughts` is the inference side (decode keeping the
tags, cut between them), :func:`steps_of_chain` reads the lines back into steps for scoring.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from typing import Any

from longthink.formats import THOUGHTS_CLOSE, THOUGHTS_OPEN

CONTINUE, FINAL = "continue", "final_answer"
NEXT_ACTIONS = (CONTINUE, FINAL)
FINAL_TITLE = "FINAL ANSWER"
ERROR_TITLE = "Error"


class StepError(ValueError):
    """A generator reply that is not a valid step; the message says what is wrong with it."""


def step(title: str, content: str, next_action: str = CONTINUE) -> dict[str, str]:
    return {"title": title, "content": content, "next_action": next_action}


def parse_step(text: str) -> dict[str, str]:
    """A step from a reply that must be one bare JSON object with ``title``, ``content`` and ``next_action``."""
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, TypeError) as exc:
        raise StepError(f"not JSON ({exc.__class__.__name__}: {exc}): {str(text)[:80]!r}") from exc
    if not isinstance(data, dict):
        raise StepError(f"a step is a JSON object, got {type(data).__name__}: {str(text)[:80]!r}")
    missing = [k for k in ("title", "content", "next_action") if k not in data]
    if missing:
        raise StepError(f"the step lacks {missing}: {str(text)[:80]!r}")
    action = str(data["next_action"]).strip()
    if action not in NEXT_ACTIONS:
        raise StepError(f"next_action must be one of {list(NEXT_ACTIONS)}, got {data['next_action']!r}")
    return step(str(data["title"]).strip(), str(data["content"]).strip(), action)


def parse_final(text: str) -> str | None:
    """The ``content`` of the final call's JSON, or None when it is not parsable (the judge then sees no answer)."""
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, TypeError):
        return None
    if not isinstance(data, dict) or "content" not in data:
        return None
    return str(data["content"]).strip()


@dataclasses.dataclass
class Path:
    """One generated reasoning path: its steps, the final call's raw reply and parsed answer, and its bookkeeping."""

    question_id: str
    index: int  # which of the N runs
    steps: list[dict[str, str]]
    final_raw: str = ""
    answer: str | None = None  # the FINAL ANSWER content (None: unparsable)
    calls: int = 0  # generator calls, retries and the final call included
    retries: int = 0  # replies that were not a valid step
    failed: bool = False  # a step failed three times (an "Error" step ended the path)
    capped: bool = False  # the step cap ended the path
    # assessment, filled in by longthink.insight_v.routing
    correct: bool | None = None
    score: int | None = None
    tier: str | None = None
    routes: list[str] = dataclasses.field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Path:
        return cls(**data)


def chain_steps(steps: Sequence[dict[str, str]], *, keep_answer_step: bool = True) -> list[dict[str, str]]:
    """The steps that enter a chain: all of them, or without the last one when it is the step that said
    ``final_answer`` (``keep_answer_step=False``); an ``Error`` step never does."""
    out = [s for s in steps if s.get("title") != ERROR_TITLE]
    if not keep_answer_step and out and out[-1].get("next_action") == FINAL:
        out = out[:-1]
    return out


def format_chain(steps: Sequence[dict[str, str]]) -> str:
    """``<thoughts>\\n`` + ``title: content`` lines + ``\\n</thoughts>`` (the reasoning agent's target)."""
    body = "\n".join(f"{s['title']}: {s['content']}" for s in steps)
    return f"{THOUGHTS_OPEN}\n{body}\n{THOUGHTS_CLOSE}"


def cut_thoughts(text: str) -> str:
    """The chain in a reasoner's decoded output (special tokens kept): what lies between the tags, re-wrapped.

    Upstream: ``text.split("<thoughts>")[-1].split("</thoughts>")[0]``; an output that never closes the tag keeps
    everything after the opening one.
    """
    inner = text.split(THOUGHTS_OPEN)[-1].split(THOUGHTS_CLOSE)[0].strip("\n")
    return f"{THOUGHTS_OPEN}\n{inner}\n{THOUGHTS_CLOSE}"


def steps_of_chain(chain: str) -> list[dict[str, str]]:
    """The ``title: content`` lines of a chain as steps (a line without ``": "`` is all content)."""
    inner = chain.split(THOUGHTS_OPEN)[-1].split(THOUGHTS_CLOSE)[0]
    out = []
    for line in inner.strip("\n").split("\n"):
        if not line.strip():
            continue
        title, sep, content = line.partition(": ")
        out.append(step(title.strip(), content.strip()) if sep else step("", line.strip()))
    return out


def world_teacher(chains, *, plan_step: bool = False, **kwargs):
    """The tiny world's chain teacher (``chains`` is the ``world-vision:chains`` tool) writing this format's steps:
    one-word titles, and with ``plan_step`` a first ``Plan`` step that names the steps to come. The generator, the
    scene scorer and the flawed chains all read chains through it, so they agree on the form."""
    return chains.ChainTeacher(short_titles=True, plan_step=plan_step, **kwargs)


def after_thoughts(text: str) -> str:
    """What follows ``</thoughts>`` (the single model's answer); empty when the tag never closes (no answer)."""
    return text.split(THOUGHTS_CLOSE, 1)[1].strip() if THOUGHTS_CLOSE in text else ""
