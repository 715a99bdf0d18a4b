"""How much budget forcing costs over plain generation of the same number of tokens (bf_overhead_ratio).

Budget forcing runs ``HFBackend.generate`` (forced Waits and answer prefix fed through the continued KV cache);
the reference is ``model.generate`` (greedy, ``min_new_tokens = max_new_tokens`` = the number of decode steps the
forced run took), on the same prompts in one batch. Both do the same number of model steps over the same batch,
so the ratio isolates the bookkeeping of forcing. ``naive=True`` also times the re-encoding approach (one
``generate`` call per thinking pass, the whole text re-encoded each time), for the benchmark's comparison.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence


def _timed(fn, repeats: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def measure_overhead(model, tokenizer, questions: Sequence[str], settings, *, repeats: int = 3,
                     naive: bool = False) -> dict:
    """Median wall times of budget forcing and of plain generation for the same steps; their ratio."""
    import torch

    from longthink.s1.budget_forcing import HFBackend, chat_prompts

    prompts = chat_prompts(tokenizer, questions)
    backend = HFBackend(model, tokenizer, batch_size=len(prompts))
    outs = backend.generate(prompts, settings)  # warm-up, and the number of decode steps to match
    steps = backend.last_steps

    def plain():
        enc = tokenizer([p + settings.think_prefix for p in prompts], return_tensors="pt", padding=True,
                        add_special_tokens=False)
        with torch.no_grad():
            return model.generate(**enc, max_new_tokens=steps, min_new_tokens=steps, do_sample=False,
                                  pad_token_id=tokenizer.pad_token_id)

    gen = plain()  # warm-up
    bf_times, plain_times = [], []
    for _ in range(repeats):  # interleaved, so load changes on a shared machine hit both alike
        t_bf, outs = _timed(lambda: backend.generate(prompts, settings), 1)
        t_plain, gen = _timed(plain, 1)
        bf_times.append(t_bf)
        plain_times.append(t_plain)
    t_bf, t_plain = statistics.median(bf_times), statistics.median(plain_times)
    result = {
        "bf_seconds": t_bf, "plain_seconds": t_plain, "ratio": t_bf / t_plain, "steps": steps,
        "batch": len(prompts), "plain_new_tokens": int(gen.shape[1]) - _padded_len(tokenizer, prompts, settings),
        "avg_waits": sum(o.waits for o in outs) / len(outs),
        "avg_thinking_tokens": sum(o.thinking_tokens for o in outs) / len(outs),
        "threads": torch.get_num_threads(),
    }
    if naive:
        t_naive, _ = _timed(lambda: naive_budget_forcing(model, tokenizer, prompts, settings), repeats)
        result.update(naive_seconds=t_naive, naive_ratio=t_naive / t_plain)
    return result


def _padded_len(tokenizer, prompts, settings) -> int:
    enc = tokenizer([p + settings.think_prefix for p in prompts], padding=True, add_special_tokens=False)
    return len(enc["input_ids"][0])


def naive_budget_forcing(model, tokenizer, prompts: Sequence[str], settings) -> list[str]:
    """The harness's way with ``generate``: stop at the delimiter, append Wait, re-encode everything, repeat."""
    import torch

    delim = tokenizer.convert_tokens_to_ids(settings.end_think)
    stops = [delim, tokenizer.convert_tokens_to_ids(settings.stop)]
    texts = [p + settings.think_prefix for p in prompts]
    budget = settings.thinking_budget(reserve=8)
    used = [0] * len(texts)
    for pass_ in range(settings.num_ignore + 1):
        enc = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
        left = max(1, budget - min(used))
        with torch.no_grad():
            out = model.generate(**enc, max_new_tokens=left, do_sample=False, eos_token_id=stops,
                                 pad_token_id=tokenizer.pad_token_id)
        new = out[:, enc["input_ids"].shape[1]:].tolist()
        for i, ids in enumerate(new):
            cut = next((j for j, t in enumerate(ids) if t in stops), len(ids))
            used[i] += cut
            texts[i] += tokenizer.decode(ids[:cut]) + (settings.ignore_string if pass_ < settings.num_ignore else "")
    texts = [t + settings.answer_prefix for t in texts]
    enc = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
    with torch.no_grad():
        out = model.generate(**enc, max_new_tokens=settings.max_answer_tokens, do_sample=False,
                             eos_token_id=stops[1], pad_token_id=tokenizer.pad_token_id)
    return [t + tokenizer.decode(o) for t, o in zip(texts, out[:, enc["input_ids"].shape[1]:].tolist())]
