"""Test-time scaling baselines of s1 (§3.1, §5.2, App. E.1), each returning evaluation runs for the metrics.

* **Token-conditional control (TCC)**: a model fine-tuned with ``Think for up to N tokens.`` at the end of the
  user turn (N = trace length rounded up to a power of 2, ``sft.round_up_pow2``) is asked for N at test time;
  **TCC + BF** additionally enforces N as the budget-forcing maximum.
* **Class-conditional control (CCC)**: the s1 model with a generic "think briefly" / "think long" suffix
  (the texts are recipe settings; App. E.1 gives the paper's).
* **Rejection sampling (RS)**: sample at T=1 and resample until the thinking fits the budget. The kit draws
  ``max_tries`` samples per question once and, for each budget, keeps the first that fits (the same
  distribution as resampling); a question with no fitting sample keeps its shortest one.
* **Majority voting**: the base instruct model samples k answers at T=1; the most common answer wins (parallel
  scaling, Fig. 4b); its compute is the total generated tokens over the k samples.
"""

from __future__ import annotations

from collections.abc import Sequence

from longthink.s1.budget_forcing import ForcingSettings, answer_text, chat_prompts
from longthink.s1.metrics import RunPoint
from longthink.s1.sft import TCC_TEMPLATE


def score(outputs, golds: Sequence[str]) -> list[bool]:
    """Grade the text after the last answer delimiter (the harness's rule) with ``longthink.grading``."""
    from longthink.grading import grade

    return [bool(grade(answer_text(o), g)) for o, g in zip(outputs, golds, strict=True)]


def run_point(method: str, setting: str, outputs, golds, *, a_min=None, a_max=None) -> tuple[RunPoint, list[bool]]:
    correct = score(outputs, golds)
    avg = sum(o.thinking_tokens for o in outputs) / max(1, len(outputs))
    return RunPoint(method, setting, avg, sum(correct) / max(1, len(correct)), a_min, a_max), correct


def token_conditional(backend, questions, golds, *, budgets: Sequence[int], base: ForcingSettings,
                      with_bf: bool, seed: int = 0) -> list[RunPoint]:
    """TCC (or TCC + BF): ask for N thinking tokens in the prompt; with BF, also cap thinking at N."""
    runs = []
    for n in budgets:
        prompts = chat_prompts(backend.tokenizer, questions, suffix=TCC_TEMPLATE.format(n=n))
        settings = _replace(base, max_thinking_tokens=n if with_bf else None, num_ignore=0)
        outs = backend.generate(prompts, settings, seed=seed)
        runs.append(run_point("TCC + BF" if with_bf else "TCC", f"N={n}", outs, golds, a_max=n)[0])
    return runs


def class_conditional(backend, questions, golds, *, prompts: dict, base: ForcingSettings,
                      seed: int = 0) -> list[RunPoint]:
    """CCC: one run per generic prompt suffix; no token limit is stated, so Control does not apply."""
    runs = []
    for name, suffix in prompts.items():
        outs = backend.generate(chat_prompts(backend.tokenizer, questions, suffix=suffix),
                                _replace(base, max_thinking_tokens=None, num_ignore=0), seed=seed)
        runs.append(run_point("CCC", name, outs, golds)[0])
    return runs


def rejection_sampling(backend, questions, golds, *, budgets: Sequence[int], tries: int, temperature: float,
                       base: ForcingSettings, seed: int = 0) -> tuple[list[RunPoint], dict]:
    """RS: per budget, the first of ``tries`` samples whose thinking fits; returns runs and acceptance rates."""
    prompts = chat_prompts(backend.tokenizer, questions)
    settings = _replace(base, max_thinking_tokens=None, num_ignore=0, temperature=temperature)
    outs = backend.generate([p for p in prompts for _ in range(tries)], settings, seed=seed)
    grouped = [outs[i * tries : (i + 1) * tries] for i in range(len(questions))]
    runs, accepted = [], {}
    for b in budgets:
        chosen, ok = [], 0
        for samples in grouped:
            fit = next((o for o in samples if o.thinking_tokens <= b), None)
            ok += fit is not None
            chosen.append(fit or min(samples, key=lambda o: o.thinking_tokens))
        accepted[b] = ok / max(1, len(grouped))
        runs.append(run_point("RS", f"budget={b}", chosen, golds, a_max=b)[0])
    return runs, accepted


def majority_voting(model, tokenizer, questions, golds, *, ks: Sequence[int], temperature: float,
                    max_new_tokens: int, batch_size: int, seed: int = 0) -> list[RunPoint]:
    """maj@k of the base instruct model's sampled answers; x = total generated tokens per question."""
    from longthink.generation import generate
    from longthink.grading import extract_answer, majority_vote
    from longthink.grading import grade

    k_max = max(ks)
    gen = generate(model, tokenizer, [q for q in questions for _ in range(k_max)], max_new_tokens=max_new_tokens,
                   do_sample=True, temperature=temperature, batch_size=batch_size, seed=seed)
    runs = []
    for k in ks:
        correct, tokens = [], []
        for i, gold in enumerate(golds):
            texts = gen.texts[i * k_max : i * k_max + k]
            vote = majority_vote([extract_answer(t) for t in texts])
            correct.append(vote is not None and bool(grade(vote, gold)))
            tokens.append(sum(gen.num_tokens[i * k_max : i * k_max + k]))
        runs.append(RunPoint("Majority voting (instruct)", f"k={k}", sum(tokens) / len(tokens),
                             sum(correct) / len(correct)))
    return runs


def _replace(settings: ForcingSettings, **changes) -> ForcingSettings:
    from dataclasses import replace

    return replace(settings, **changes)
