"""Guided decoding: a large target steered by a small guider's change in logits (ThinkLogit's logit arithmetic).

At every step the three models read the same token ids and advance in lockstep, each with its own KV cache:

    z_t = T_t + alpha_t * (G_t - B_t)          (raw next-token logits, fp32)

then temperature, then top-p on the combined logits, then a multinomial draw (upstream ``modeling/dexperts.py``
and ``eval/utils.py``; the card, section 2). ``alpha_t`` is 0 for the first ``warmup`` generated tokens (the
paper's ``warmup100``); G and B still run during warm-up so their caches stay aligned. Columns of the target
head beyond the smallest head get no delta (LM heads are padded differently). A token repeated
``repeat_limit`` times in a row is replaced by EOS and ends its row (upstream's guard against loops).

This is the kit's single decoding loop: the target alone, the guider alone, ThinkLogit and the naive no-cache
variant (for the benchmark) all run through :func:`generate`, so every system sees the same sampler.
Batches are left-padded; each row gets its own position ids and attention mask, and rows that finish are
dropped from the batch (and from every cache) so a long tail does not pay for finished rows.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

from longthink.generation import sample_token

STOP_REASONS = ("eos", "repeat", "length")


class VocabularyMismatch(ValueError):
    """Guided decoding needs models that share one tokenizer; the message names the models and the tokens."""


@dataclass(frozen=True)
class Sampler:
    """How the next token is drawn from the (combined) logits; temperature 0 means greedy."""

    temperature: float = 0.6
    top_p: float = 0.95
    max_new_tokens: int = 512
    repeat_limit: int = 10  # 0 switches the guard off

    def __post_init__(self):
        if self.temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}")
        if self.max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be >= 1, got {self.max_new_tokens}")
        if self.repeat_limit < 0:
            raise ValueError(f"repeat_limit must be >= 0, got {self.repeat_limit}")


@dataclass(frozen=True)
class Guidance:
    """Strength of the guider's delta and how many generated tokens pass before it switches on."""

    alpha: float = 1.0
    warmup: int = 100

    def alpha_at(self, step: int) -> float:
        """alpha for generated token number ``step`` (0-based): 0 during warm-up, then ``alpha``."""
        return 0.0 if step < self.warmup else self.alpha

    def __post_init__(self):
        if self.warmup < 0:
            raise ValueError(f"warmup must be >= 0, got {self.warmup}")


@dataclass
class DecodeStats:
    """Wall time and token counts of one :func:`generate` call (prefill included in ``seconds``)."""

    seconds: float = 0.0
    generated_tokens: int = 0  # tokens that belong to outputs (EOS included, padding after it excluded)
    steps: int = 0  # decoding steps (forward passes per model after the prefill)
    forwards: dict = field(default_factory=dict)  # model role -> number of forward calls

    @property
    def seconds_per_token(self) -> float:
        return self.seconds / max(self.generated_tokens, 1)

    def merge(self, other: "DecodeStats") -> "DecodeStats":
        forwards = dict(self.forwards)
        for key, value in other.forwards.items():
            forwards[key] = forwards.get(key, 0) + value
        return DecodeStats(self.seconds + other.seconds, self.generated_tokens + other.generated_tokens,
                           self.steps + other.steps, forwards)


@dataclass
class Output:
    """One generated continuation: token ids (EOS included when it stopped there) and why it stopped."""

    token_ids: list[int]
    stop: str  # one of STOP_REASONS

    @property
    def n_tokens(self) -> int:
        return len(self.token_ids)


# ------------------------------------------------------------------------------------------ tokenizer check
def _core_vocab(tokenizer) -> dict[str, int]:
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None:
        return backend.get_vocab(with_added_tokens=False)
    return dict(tokenizer.get_vocab())


def _added_vocab(tokenizer) -> dict[int, str]:
    return {int(i): str(getattr(t, "content", t)) for i, t in tokenizer.added_tokens_decoder.items()}


