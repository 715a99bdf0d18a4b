"""Rollback resampling (RRS; "memory-guided KL stabilization" in the ICLR version): park what makes KL spike.

What is known (card §2.3): a sample whose KL to the reference passes a threshold is flagged and kept out of the
gradient; it waits in an experience buffer and returns to the sampler later (every T = 100 steps); the threshold is
adaptive. The kit's algorithm, one piece per class here, wired into TRL by ``longthink.taco.trainer``:

1. after a rollout, per completion ``kl_i`` = the mean over its tokens of the k3 estimator
   ``exp(Δ) − Δ − 1``, ``Δ = log π_ref − log π_θ`` (:func:`completion_kl`);
2. ``τ = max(τ_min, μ + k·σ)`` over the ``kl_i`` of the last ``window`` steps (``tau_mode="adaptive"``), or a fixed
   ``τ`` (:class:`KLThreshold`);
3. a group with any ``kl_i > τ`` is flagged: the trainer zeroes its rows of ``completion_mask`` (the whole group,
   so the group's advantages stay coherent) and its dataset index goes into a FIFO buffer (:class:`RollbackBuffer`,
   capped);
4. every ``period`` optimizer steps the buffer is released into the sampler (each index repeated G times there) and
   cleared;
5. logged: the flagged fraction, the buffer size, the KL and τ.

Δ is clamped before the exponential (NeMo-RL #874: k3 overflows at 7B in bf16) so a single runaway token cannot
turn the statistic into infinity.
"""

from __future__ import annotations

import collections
import math
from collections.abc import Iterable, Sequence

TAU_MODES = ("adaptive", "fixed")
DELTA_CLAMP = 20.0


def completion_kl(per_token_logps, ref_per_token_logps, mask):
    """Per-completion mean k3 KL ``(B,)`` from per-token log-probs ``(B, T)`` of policy and reference, over the
    completion ``mask`` (rows without tokens give 0)."""
    import torch

    delta = (ref_per_token_logps - per_token_logps).clamp(-DELTA_CLAMP, DELTA_CLAMP)
    k3 = torch.exp(delta) - delta - 1
    k3 = torch.nan_to_num(k3, nan=0.0, posinf=0.0, neginf=0.0)
    mask = mask.to(k3.dtype)
    return (k3 * mask).sum(-1) / mask.sum(-1).clamp(min=1.0)


class KLThreshold:
    """τ over a window of recent per-completion KLs (the current step is judged against the steps before it)."""

    def __init__(self, *, mode: str = "adaptive", k: float = 3.0, tau_min: float = 0.05, window: int = 50,
                 tau: float | None = None):
        if mode not in TAU_MODES:
            raise ValueError(f"unknown rrs_tau_mode {mode!r}; known: {list(TAU_MODES)}")
        if mode == "fixed" and (tau is None or not tau > 0):
            raise ValueError(f"rrs_tau_mode fixed needs rrs_tau > 0, got {tau!r}")
        if not window >= 1:
            raise ValueError(f"rrs_window must be >= 1 step, got {window!r}")
        self.mode, self.k, self.tau_min, self.fixed = mode, float(k), float(tau_min), tau
        self.history: collections.deque[list[float]] = collections.deque(maxlen=int(window))

    def value(self) -> float:
        """The current τ (``tau_min`` until there is history)."""
        if self.mode == "fixed":
            return float(self.fixed)
        values = [v for step in self.history for v in step]
        if len(values) < 2:
            return self.tau_min
        mean = sum(values) / len(values)
        std = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))
        return max(self.tau_min, mean + self.k * std)

    def update(self, kls: Iterable[float]) -> None:
        """Add one step's per-completion KLs to the window."""
        self.history.append([float(v) for v in kls if math.isfinite(float(v))])


def flag_groups(kls: Sequence[float], *, group_size: int, tau: float) -> list[bool]:
    """One flag per group of ``group_size`` consecutive completions: any ``kl_i > τ`` (or a NaN) flags the group."""
    if group_size < 1 or len(kls) % group_size:
        raise ValueError(f"{len(kls)} completions do not split into groups of {group_size}")
    flags = []
    for g in range(0, len(kls), group_size):
        group = [float(v) for v in kls[g: g + group_size]]
        flags.append(any(not math.isfinite(v) or v > tau for v in group))
    return flags


class RollbackBuffer:
    """A FIFO of dataset indices waiting to re-enter the sampler (the oldest drop out beyond ``capacity``)."""

    def __init__(self, capacity: int = 1024):
        if capacity < 1:
            raise ValueError(f"rrs_buffer_size must be >= 1, got {capacity!r}")
        self.items: collections.deque[int] = collections.deque(maxlen=int(capacity))
        self.parked = 0  # how many indices were ever parked
        self.released = 0

    def push(self, indices: Iterable[int]) -> None:
        for i in indices:
            self.items.append(int(i))
            self.parked += 1

    def release(self) -> list[int]:
        """Everything waiting, oldest first (the card's re-admit rule: re-insert all), and clear."""
        out = list(self.items)
        self.items.clear()
        self.released += len(out)
        return out

    def __len__(self) -> int:
        return len(self.items)
