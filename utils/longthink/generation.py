"""Batched generation for chat prompts: left padding, greedy or sampled, texts and generated-token counts.

Works with any causal LM and its tokenizer (the tiny world's models or hub models). Prompts are questions
(strings, rendered with the tokenizer's chat template and ``add_generation_prompt=True``), message lists, or
already-rendered text (``raw=True``). A ``prefill`` string is appended after the generation prompt (e.g. s1's
``<|im_start|>think\\n``). Generation stops at the tokenizer's EOS (``<|im_end|>`` in the world) or at
``stop_token_ids``; the returned text excludes the stop token, and ``num_tokens`` counts what was generated up to
and including it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass
class Generation:
    """Outputs in prompt order: ``texts[i]``, ``num_tokens[i]``, ``stopped[i]`` (ended on a stop token)."""

    texts: list[str] = field(default_factory=list)
    num_tokens: list[int] = field(default_factory=list)
    stopped: list[bool] = field(default_factory=list)


def render_prompts(tokenizer, prompts: Sequence, *, prefill: str = "", raw: bool = False,
                   system: str | None = None) -> list[str]:
    """Chat-template text for each prompt (a question string or a message list), plus ``prefill``."""
    out = []
    for p in prompts:
        if raw:
            if not isinstance(p, str):
                raise TypeError(f"raw prompts must be strings, got {type(p).__name__}")
            out.append(p + prefill)
            continue
        messages = [{"role": "user", "content": p}] if isinstance(p, str) else list(p)
        if system is not None and messages[0].get("role") != "system":
            messages = [{"role": "system", "content": system}, *messages]
        text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        out.append(text + prefill)
    return out


def generate(
    model,
    tokenizer,
    prompts: Sequence,
    *,
    max_new_tokens: int = 64,
    do_sample: bool = False,
    temperature: float = 1.0,
    top_p: float = 1.0,
    batch_size: int = 64,
    prefill: str = "",
    raw: bool = False,
    system: str | None = None,
    stop_token_ids: Sequence[int] | None = None,
    seed: int | None = None,
    skip_special_tokens: bool = False,
    progress: bool = False,
) -> Generation:
    """Generate a completion for every prompt, in batches, with left padding."""
    import torch
    from tqdm.auto import tqdm

    if max_new_tokens < 1:
        raise ValueError(f"max_new_tokens must be >= 1, got {max_new_tokens}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if do_sample and temperature <= 0:
        raise ValueError(f"sampling needs temperature > 0, got {temperature}")
    texts = render_prompts(tokenizer, prompts, prefill=prefill, raw=raw, system=system)
    stops = list(stop_token_ids) if stop_token_ids is not None else [tokenizer.eos_token_id]
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    if seed is not None:
        torch.manual_seed(seed)
    old_side = tokenizer.padding_side
    tokenizer.padding_side = "left"
    result = Generation()
    device = next(model.parameters()).device
    try:
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # similar lengths share a batch
        outputs: dict[int, tuple[str, int, bool]] = {}
        starts = range(0, len(order), batch_size)
        for start in tqdm(starts, desc="generate", disable=not progress, leave=False):
            idx = order[start : start + batch_size]
            enc = tokenizer([texts[i] for i in idx], return_tensors="pt", padding=True, add_special_tokens=False)
            enc = {k: v.to(device) for k, v in enc.items()}
            kwargs = {"do_sample": do_sample, "max_new_tokens": max_new_tokens, "eos_token_id": stops,
                      "pad_token_id": pad_id}
            if do_sample:
                kwargs.update(temperature=temperature, top_p=top_p, top_k=0)
            with torch.no_grad():
                out = model.generate(**enc, **kwargs)
            new = out[:, enc["input_ids"].shape[1] :].tolist()
            for i, ids in zip(idx, new, strict=True):
                cut = next((j for j, t in enumerate(ids) if t in stops), None)
                body = ids if cut is None else ids[:cut]
                text = tokenizer.decode(body, skip_special_tokens=skip_special_tokens)
                outputs[i] = (text, len(ids) if cut is None else cut + 1, cut is not None)
    finally:
        tokenizer.padding_side = old_side
    for i in range(len(texts)):
        text, n, stopped = outputs[i]
        result.texts.append(text)
        result.num_tokens.append(n)
        result.stopped.append(stopped)
    return result


def top_p_filter(logits, top_p: float):
    """Set logits outside the smallest set of tokens with cumulative probability >= top_p to -inf."""
    import torch

    if top_p >= 1.0:
        return logits
    sorted_logits, sorted_idx = torch.sort(logits, descending=True, dim=-1)
    cum = torch.softmax(sorted_logits, dim=-1).cumsum(dim=-1)
    remove = cum > top_p
    remove[..., 1:] = remove[..., :-1].clone()  # keep the token that crosses the threshold
    remove[..., 0] = False
    mask = torch.zeros_like(remove).scatter(-1, sorted_idx, remove)
    return logits.masked_fill(mask, float("-inf"))


def sample_token(logits, *, temperature: float, top_p: float = 1.0, generator=None):
    """Temperature, then top-p, then a multinomial draw; greedy when ``temperature`` is 0.

    The one sampler of the kit's hand-written decode loops (s1's budget forcing, ThinkLogit's guided decoding).
    The draw runs on the CPU, where the seeded ``generator`` lives, and returns to the logits' device.
    """
    import torch

    if temperature == 0:
        return logits.argmax(dim=-1)
    probs = torch.softmax(top_p_filter(logits.float() / temperature, top_p), dim=-1)
    return torch.multinomial(probs.cpu(), num_samples=1, generator=generator).squeeze(-1).to(logits.device)