def check_shared_tokenizer(target_tokenizer, others: dict, *, strict_added: bool = False) -> list[str]:
    """Raise :class:`VocabularyMismatch` unless every tokenizer in ``others`` has the target's vocabulary.

    The learned (BPE) vocabulary must match token for token. Added/special tokens may name different strings
    at the same id, as R1-Distill and Qwen2.5 do above id 151643 (the fork's ``check_vocab.py``): that gives a
    warning (an error with ``strict_added``), because G and B only ever consume the target's ids. Returns the
    warnings.
    """
    core_t = _core_vocab(target_tokenizer)
    added_t = _added_vocab(target_tokenizer)
    notes = []
    for name, tok in others.items():
        core = _core_vocab(tok)
        if core != core_t:
            only_t = sorted(set(core_t.items()) - set(core.items()), key=lambda kv: kv[1])[:5]
            only_o = sorted(set(core.items()) - set(core_t.items()), key=lambda kv: kv[1])[:5]
            raise VocabularyMismatch(
                f"the {name} tokenizer does not share the target's vocabulary ({len(core)} vs {len(core_t)} "
                f"learned tokens); (token, id) only in the target: {only_t}; only in the {name}: {only_o}. "
                "Guided decoding adds logits column by column, so the models must use one tokenizer "
                "(cross-family guidance needs a token map, which the kit does not implement)."
            )
        added = _added_vocab(tok)
        differ = sorted(i for i in set(added) | set(added_t) if added.get(i) != added_t.get(i))
        if differ:
            pairs = [(i, added_t.get(i), added.get(i)) for i in differ[:6]]
            msg = (f"the {name} tokenizer names {len(differ)} added token(s) differently from the target "
                   f"(id, target, {name}): {pairs}; the {name} reads the target's ids")
            if strict_added:
                raise VocabularyMismatch(msg)
            warnings.warn(msg, stacklevel=2)
            notes.append(msg)
    return notes


# ----------------------------------------------------------------------------------------- logit arithmetic
def combine_logits(target, guider=None, base=None, *, alpha: float = 1.0):
    """``target + alpha * (guider - base)`` in fp32 on the first min(V_T, V_G, V_B) columns; others untouched."""

    z = target.float()
    if guider is None or base is None or alpha == 0:
        return z
    common = min(z.shape[-1], guider.shape[-1], base.shape[-1])
    z = z.clone()
    delta = guider[..., :common].float().to(z.device) - base[..., :common].float().to(z.device)
    z[..., :common] += alpha * delta
    return z


def sample_next(logits, sampler: Sampler, generator=None):
    """Temperature, then top-p, then a multinomial draw (greedy when temperature is 0)."""
    return sample_token(logits, temperature=sampler.temperature, top_p=sampler.top_p, generator=generator)


# ------------------------------------------------------------------------------------------------ decoding
class _Stream:
    """One model's view of the batch: its cache (or, naively, nothing) and how to get next-token logits."""

    copies = 1

    def __init__(self, model, *, use_cache: bool):
        from transformers import DynamicCache

        self.model = model
        self.use_cache = use_cache
        self.cache = DynamicCache(config=model.config) if use_cache else None
        self.device = next(model.parameters()).device
        self.calls = 0

    def forward(self, input_ids, attention_mask, position_ids):
        self.calls += 1
        if self.copies > 1:
            input_ids, attention_mask, position_ids = (t.repeat(self.copies, 1) for t in
                                                       (input_ids, attention_mask, position_ids))
        out = self.model(
            input_ids=input_ids.to(self.device), attention_mask=attention_mask.to(self.device),
            position_ids=position_ids.to(self.device), past_key_values=self.cache, use_cache=self.use_cache,
            logits_to_keep=1,
        )
        return out.logits[:, -1, :]

    def keep(self, rows, batch: int):
        if self.cache is not None:
            rows = torch_cat([rows + i * batch for i in range(self.copies)]) if self.copies > 1 else rows
            self.cache.batch_select_indices(rows.to(self.device))


