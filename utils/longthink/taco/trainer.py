"""TRL's ``GRPOTrainer`` with TACO's two training-time parts: rollback resampling (RRS) and adaptive difficulty (ADS).

Where each part hooks in (the card's "TRL hooks"), public points first:

* the sampler: ``_get_train_sampler`` returns a :class:`~longthink.taco.sampler.CurriculumSampler` (TRL's repeat
  order, plus weights and re-entries);
* callbacks (public): :class:`RollbackCallback` releases the RRS buffer into the sampler every ``rrs_period``
  optimizer steps (``on_step_end``); :class:`AdaptiveDifficultyCallback` hands the ADS weights to the sampler at each
  epoch start (``on_epoch_begin``, which transformers calls before it iterates the epoch's data);
* after scoring, before the loss: ``_generate_and_score_completions`` is wrapped (private in TRL 1.16; its signature
  is pinned by tests/test_taco_trainer.py): per-completion KL to the reference, the flagged groups' rows of
  ``completion_mask`` zeroed, their indices parked; each group's mean reward recorded for ADS. Rewards come from a
  thin wrapper of ``_calculate_rewards`` (private, pinned too), which TRL gathers over processes.

Every completion of every step is also kept (``rollouts``: text, rewards, KL, flagged) so the notebook can show the
card's failure modes where they happened. Metrics go into TRL's own log (``trainer.state.log_history``, one entry per
``logging_steps``): ``rrs/kl_mean``, ``rrs/kl_max``, ``rrs/tau``, ``rrs/flagged_frac``, ``rrs/buffer_size``,
``ads/favoured_frac`` beside TRL's ``reward``, ``kl``, ``frac_reward_zero_std`` and ``rewards/<name>/mean``.
"""

from __future__ import annotations

import dataclasses
import math

import torch
from transformers import TrainerCallback
from trl import GRPOTrainer

from longthink.taco.ads import DifficultyTracker
from longthink.taco.rrs import KLThreshold, RollbackBuffer, completion_kl, flag_groups
from longthink.taco.sampler import CurriculumSampler

ACCURACY_REWARDS = ("rec_accuracy", "vqa_accuracy")
ADS_REWARDS = ("accuracy", "total")
# TRL internals this module relies on (checked against the installed TRL by tests/test_taco_trainer.py)
PINNED = {
    "_generate_and_score_completions": ["self", "inputs"],
    "_calculate_rewards": ["self", "inputs", "prompts", "completions", "completion_ids_list"],
    "_get_train_sampler": ["self", "dataset"],
    "_get_per_token_logps_and_entropies": ["self", "model", "input_ids", "attention_mask", "logits_to_keep",
                                           "batch_size", "compute_entropy", "compute_aux_loss", "pixel_values",
                                           "image_grid_thw", "num_images", "pixel_attention_mask", "spatial_shapes",
                                           "num_tiles", "image_sizes", "token_type_ids", "mm_token_type_ids",
                                           "image_position_ids"],
}
FORWARD_KEYS = ("pixel_values", "image_grid_thw", "num_images", "pixel_attention_mask", "spatial_shapes", "num_tiles",
                "image_sizes", "token_type_ids", "mm_token_type_ids", "image_position_ids")


@dataclasses.dataclass
class TacoHooks:
    """The switches and knobs of RRS and ADS (recipe keys of the ``grpo`` stage, card §5)."""

    rrs: bool = False
    rrs_tau_mode: str = "adaptive"
    rrs_k: float = 3.0
    rrs_tau_min: float = 0.05
    rrs_tau: float | None = None
    rrs_window: int = 50
    rrs_period: int = 100
    rrs_buffer_size: int = 1024
    ads: bool = False
    ads_reward: str = "accuracy"
    ads_p_lo: float = 0.2
    ads_p_hi: float = 0.8
    ads_w_min: float = 0.1
    ads_warmup_epochs: int = 1
    keep_rollouts: bool = True

    def __post_init__(self) -> None:
        if self.ads_reward not in ADS_REWARDS:
            raise ValueError(f"unknown ads_reward {self.ads_reward!r}; known: {list(ADS_REWARDS)}")
        if self.rrs_period < 1:
            raise ValueError(f"rrs_period must be >= 1 optimizer step, got {self.rrs_period!r}")


