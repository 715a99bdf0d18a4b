"""The reply format of the visual world: look, then reason, then answer (the R1 / VLM-R1 convention TACO trains with).

A question's reply::

    <think> a1 lrc a2 . ... d4 lgc find small circle : ... -> yes . so b2 small blue circle </think><answer> blue </answer>

``<think>`` holds the look (``look.description``) and the reasoning (``reasoning.reason``); ``<answer>`` holds a
word, a cell label, a number, ``yes``/``no``, or a box ``[ x1 , y1 , x2 , y2 ]`` in pixels of the image the model
was given (Qwen2.5-VL's convention), copied from the box step in ``<think>``. "Describe the scene." is answered
with the look alone (``The scene: a1 lrc ...``).

Which reasoning the base VLM is trained on (``BASE_STYLE``): the whole walk for single-step, position and
grounding questions, the short form for several-step ones (``reasoning.reason(style="short")``). A text-only
example (the pretraining curriculum's lookup batches) has no image: the question alone, and the same reply whose
look (``given_look``) is given rather than learned, so the loss falls on the reasoning over it.
"""

from __future__ import annotations

import re
from typing import Any

from longthink.vision_world.look import DESCRIBE_PREFIX, description
from longthink.vision_world.reasoning import reason
from longthink.vision_world.scenes import GROUNDING_KINDS, MULTI_STEP_KINDS, POSITION_KINDS, SINGLE_STEP_KINDS, Scene

DESCRIBE_QUESTION = "Describe the scene."
DESCRIBE = "describe"  # the task name of "Describe the scene." examples
# the reasoning style the base VLM is trained on, by question kind
BASE_STYLE: dict[str, str] = {**{k: "long" for k in (*SINGLE_STEP_KINDS, *POSITION_KINDS, *GROUNDING_KINDS)},
                              **{k: "short" for k in MULTI_STEP_KINDS}}


def describe_reply(scene: Scene) -> str:
    return f"{DESCRIBE_PREFIX} {description(scene)}"


def answer_only(answer: str) -> str:
    """``<answer> blue </answer>``: the answer part of a reply (a short answer in the base VLM's own tokens)."""
    return f"<answer> {answer} </answer>"


def format_reply(think: str, answer: str) -> str:
    return f"<think> {think} </think>{answer_only(answer)}"


def reply(example: dict[str, Any], *, style: str | None = None, short_lines: int = 2,
          stop_at_first_yes: bool = True) -> str:
    """The gold reply to a question example (``style``: ``long`` or ``short``; default the base VLM's; the other
    options as ``reasoning.reason``)."""
    if example["kind"] == DESCRIBE:
        return describe_reply(Scene.from_dict(example["scene"]))
    steps, answer, _ = reason(example, style=style or BASE_STYLE[example["kind"]], short_lines=short_lines,
                              stop_at_first_yes=stop_at_first_yes)
    return format_reply(" ".join(s.content for s in steps), answer)


def question_text(example: dict[str, Any]) -> str:
    """The user turn's text."""
    return DESCRIBE_QUESTION if example["kind"] == DESCRIBE else example["question"]


def given_look(example: dict[str, Any]) -> str:
    """The start of a question's reply that a text-only example gives instead of an image: ``<think>`` + the look."""
    if example["kind"] == DESCRIBE:
        raise ValueError("a describe example has no text-only form: its reply is the look")
    if "given" in example:  # a drill (longthink.vision_world.drills): no scene, nothing given
        return example["given"]
    return f"<think> {description(Scene.from_dict(example['scene']))}"


_ANSWER_RE = re.compile(r"<answer>(.*?)(?:</answer>|$)", re.S)
_THINK_RE = re.compile(r"<think>(.*?)(?:</think>|<answer>|$)", re.S)


def answer_of(text: str) -> str | None:
    """What a reply says inside ``<answer>`` (an unclosed tag reads to the end); None without one."""
    m = _ANSWER_RE.search(text or "")
    return m.group(1).strip() if m else None


def think_of(text: str) -> str:
    m = _THINK_RE.search(text or "")
    return m.group(1).strip() if m else ""


def normalise(answer: str | None) -> str:
    return " ".join((answer or "").lower().strip().rstrip(".").split())