class _PairStream(_Stream):
    """The guider and its base stacked into one module (see ``paired.py``): one forward, batch doubled."""

    copies = 2


def torch_cat(tensors):
    import torch

    return torch.cat(tensors)


_PAIRS: dict = {}


def paired(guider, base):
    """The stacked guider+base module for this pair of model objects (built once per pair), or None."""
    import weakref

    from longthink.thinklogit.paired import pair_models

    key = (id(guider), id(base))
    hit = _PAIRS.get(key)
    if hit is not None and hit[0]() is guider and hit[1]() is base:
        return hit[2]
    module = pair_models(guider, base)
    _PAIRS.clear()  # keep one pair alive at a time
    _PAIRS[key] = (weakref.ref(guider), weakref.ref(base), module)
    return module


def _left_pad(prompts: Sequence[Sequence[int]], pad_id: int):
    import torch

    width = max(len(p) for p in prompts)
    ids = torch.full((len(prompts), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(prompts), width), dtype=torch.long)
    for i, p in enumerate(prompts):
        if len(p) == 0:
            raise ValueError(f"prompt {i} is empty: guided decoding needs at least one prompt token")
        ids[i, width - len(p):] = torch.tensor(list(p), dtype=torch.long)
        mask[i, width - len(p):] = 1
    return ids, mask


def _positions(mask):
    return (mask.cumsum(-1) - 1).clamp(min=0)


