"""The four systems compared by the paper, all sampled through :func:`longthink.thinklogit.guided.generate_all`.

``target`` (the large model alone), ``guider`` (the small reasoning model alone), ``thinklogit``
(target + alpha * (guider - guider base)) and ``thinklogit_dpo`` (the same with the DPO-tuned guider). Every
system reads the same prompt ids (tokenised once with the target's tokenizer) and draws with the same sampler.
Each output is scored as upstream ``eval/compute_metrics.py`` does: keep the first ``max_scored_tokens``, cut at
the first ``truncate_at`` string ("Human" at paper scale), extract the answer and grade it with
``longthink.grading.grade``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from longthink.thinklogit.guided import DecodeStats, Guidance, Sampler, generate_all


@dataclass
class Models:
    """Loaded models sharing one tokenizer (checked on load); ``guider_dpo`` is set after DPO."""

    target: object
    base: object
    guider: object
    tokenizer: object
    guider_dpo: object | None = None
    keys: dict = field(default_factory=dict)  # cache key of each model (target, base, guider, guider_dpo)

    @property
    def eos_ids(self) -> list[int]:
        tok = self.tokenizer
        ids = [tok.eos_token_id] + ([tok.pad_token_id] if tok.pad_token_id is not None else [])
        return list(dict.fromkeys(i for i in ids if i is not None))


# system name -> (decoder, guider, base) from the loaded models
SYSTEMS: dict[str, Callable[[Models], tuple]] = {
    "target": lambda m: (m.target, None, None),
    "guider": lambda m: (m.guider, None, None),
    "thinklogit": lambda m: (m.target, m.guider, m.base),
    "thinklogit_dpo": lambda m: (m.target, m.guider_dpo, m.base),
}


@dataclass
class Sample:
    question_id: str
    benchmark: str
    difficulty: int | None
    gold: str
    text: str
    n_tokens: int
    stop: str
    answer: str | None
    correct: bool
    system: str = ""
    prompt: str = ""
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


def _last_number(text: str) -> str | None:
    import re

    numbers = re.findall(r"-?\d+(?:\.\d+)?(?:/\d+)?", text)
    return numbers[-1] if numbers else None


def _last_letter(text: str) -> str | None:
    import re

    letters = re.findall(r"\b([A-D])\b", text)
    return letters[-1] if letters else None


# What to grade when the output has no \boxed{} / "Answer:" line: upstream falls back to the last number (math)
# or the last A-D letter (GPQA); "none" counts such an output as wrong.
FALLBACKS: dict[str, Callable[[str], str | None]] = {
    "none": lambda text: None,
    "last_number": _last_number,
    "last_letter": _last_letter,
}


def extract(text: str, *, fallback: str = "none", benchmark: str = "") -> str | None:
    """The graded answer: ``longthink.grading.extract_answer``, else the fallback (letters for GPQA)."""
    from longthink.grading import extract_answer

    if fallback not in FALLBACKS:
        raise ValueError(f"unknown answer fallback {fallback!r}; known: {sorted(FALLBACKS)}")
    answer = extract_answer(text)
    if answer is None and fallback != "none":
        answer = FALLBACKS["last_letter" if benchmark.startswith("gpqa") else fallback](text)
    return answer


def score_text(token_ids: list[int], tokenizer, *, eos_ids: list[int], max_scored_tokens: int,
               truncate_at: list[str]) -> tuple[str, int]:
    """The scored text of one output (first N tokens, stop tokens dropped, cut at truncate_at) and N."""
    kept = token_ids[:max_scored_tokens]
    text = tokenizer.decode([t for t in kept if t not in eos_ids], skip_special_tokens=False)
    for marker in truncate_at:
        if marker and marker in text:
            text = text.split(marker)[0]
    return text, len(kept)


def sample_system(name: str, models: Models, questions: list, *, k: int, settings, seed: int,
                  guidance: Guidance | None = None, progress: bool = True) -> tuple[list[Sample], DecodeStats]:
    """``k`` samples per question from system ``name`` (questions are :class:`~.data.Question`)."""
    from longthink.grading import grade

    if name not in SYSTEMS:
        raise ValueError(f"unknown system {name!r}; known systems: {sorted(SYSTEMS)}")
    decoder, guider, base = SYSTEMS[name](models)
    if name == "thinklogit_dpo" and guider is None:
        raise ValueError("system 'thinklogit_dpo' needs the DPO-tuned guider (run the dpo stage first)")
    tok = models.tokenizer
    ids = [tok(q.prompt, add_special_tokens=False)["input_ids"] for q in questions]
    prompts = [p for p in ids for _ in range(k)]
    sampler = Sampler(temperature=settings.temperature, top_p=settings.top_p, max_new_tokens=settings.max_new_tokens,
                      repeat_limit=settings.repeat_limit)
    guidance = guidance or Guidance(alpha=settings.alpha, warmup=settings.warmup)
    extra = {"guider": guider, "base": base, "guidance": guidance} if guider is not None else {}
    outputs, stats = generate_all(decoder, prompts, batch_size=settings.batch_size, seed=seed, sampler=sampler,
                                  eos_ids=models.eos_ids, pad_id=tok.pad_token_id, progress=name if progress else None,
                                  **extra)
    samples = []
    for i, out in enumerate(outputs):
        q = questions[i // k]
        text, n = score_text(out.token_ids, tok, eos_ids=models.eos_ids, max_scored_tokens=settings.max_scored_tokens,
                             truncate_at=list(settings.truncate_at))
        answer = extract(text, fallback=settings.answer_fallback, benchmark=q.benchmark)
        correct = answer is not None and grade(answer, q.answer)
        samples.append(Sample(q.id, q.benchmark, q.difficulty, q.answer, text, n, out.stop, answer, correct,
                              system=name, prompt=q.prompt))
    return samples, stats
