"""What each agent reads and writes: the prompts (shared by training and inference) and the SFT rows.

* Reasoning agent (card §2.3): image + question + ``reason_suffix`` -> the chain ``<thoughts>`` ... ``</thoughts>``,
  one ``title: content`` line per step, no answer after it.
* Summary agent: ``summary_instruction`` + ``QUESTION:`` + ``REASON PROCESS:`` chain (upstream's template), with the
  image -> the final answer (``answer_template`` around the question's ``answer_text`` where it has one: the world
  writes a box in its own tokens). Its rows come from the summary set (correct *and* flawed chains, the target is always
  the ground truth) plus ``general`` rows (short-answer data in the base model's own format), which keep perception.
* Single model (the baseline the paper argues against): image + question -> chain, then the answer after
  ``</thoughts>``; trained on the reasoning set's chains with their answers (and the same general rows).

Rows are TRL conversational prompt/completion with an ``images`` column; the prompt is a string, so TRL puts the
image before the text, as the world's base VLM was trained.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from longthink.insight_v import prompts
from longthink.insight_v.steps import Path, chain_steps, format_chain
from longthink.insight_v.vlm import user_turn

ROLES = ("reason", "summary", "single")


def reason_text(question: str, suffix: str = prompts.REASON_SUFFIX) -> str:
    return question + suffix


def summary_text(question: str, chain: str, instruction: str = prompts.SUMMARY_INSTRUCTION) -> str:
    return prompts.SUMMARY_TEMPLATE.format(instruction=instruction, question=question, chain=chain)


def reason_messages(question: str, suffix: str = prompts.REASON_SUFFIX) -> list[dict[str, Any]]:
    return [user_turn(reason_text(question, suffix))]


def summary_messages(question: str, chain: str, instruction: str = prompts.SUMMARY_INSTRUCTION) -> list[dict]:
    return [user_turn(summary_text(question, chain, instruction))]


def plain_messages(question: str) -> list[dict[str, Any]]:
    return [user_turn(question)]


def _row(image, prompt: str, completion: str) -> dict[str, Any]:
    return {"images": [image], "prompt": [{"role": "user", "content": prompt}],
            "completion": [{"role": "assistant", "content": completion}]}


def chain_of(path: Path, *, keep_answer_step: bool) -> str:
    return format_chain(chain_steps(path.steps, keep_answer_step=keep_answer_step))


def reason_rows(paths: Sequence[Path], questions: dict[str, dict], image_fn: Callable, settings) -> list[dict]:
    """The reasoning agent's rows: the reasoning set's chains."""
    return [_row(image_fn(questions[p.question_id]), reason_text(questions[p.question_id]["question"],
                                                                  settings.reason_suffix),
                 chain_of(p, keep_answer_step=settings.keep_answer_step)) for p in paths]


def summary_rows(paths: Sequence[Path], questions: dict[str, dict], image_fn: Callable, settings) -> list[dict]:
    """The summary agent's rows: every summary-set chain (correct or flawed) -> the ground-truth answer."""
    rows = []
    for p in paths:
        q = questions[p.question_id]
        chain = chain_of(p, keep_answer_step=settings.keep_answer_step)
        rows.append(_row(image_fn(q), summary_text(q["question"], chain, settings.summary_instruction),
                         settings.format_answer(q.get("answer_text", q["answer"]))))
    return rows


def single_rows(paths: Sequence[Path], questions: dict[str, dict], image_fn: Callable, settings) -> list[dict]:
    """The single model's rows: question -> chain + answer, from the reasoning set."""
    rows = []
    for p in paths:
        q = questions[p.question_id]
        chain = chain_of(p, keep_answer_step=settings.keep_answer_step)
        answer = settings.format_answer(q.get("answer_text", q["answer"]))
        rows.append(_row(image_fn(q), q["question"], f"{chain}\n{answer}"))
    return rows


def general_rows(rows: Sequence[dict[str, Any]], image_fn: Callable) -> list[dict]:
    """General short-answer rows ``{question, reply, ...}`` in the base model's own reply format."""
    return [_row(image_fn(r), r["question"], r["reply"]) for r in rows]


ROLE_ROWS = {"reason": reason_rows, "summary": summary_rows, "single": single_rows}


def rows_for(role: str, paths: Sequence[Path], questions: dict[str, dict], image_fn: Callable, settings, *,
             general: Sequence[dict[str, Any]] = ()) -> list[dict]:
    """An agent's SFT rows (its own rows, capped at ``max_rows``, then the general rows it mixes in)."""
    if role not in ROLE_ROWS:
        raise ValueError(f"sft.role: unknown role {role!r}; known: {list(ROLES)}")
    own = ROLE_ROWS[role](paths, questions, image_fn, settings)
    if settings.max_rows:
        own = own[: settings.max_rows]
    mix = role == "summary" or (role == "single" and settings.general_in_single)
    return own + (general_rows(general, image_fn) if mix else [])