def generate(
    target,
    prompts: Sequence[Sequence[int]],
    *,
    eos_ids: Sequence[int],  # stop tokens; the first is the EOS that the repetition guard writes
    pad_id: int,
    guider=None,
    base=None,
    guidance: Guidance = Guidance(),
    sampler: Sampler = Sampler(),
    seed: int = 0,
    use_cache: bool = True,
    ignore_eos: bool = False,
    pair_guider: bool = True,
    parallel: bool = False,
) -> tuple[list[Output], DecodeStats]:
    """Decode one left-padded batch of prompt token ids. Returns one :class:`Output` per prompt and the stats.

    With ``guider`` and ``base`` the logits are combined (ThinkLogit); without them the target decodes alone
    through the same sampler. ``use_cache=False`` recomputes the whole prefix at every step (the naive
    baseline of the benchmark); ``ignore_eos`` decodes exactly ``max_new_tokens`` (for timing). With
    ``pair_guider`` the guider and its base run as one stacked module (``paired.py``) when their architectures
    match: the same logits, half the kernel launches. ``parallel`` runs the guider side in a worker thread
    while the target runs (upstream's thread pool; it only pays off when a second core is free).
    """
    import torch

    if (guider is None) != (base is None):
        raise ValueError("guided decoding needs both a guider and a guider base (or neither)")
    if not prompts:
        return [], DecodeStats()
    if not eos_ids:
        raise ValueError("eos_ids must name at least one stop token")
    eos = torch.tensor([int(e) for e in eos_ids], dtype=torch.long)  # eos[0] is the one the repeat guard forces
    streams = {"target": _Stream(target, use_cache=use_cache)}
    if guider is not None:
        pair = paired(guider, base) if pair_guider else None
        if pair is not None:
            streams["guider+base"] = _PairStream(pair, use_cache=use_cache)
        else:
            streams["guider"] = _Stream(guider, use_cache=use_cache)
            streams["base"] = _Stream(base, use_cache=use_cache)
    generator = torch.Generator().manual_seed(int(seed))
    pool = None
    if parallel and len(streams) > 1:
        from concurrent.futures import ThreadPoolExecutor

        pool = ThreadPoolExecutor(max_workers=len(streams) - 1)

    start = time.perf_counter()
    ids, mask = _left_pad(prompts, pad_id)
    n = ids.shape[0]
    outputs: list[list[int]] = [[] for _ in range(n)]
    stops = ["length"] * n
    rows = torch.arange(n)  # which original rows are still decoding
    last = ids[:, -1].clone()
    run_length = torch.zeros(n, dtype=torch.long)
    step_input, positions = ids, _positions(mask)
    steps = 0
    with torch.inference_mode():
        for step in range(sampler.max_new_tokens):
            alpha = guidance.alpha_at(step) if guider is not None else 0.0
            if pool is not None:  # upstream's thread pool: the guider+base forward overlaps the target's
                side = {name: pool.submit(s.forward, step_input, mask, positions)
                        for name, s in streams.items() if name != "target"}
                logits = {"target": streams["target"].forward(step_input, mask, positions)}
                logits.update({name: f.result() for name, f in side.items()})
            else:
                logits = {name: s.forward(step_input, mask, positions) for name, s in streams.items()}
            if "guider+base" in logits:
                logits["guider"], logits["base"] = logits.pop("guider+base").chunk(2, dim=0)
            z = combine_logits(logits["target"], logits.get("guider"), logits.get("base"), alpha=alpha)
            nxt = sample_next(z.cpu(), sampler, generator)  # the seeded generator lives on the CPU
            steps += 1
            # repetition guard (upstream: a counter that restarts at 1 on a new token; EOS at the limit)
            run_length = torch.where(nxt == last, run_length + 1, torch.ones_like(run_length))
            repeated = (run_length >= sampler.repeat_limit) if sampler.repeat_limit else torch.zeros_like(nxt, dtype=torch.bool)
            if not ignore_eos:
                nxt = torch.where(repeated, eos[0].expand_as(nxt), nxt)
            last = nxt
            is_eos = torch.zeros_like(repeated) if ignore_eos else torch.isin(nxt, eos)
            for r, token, ended, rep in zip(rows.tolist(), nxt.tolist(), is_eos.tolist(), repeated.tolist()):
                outputs[r].append(token)
                if ended:
                    stops[r] = "repeat" if rep else "eos"
            alive = ~is_eos
            if not alive.any():
                break
            # next step's inputs: the new token, one more mask column, the next position
            if use_cache:
                step_input = nxt[:, None]
                positions = positions[:, -1:] + 1
            else:
                step_input = torch.cat([step_input, nxt[:, None]], dim=1)
                positions = torch.cat([positions, positions[:, -1:] + 1], dim=1)
            mask = torch.cat([mask, torch.ones((mask.shape[0], 1), dtype=mask.dtype)], dim=1)
            if not alive.all():  # drop finished rows from the batch and from every cache
                keep = alive.nonzero().squeeze(-1)
                rows, last, run_length = rows[keep], last[keep], run_length[keep]
                step_input, positions, mask = step_input[keep], positions[keep], mask[keep]
                for s in streams.values():
                    s.keep(keep, batch=alive.shape[0])
    if pool is not None:
        pool.shutdown()
    seconds = time.perf_counter() - start
    result = [Output(token_ids=o, stop=s) for o, s in zip(outputs, stops)]
    stats = DecodeStats(seconds=seconds, generated_tokens=sum(len(o) for o in outputs), steps=steps,
                        forwards={role: s.calls for name, s in streams.items() for role in name.split("+")})
    return result, stats


def generate_all(
    target,
    prompts: Sequence[Sequence[int]],
    *,
    batch_size: int,
    seed: int = 0,
    progress: str | None = None,
    **kwargs,
) -> tuple[list[Output], DecodeStats]:
    """:func:`generate` over many prompts in batches of ``batch_size`` (batch ``i`` draws with ``seed + i``).

    Prompts are batched in the order given (callers repeat a question k times for k samples), so a result is
    a pure function of (prompts, batch_size, seed, settings): the same run gives the same tokens twice.
    """
    from tqdm.auto import tqdm

    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    outputs: list[Output] = []
    stats = DecodeStats()
    starts = range(0, len(prompts), batch_size)
    for i, start in enumerate(tqdm(starts, desc=progress, disable=progress is None, leave=False)):
        out, st = generate(target, prompts[start:start + batch_size], seed=seed + i, **kwargs)
        outputs.extend(out)
        stats = stats.merge(st)
    return outputs, stats
