"""Questions for ThinkLogit: evaluation benchmarks, DPO training prompts and the guider's SFT traces.

Two kinds of source behind one record type (:class:`Question`), told apart by the name:

* a hub benchmark name (paper profile): the card's benchmarks (AIME 2024, AIME 2025, AMC 2023, MATH500 level 5,
  GPQA-Diamond) and MATH train levels 4-5 for the DPO rollouts, each read by a registry entry (``HUB_SETS``);
* a world reference (tiny/smoke): ``world:by_difficulty`` (the MATH500 analog) or ``world:hard`` (the AIME analog)
  for evaluation, ``world:pool`` (questions with long teacher traces) for the guider's SFT and the DPO prompts.
  Rows come through the resolver; this module never imports a world.

Prompts are rendered from one template per run (the card's ``math_instr``; the world's chat prompt), identical
for target, guider and guider base: the guider base never gets a prompt of its own.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

# upstream eval/gsm/run_eval.py gpqa_instr (a single boxed letter)
GPQA_PROMPT = ("Solve the following problem. You must choose only one option from A to D. Your final answer should "
               "be a single letter from A to D, in the form \\boxed{{answer}}, at the end of your response.\n\n"
               "Question: {question}")


class DataError(ValueError):
    """Unknown benchmark or source, or a template without ``{question}``."""


@dataclass
class Question:
    id: str
    benchmark: str
    question: str
    answer: str
    prompt: str = ""
    difficulty: int | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def render(template: str, question: str) -> str:
    if "{question}" not in template:
        raise DataError(f"prompt_template must contain '{{question}}', got {template!r}")
    return template.replace("{{", "\x00").replace("}}", "\x01").replace("{question}", question) \
        .replace("\x00", "{").replace("\x01", "}")


# ------------------------------------------------------------------------------------------------ hub sets
@dataclass(frozen=True)
class HubSet:
    """How to read one hub dataset into Questions (paper profile; not exercised offline)."""

    path: str
    split: str
    question: str = "problem"
    answer: str = "answer"
    config: str | None = None
    convert: Callable[[dict, int], tuple[str, str]] | None = None  # row, index -> (question, gold)
    keep: Callable[[dict, list[int]], bool] | None = None  # row, difficulties -> keep?
    template: str | None = None  # overrides the run's template (GPQA)
    level: Callable[[dict], int | None] = field(default=lambda row: None)


def _gpqa_row(row: dict, index: int) -> tuple[str, str]:
    """GPQA: the correct answer and three distractors in a seeded order; gold is the letter."""
    choices = [row["Correct Answer"], row["Incorrect Answer 1"], row["Incorrect Answer 2"], row["Incorrect Answer 3"]]
    order = list(range(4))
    random.Random(index).shuffle(order)
    lines = [f"{'ABCD'[i]}) {choices[j].strip()}" for i, j in enumerate(order)]
    return f"{row['Question'].strip()}\n\n" + "\n".join(lines), "ABCD"[order.index(0)]


def _math_level(row: dict) -> int | None:
    level = row.get("level")
    if isinstance(level, int):
        return level
    digits = re.findall(r"\d+", str(level or ""))
    return int(digits[-1]) if digits else None


def _math_solution_answer(row: dict, index: int) -> tuple[str, str]:
    from longthink.grading import extract_answer

    return row["problem"], extract_answer(row["solution"]) or ""


HUB_SETS: dict[str, HubSet] = {
    "aime2024": HubSet("HuggingFaceH4/aime_2024", "train"),
    "aime2025": HubSet("yentinglin/aime_2025", "train"),
    "amc23": HubSet("math-ai/amc23", "test", question="question"),
    "math_l5": HubSet("HuggingFaceH4/MATH-500", "test", keep=lambda row, levels: _math_level(row) == 5,
                      level=_math_level),
    "gpqa_diamond": HubSet("Idavidrein/gpqa", "train", config="gpqa_diamond", convert=_gpqa_row,
                           template=GPQA_PROMPT),
    "math_train_l45": HubSet("DigitalLearningGmbH/MATH-lighteval", "train", convert=_math_solution_answer,
                             keep=lambda row, levels: _math_level(row) in levels, level=_math_level),
}


def _hub_rows(spec: HubSet) -> list[dict]:
    from longthink.resolver import hub_rows

    return hub_rows(spec.path, config=spec.config, split=spec.split)


def hub_questions(name: str, *, template: str, limit: int = 0, difficulties: list[int] | None = None,
                  loader: Callable[[HubSet], list[dict]] = _hub_rows) -> list[Question]:
    """Questions of hub set ``name`` (``loader`` is injectable so tests can feed rows)."""
    if name not in HUB_SETS:
        raise DataError(f"unknown hub benchmark {name!r}; known: {sorted(HUB_SETS)}")
    spec = HUB_SETS[name]
    out = []
    for i, row in enumerate(loader(spec)):
        if spec.keep is not None and not spec.keep(row, list(difficulties or [])):
            continue
        q, a = spec.convert(row, i) if spec.convert else (str(row[spec.question]), str(row[spec.answer]))
        out.append(Question(f"{name}/{i}", name, q.strip(), str(a).strip(), render(spec.template or template, q.strip()),
                            spec.level(row)))
        if limit and len(out) >= limit:
            break
    return out


# ---------------------------------------------------------------------------------------------- world sets
def _stratified(rows: list[dict], limit: int) -> list[dict]:
    """The first rows of each difficulty, round-robin, until ``limit`` (keeps every difficulty represented)."""
    if not limit or limit >= len(rows):
        return rows
    by_k: dict[int, list[dict]] = {}
    for r in rows:
        by_k.setdefault(int(r["difficulty"]), []).append(r)
    out, i = [], 0
    while len(out) < limit:
        for k in sorted(by_k):
            if i < len(by_k[k]) and len(out) < limit:
                out.append(by_k[k][i])
        i += 1
    return out


def world_questions(name: str, rows: list[dict], *, template: str, limit: int = 0) -> list[Question]:
    """A world evaluation set (rows from the resolver), stratified by difficulty if limited; ``name`` is its label."""
    rows = _stratified(list(rows), limit)
    return [Question(f"{name}/{i}", name, r["question"], str(r["answer"]), render(template, r["question"]),
                     int(r["difficulty"])) for i, r in enumerate(rows)]


def benchmark_name(ref: str) -> str:
    """The label of a benchmark: ``world:by_difficulty`` -> ``by_difficulty``; hub names stay as they are."""
    return ref.split(":", 1)[1] if ":" in ref else ref


def _s1_completion(thinking: str, attempt: str) -> str:
    from longthink.formats import s1_assistant

    return s1_assistant(thinking, attempt)


# How a long trace becomes the guider's SFT completion. "plain" keeps every step and re-check but drops s1's
# think/answer delimiters: the tiny target never wrote a chat delimiter, and at the first token its logit for
# <|im_start|> sits below the digits, so a delimiter-first guider made T + (G - B) start with a digit (measured:
# ThinkLogit 0.10 vs target 0.55); in the target's own surface the delta only has to say "keep going".
COMPLETION_FORMATS = {
    "s1": _s1_completion,
    "plain": lambda thinking, attempt: f"{thinking}\nAnswer: {attempt}",
}


# keep_rechecks=False (tiny profile): traces with "Wait" re-checks are dropped from the guider's SFT. Measured on
# the v4 tiny world (120 questions): with them, T + (G - B) wrote a "Wait, " the target had never seen and then a
# garbled re-check line ("Wait, j-4=8"), ThinkLogit 0.16-0.21 vs target 0.46; without them the delta only makes
# the target keep writing steps past its habitual three, ThinkLogit 0.54.
def world_training(pool: list[dict], *, template: str, n_traces: int, only_correct: bool, n_dpo: int,
                   dpo_difficulties: list[int], well_formed: Callable[[str, str | None], bool],
                   completion_format: str = "s1", keep_rechecks: bool = True, n_dev: int = 0,
                   dev_difficulties: list[int] | None = None, thinking_column: str = "thinking_trajectories",
                   attempt_column: str = "attempt") -> tuple[list[dict], list[Question], list[Question]]:
    """Guider SFT rows (prompt/completion) from the front of the pool; a dev split, then DPO prompts, from its back.

    The traces are the pool's ``thinking_column`` / ``attempt_column`` (s1's teacher in ``thinking_trajectories``,
    the guider's teacher, the R1 analog, in ``deepseek_thinking_trajectory``, as in s1K-1.1). ``only_correct`` is
    the R1-Distill recipe's rejection sampling: keep traces whose attempt grades correct (``longthink.grading``)
    and that the world calls well formed (``well_formed(thinking, attempt)``, the world's own trace check, reached
    through the resolver). The dev split (``n_dev`` questions at ``dev_difficulties``, default every difficulty) is
    taken first from the very back, so it stays the same whatever the DPO prompts are; the three slices are
    disjoint, and none holds an evaluation question (the pool never does).
    """
    from longthink.grading import grade

    if completion_format not in COMPLETION_FORMATS:
        raise DataError(f"unknown completion_format {completion_format!r}; known: {sorted(COMPLETION_FORMATS)}")
    if n_dev < 0:
        raise DataError(f"n_dev_prompts must be >= 0, got {n_dev}")
    fmt = COMPLETION_FORMATS[completion_format]
    sft, used = [], set()
    for row in pool:
        if len(sft) >= n_traces:
            break
        thinking, attempt = row[thinking_column], row[attempt_column]
        thinking = thinking[0] if isinstance(thinking, list) else thinking  # s1K keeps a one-item list
        if only_correct and not (well_formed(thinking, attempt) and grade(f"Answer: {attempt}", row["answer"])):
            continue
        if not keep_rechecks and "Wait" in thinking:
            continue
        sft.append({"prompt": render(template, row["question"]), "completion": fmt(thinking, attempt or ""),
                    "difficulty": int(row["difficulty"])})
        used.add(row["question"])

    def take(n: int, difficulties, benchmark: str) -> list[Question]:
        out = []
        for i, row in enumerate(reversed(pool)):
            if len(out) >= n:
                break
            if row["question"] in used or row.get("flaw") in ("image", "asy", "p_label"):
                continue
            if difficulties and int(row["difficulty"]) not in difficulties:
                continue
            used.add(row["question"])
            out.append(Question(f"pool/{len(pool) - 1 - i}", benchmark, row["question"], str(row["answer"]),
                                render(template, row["question"]), int(row["difficulty"])))
        return out

    dev = take(n_dev, list(dev_difficulties or []), "dev")
    dpo = take(n_dpo, list(dpo_difficulties), "pool")
    return sft, dpo, dev


# --------------------------------------------------------------------------------------------------- entry
def is_world(ref: str) -> bool:
    from longthink.resolver import is_world as world_ref

    return world_ref(ref)


def load_questions(data, *, rows_of: Callable[[str], list[dict]]) -> dict[str, list[Question]]:
    """Evaluation questions per benchmark for a ``thinklogit.data`` stage (``rows_of(ref)`` reads a world set)."""
    kit = data.kit if hasattr(data, "kit") else data
    out = {}
    for ref in kit.benchmarks:
        name = benchmark_name(ref)
        if is_world(ref):
            out[name] = world_questions(name, rows_of(ref), template=kit.prompt_template, limit=kit.max_per_benchmark)
        elif ref in HUB_SETS:
            out[name] = hub_questions(ref, template=kit.prompt_template, limit=kit.max_per_benchmark)
        else:
            raise DataError(f"unknown benchmark {ref!r}: a world set (world:by_difficulty, world:hard) or one of "
                            f"{sorted(HUB_SETS)}")
    return out


def load_training(data, guider, *, rows_of: Callable[[str], list[dict]] | None = None,
                  well_formed: Callable[[str, str | None], bool] | None = None,
                  train_guider: bool) -> tuple[list[dict], list[Question], list[Question]]:
    """Guider SFT rows (world pool only, when the guider is trained here), the DPO rollout prompts and the dev split.

    hub: no SFT rows (the paper's guider, R1-Distill-Qwen-1.5B, exists) and MATH train levels 4-5 as prompts;
    world pool: disjoint slices of it (SFT from the front; the dev split, then the DPO prompts, from the back).
    The dev split (``n_dev_prompts``) holds training problems, disjoint from the DPO prompts, the SFT traces and
    the evaluation questions: it is where DPO settings are chosen.
    """
    kit = data.kit if hasattr(data, "kit") else data
    gkit = guider.kit if hasattr(guider, "kit") else guider
    if is_world(kit.dpo_prompts):
        if rows_of is None or well_formed is None:
            raise DataError(f"dpo_prompts {kit.dpo_prompts!r} is a world pool: pass rows_of and well_formed")
        return world_training(rows_of(kit.dpo_prompts), template=kit.prompt_template,
                              n_traces=gkit.n_traces if train_guider else 0, only_correct=gkit.only_correct,
                              n_dpo=kit.n_dpo_prompts, dpo_difficulties=kit.dpo_difficulties,
                              well_formed=well_formed, completion_format=gkit.completion_format,
                              keep_rechecks=gkit.keep_rechecks, n_dev=kit.n_dev_prompts,
                              dev_difficulties=kit.dev_difficulties, thinking_column=gkit.thinking_column,
                              attempt_column=gkit.attempt_column)
    if train_guider:
        raise DataError("training the guider needs long traces: only a world pool (dpo_prompts: world:pool) provides "
                        "them; at paper scale set stages.models.guider to an existing guider "
                        "(deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B)")
    if kit.n_dev_prompts < 0:
        raise DataError(f"n_dev_prompts must be >= 0, got {kit.n_dev_prompts}")
    # hub: the dev split is the front of the prompt stream, the DPO prompts the rest (dev_difficulties unused)
    n_dev = kit.n_dev_prompts
    stream = hub_questions(kit.dpo_prompts, template=kit.prompt_template,
                           limit=kit.n_dpo_prompts + n_dev if kit.n_dpo_prompts else 0,
                           difficulties=kit.dpo_difficulties)
    dev = [Question(**{**q.as_dict(), "benchmark": "dev"}) for q in stream[:n_dev]]
    return [], stream[n_dev:], dev