class TacoGRPOTrainer(GRPOTrainer):
    """``GRPOTrainer`` plus RRS and ADS; every other behaviour is TRL's. The dataset needs an ``index`` column."""

    def __init__(self, *args, hooks: TacoHooks | None = None, **kwargs):
        self.hooks = hooks or TacoHooks()
        super().__init__(*args, **kwargs)
        if "index" not in self.train_dataset.column_names:
            raise ValueError("TacoGRPOTrainer needs an 'index' column (0..n-1) in the training set: RRS and ADS "
                             "track prompts by it (longthink.taco.data.trl_rows adds it)")
        h = self.hooks
        self.kl_threshold = KLThreshold(mode=h.rrs_tau_mode, k=h.rrs_k, tau_min=h.rrs_tau_min, window=h.rrs_window,
                                        tau=h.rrs_tau)
        self.rollback = RollbackBuffer(h.rrs_buffer_size)
        self.difficulty = DifficultyTracker(len(self.train_dataset), p_lo=h.ads_p_lo, p_hi=h.ads_p_hi,
                                            w_min=h.ads_w_min)
        self.curriculum: CurriculumSampler | None = None
        self.rollouts: list[dict] = []
        self._last_rewards: torch.Tensor | None = None
        self.add_callback(RollbackCallback(self))
        self.add_callback(AdaptiveDifficultyCallback(self))

    # -- the sampler -------------------------------------------------------------------------------------------
    def _get_train_sampler(self, dataset=None):
        dataset = self.train_dataset if dataset is None else dataset
        self.curriculum = CurriculumSampler(
            len(dataset), group_size=self.num_generations,
            prompts_per_chunk=self.args.generation_batch_size // self.num_generations,
            repeat_count=self.num_iterations * self.args.steps_per_generation, seed=self.args.seed)
        return self.curriculum

    # -- after scoring -----------------------------------------------------------------------------------------
    def _calculate_rewards(self, inputs, prompts, completions, completion_ids_list):
        rewards = super()._calculate_rewards(inputs, prompts, completions, completion_ids_list)
        self._last_rewards = rewards.detach()
        return rewards

    def _generate_and_score_completions(self, inputs):
        output = super()._generate_and_score_completions(inputs)
        if self.model.training:
            self._after_scoring(inputs, output)
        return output

    def _after_scoring(self, inputs, output: dict) -> None:
        from accelerate.utils import gather_object

        G = self.num_generations
        indices = gather_object([int(row["index"]) for row in inputs])
        rewards = self._last_rewards
        self._record_difficulty(indices, rewards)
        kl = self._completion_kl(output)
        metrics = self._metrics["train"]
        flagged_groups: list[int] = []
        if kl is not None:
            kl_all = self.accelerator.gather(kl).float().cpu()
            tau = self.kl_threshold.value()
            flags = flag_groups(kl_all.tolist(), group_size=G, tau=tau)
            self.kl_threshold.update(kl_all.tolist())
            flagged_groups = [g for g, f in enumerate(flags) if f]
            metrics["rrs/kl_mean"].append(float(kl_all.mean()))
            metrics["rrs/kl_max"].append(float(kl_all.max()))
            metrics["rrs/tau"].append(float(tau))
            metrics["rrs/flagged_frac"].append(len(flagged_groups) / max(1, len(flags)))
            if self.hooks.rrs and flagged_groups:
                self._mask_groups(output, flagged_groups, n_local=len(inputs))
                self.rollback.push(indices[g * G] for g in flagged_groups)
        metrics["rrs/buffer_size"].append(float(len(self.rollback)))
        if self.hooks.keep_rollouts:
            self._keep_rollouts(output, indices, rewards, None if kl is None else kl_all, set(flagged_groups))

    def _completion_kl(self, output: dict):
        """Per-completion k3 KL (local rows) against the reference; ``None`` without a reference (beta = 0)."""
        ref = output.get("ref_per_token_logps")
        if ref is None:
            return None
        policy = output.get("old_per_token_logps")
        if policy is None:  # one no-grad policy forward (π_old = π_θ with one iteration)
            input_ids = torch.cat([output["prompt_ids"], output["completion_ids"]], dim=1)
            attention = torch.cat([output["prompt_mask"], output["completion_mask"]], dim=1)
            extra = {k: output[k] for k in FORWARD_KEYS if k in output}
            with torch.no_grad():
                policy, _, _ = self._get_per_token_logps_and_entropies(
                    self.model, input_ids, attention, output["completion_ids"].size(1),
                    batch_size=self.args.per_device_train_batch_size, **extra)
        return completion_kl(policy, ref, output["completion_mask"])

    def _mask_groups(self, output: dict, groups: list[int], *, n_local: int) -> None:
        """Zero the completion mask of every flagged group's rows on this process; recount the loss tokens."""
        G, start = self.num_generations, self.accelerator.process_index * n_local
        mask = output["completion_mask"]
        for g in groups:
            for row in range(g * G, (g + 1) * G):
                if start <= row < start + n_local:
                    mask[row - start] = 0
        output["completion_mask"] = mask
        output["num_items_in_batch"] = self.accelerator.gather(mask.sum()).sum()

    def _record_difficulty(self, indices: list[int], rewards) -> None:
        if rewards is None:
            return
        names = list(self.reward_func_names)
        if self.hooks.ads_reward == "accuracy":
            cols = [names.index(n) for n in ACCURACY_REWARDS if n in names]
            per = torch.nansum(rewards[:, cols], dim=1) if cols else torch.full((rewards.size(0),), float("nan"))
            if cols:
                per[torch.isnan(rewards[:, cols]).all(dim=1)] = float("nan")
        else:
            per = torch.nansum(rewards * self.reward_weights.to(rewards.device).unsqueeze(0), dim=1)
        per = per.float().cpu()
        G = self.num_generations
        for g in range(len(indices) // G):
            group = per[g * G: (g + 1) * G]
            valid = group[~torch.isnan(group)]
            if valid.numel():
                self.difficulty.record(indices[g * G], float(valid.mean()))

    def _keep_rollouts(self, output: dict, indices: list[int], rewards, kl, flagged: set[int]) -> None:
        from accelerate.utils import gather_object

        texts = gather_object(self.processing_class.batch_decode(output["completion_ids"], skip_special_tokens=True))
        if not self.accelerator.is_main_process:
            return
        names = list(self.reward_func_names)
        step, G = int(self.state.global_step), self.num_generations
        for i, text in enumerate(texts):
            entry = {"step": step, "index": indices[i], "group": i // G, "completion": text,
                     "flagged": (i // G) in flagged, "kl": None if kl is None else float(kl[i])}
            if rewards is not None:
                entry.update({n: (None if math.isnan(v) else float(v)) for n, v in zip(names, rewards[i].tolist())})
            self.rollouts.append(entry)


class RollbackCallback(TrainerCallback):
    """RRS step 4: every ``rrs_period`` optimizer steps the parked indices re-enter the sampler."""

    def __init__(self, trainer: TacoGRPOTrainer):
        self.trainer = trainer
        self.releases: list[tuple[int, int]] = []  # (global step, how many indices re-entered)

    def on_step_end(self, args, state, control, **kwargs):
        t = self.trainer
        if t.hooks.rrs and state.global_step % t.hooks.rrs_period == 0 and len(t.rollback) and t.curriculum:
            released = t.rollback.release()
            t.curriculum.reenter(released)
            self.releases.append((int(state.global_step), len(released)))
        return control


class AdaptiveDifficultyCallback(TrainerCallback):
    """ADS: at each epoch start past the warm-up, sampling weights from the ECDF of each sample's mean reward."""

    def __init__(self, trainer: TacoGRPOTrainer):
        self.trainer = trainer
        self.epochs_started = 0
        self.weights_by_epoch: list[list[float] | None] = []

    def on_epoch_begin(self, args, state, control, **kwargs):
        t = self.trainer
        self.epochs_started += 1
        weights = None
        if t.hooks.ads and self.epochs_started > t.hooks.ads_warmup_epochs:
            weights = t.difficulty.weights()
        if t.curriculum is not None:
            t.curriculum.set_weights(weights)
        self.weights_by_epoch.append(weights)
        if weights is not None:
            t._metrics["train"]["ads/favoured_frac"].append(sum(w == 1.0 for w in weights) / len(weights))
        return control
