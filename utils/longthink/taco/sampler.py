"""The sampler TACO's training reads prompts from: TRL's repeat order, with difficulty weights and re-entries.

TRL's ``GRPOTrainer`` groups rewards by ``view(-1, G)``, so its sampler (``RepeatSampler``) yields each prompt index
G times in a row, in chunks of ``generation_batch_size / G`` prompts, each chunk repeated ``num_iterations ×
steps_per_generation`` times (VLM-R1 #129: repeating inputs on top of that misaligns rewards). This sampler keeps
that order and adds two things the trainer's hooks set:

* ``weights`` (ADS): ``None`` draws every index once per epoch in a shuffled order (TRL's behaviour, and ADS's
  warm-up); a list draws the epoch's indices with replacement in proportion to it;
* re-entries (RRS): :meth:`reenter` queues indices that fill the next chunks first, ahead of the epoch's draws.

An epoch has a fixed number of chunks (``ceil(n / prompts per chunk)``), so ``len(dataloader)`` stays true; a
re-entered index takes the place of a draw. Chunks are formed lazily, when the data loader asks for them, so a
change applies from the next chunk it has not fetched yet (the loader prefetches one).
"""

from __future__ import annotations

import collections
import math
import random
from collections.abc import Iterable, Iterator, Sequence

from torch.utils.data import Sampler


class CurriculumSampler(Sampler[int]):
    """Yield dataset indices in TRL's GRPO repeat order; ADS weights and RRS re-entries change what is drawn."""

    def __init__(self, n: int, *, group_size: int, prompts_per_chunk: int, repeat_count: int = 1, seed: int = 0):
        if n < 1:
            raise ValueError("the training set is empty: nothing to sample")
        for name, value in (("group_size", group_size), ("prompts_per_chunk", prompts_per_chunk),
                            ("repeat_count", repeat_count)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        self.n, self.group_size, self.prompts_per_chunk, self.repeat_count = n, group_size, prompts_per_chunk, repeat_count
        self.seed, self.epoch = seed, 0
        self.weights: list[float] | None = None
        self.pending: collections.deque[int] = collections.deque()
        self.history: list[dict] = []  # one entry per chunk: epoch, indices, how many were re-entries

    @property
    def chunks_per_epoch(self) -> int:
        return math.ceil(self.n / self.prompts_per_chunk)

    def __len__(self) -> int:
        return self.chunks_per_epoch * self.prompts_per_chunk * self.group_size * self.repeat_count

    def set_epoch(self, epoch: int) -> None:
        """Called by the Trainer before each epoch (a documented hook of transformers' training loop)."""
        self.epoch = int(epoch)

    def set_weights(self, weights: Sequence[float] | None) -> None:
        if weights is not None:
            if len(weights) != self.n:
                raise ValueError(f"need one weight per sample ({self.n}), got {len(weights)}")
            if any(not (w >= 0 and math.isfinite(w)) for w in weights):
                raise ValueError("sampling weights must be finite and >= 0")
        self.weights = None if weights is None else [float(w) for w in weights]

    def reenter(self, indices: Iterable[int]) -> None:
        """Queue indices to be drawn first (each becomes one prompt, i.e. G completions)."""
        for i in indices:
            if not 0 <= int(i) < self.n:
                raise ValueError(f"index {i} is outside the training set (0..{self.n - 1})")
            self.pending.append(int(i))

    def _draws(self, rng: random.Random) -> list[int]:
        k = self.chunks_per_epoch * self.prompts_per_chunk
        if self.weights is None or sum(self.weights) <= 0:
            order = list(range(self.n))
            rng.shuffle(order)
            while len(order) < k:  # the last chunk is filled up from a second shuffle
                extra = list(range(self.n))
                rng.shuffle(extra)
                order += extra
            return order[:k]
        return rng.choices(range(self.n), weights=self.weights, k=k)

    def __iter__(self) -> Iterator[int]:
        rng = random.Random(self.seed * 100_003 + self.epoch)
        draws = iter(self._draws(rng))
        for _ in range(self.chunks_per_epoch):
            chunk, reentered = [], 0
            while self.pending and len(chunk) < self.prompts_per_chunk:
                chunk.append(self.pending.popleft())
                reentered += 1
            while len(chunk) < self.prompts_per_chunk:
                chunk.append(next(draws))
            self.history.append({"epoch": self.epoch, "indices": list(chunk), "reentered": reentered})
            for _ in range(self.repeat_count):
                for index in chunk:
                    for _ in range(self.group_size):
                        yield index
