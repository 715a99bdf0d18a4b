"""TACO (Kan et al. 2025): GRPO for a vision-language model with a think-answer consistency reward, rollback
resampling, adaptive difficulty sampling and test-time resolution scaling. Card: ../shared/papers/taco.md.

TACO has no public code; this room is its first runnable version. Each part stands on its own, in the order a
reader meets it in notebooks/04_taco.ipynb:

* ``answers``: reading a reply (``<think>``, ``<answer>``, boxes, hedges); ``frames``: Qwen2-VL's ``smart_resize``,
  visual tokens, mapping boxes back to the original image;
* ``rewards``: format, REC accuracy, VQA accuracy and think-answer consistency (``consistency``; the paper
  profile's LLM judge in ``judge``), a registry with TRL's reward-function signature;
* ``rrs``: rollback resampling (per-completion KL, adaptive threshold, the buffer); ``ads``: adaptive difficulty
  sampling (ECDF of each sample's mean reward, the percentile band); ``sampler``: the weighted repeat sampler both
  feed; ``trainer``: TRL's ``GRPOTrainer`` with those hooks and callbacks;
* ``ttrs``: test-time resolution scaling and the multi-scale ensemble; ``inference``: greedy replies at any pixel
  bounds; ``evaluate``: Acc@0.5, VQA accuracy, consistency rate, in and out of distribution;
* ``data``: rows for TRL from the world's scenes (or the paper's data); ``paper``: the paper-scale model;
  ``pipeline``: the notebook's stages; ``plots`` and ``showcase``: what the notebook shows.
"""
