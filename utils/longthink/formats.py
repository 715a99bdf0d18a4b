"""The papers' delimiters and reply templates, in one place.

* s1 (``data/tokenization.py``): the assistant turn is ``<|im_start|>think`` NL thinking NL ``<|im_start|>answer``
  NL attempt (``Answer: `` prefixed if absent), then the end-of-turn token. ``think`` and ``answer`` are plain words
  after the special ``<|im_start|>``: no new vocabulary. Budget forcing ends thinking with ``<|im_start|>``.
* R1 / VLM-R1 / TACO: ``<think>…</think><answer>…</answer>``.
* Insight-V: the reasoning agent writes its chain inside ``<thoughts>…</thoughts>`` (``<output>`` is reserved).

The world tokenizer makes each tag one token (``longthink.tokenizer``); s1's delimiters reuse ``<|im_start|>``.
"""

from __future__ import annotations

# s1
THINK_PREFIX = "<|im_start|>think"
ANSWER_PREFIX = "<|im_start|>answer"
END_THINK = "<|im_start|>"  # the token whose emission ends the thinking phase
STOP = "<|im_end|>"
FINAL_ANSWER = "Final Answer:"
WAIT = "Wait"

# R1 / TACO and Insight-V tags (single, non-special tokens of the world tokenizer)
THINK_OPEN, THINK_CLOSE = "<think>", "</think>"
ANSWER_OPEN, ANSWER_CLOSE = "<answer>", "</answer>"
THOUGHTS_OPEN, THOUGHTS_CLOSE = "<thoughts>", "</thoughts>"
OUTPUT_OPEN, OUTPUT_CLOSE = "<output>", "</output>"
TAGS = (THINK_OPEN, THINK_CLOSE, ANSWER_OPEN, ANSWER_CLOSE, THOUGHTS_OPEN, THOUGHTS_CLOSE, OUTPUT_OPEN, OUTPUT_CLOSE)


def s1_assistant(thinking: str, attempt: str) -> str:
    """s1's assistant turn (without the end-of-turn token, which the chat template adds)."""
    attempt = attempt if attempt.lstrip().startswith("Answer:") else f"Answer: {attempt}"
    return f"{THINK_PREFIX}\n{thinking}\n{ANSWER_PREFIX}\n{attempt}"


def think_answer(thinking: str, answer: str) -> str:
    """The R1 / TACO reply: ``<think>thinking</think><answer>answer</answer>``."""
    return f"{THINK_OPEN}{thinking}{THINK_CLOSE}{ANSWER_OPEN}{answer}{ANSWER_CLOSE}"
