"""Decoding cost: wall time per generated token of the target alone, of ThinkLogit, and of a naive no-cache loop.

All three run :func:`longthink.thinklogit.guided.generate` on the same prompts and batch with EOS ignored, so
each decodes exactly ``new_tokens`` per row and the only difference is the work per step. Runs are interleaved
(target, guided, target, guided, ...) and the median of ``repeats`` is kept, because on a shared machine a single
timing can be off by tens of percent. ``overhead_ratio`` = guided seconds per token / target seconds per token
(the card's kit choice: report tokens/s of the target alone vs ThinkLogit on the same device).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from longthink.thinklogit.guided import Guidance, Sampler, generate


def time_decoding(
    target,
    guider,
    base,
    prompts: Sequence[Sequence[int]],
    *,
    eos_ids: Sequence[int],
    pad_id: int,
    new_tokens: int = 64,
    repeats: int = 3,
    sampler: Sampler = Sampler(),
    guidance: Guidance = Guidance(alpha=1.0, warmup=0),
    naive: bool = False,
    parallel: bool = False,
    seed: int = 0,
) -> dict:
    """Median seconds per generated token for each system (and the ratio); ``naive`` adds the no-cache loop."""
    import os

    import torch

    sampler = Sampler(temperature=sampler.temperature, top_p=sampler.top_p, max_new_tokens=new_tokens,
                      repeat_limit=sampler.repeat_limit)
    common = {"eos_ids": eos_ids, "pad_id": pad_id, "sampler": sampler, "seed": seed, "ignore_eos": True}
    systems = {
        "target": {},
        "guided": {"guider": guider, "base": base, "guidance": guidance},
    }
    if parallel:
        systems["parallel_guided"] = {**systems["guided"], "parallel": True}
    if naive:
        systems["naive_guided"] = {**systems["guided"], "use_cache": False}
    generate(target, prompts[:1], **{**common, "sampler": Sampler(max_new_tokens=2)})  # warm the kernels up
    times: dict[str, list[float]] = {name: [] for name in systems}
    for _ in range(repeats):
        for name, extra in systems.items():
            _, stats = generate(target, prompts, **common, **extra)
            times[name].append(stats.seconds_per_token)
    result = {f"{name}_s_per_token": statistics.median(t) for name, t in times.items()}
    result["overhead_ratio"] = result["guided_s_per_token"] / result["target_s_per_token"]
    if naive:
        result["naive_ratio"] = result["naive_guided_s_per_token"] / result["target_s_per_token"]
    if parallel:
        result["parallel_ratio"] = result["parallel_guided_s_per_token"] / result["target_s_per_token"]
    result.update(batch=len(prompts), new_tokens=new_tokens, repeats=repeats, torch_threads=torch.get_num_threads(),
                  load_average=os.getloadavg()[0])
    return result
