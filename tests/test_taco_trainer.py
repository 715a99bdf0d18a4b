"""TacoGRPOTrainer: the TRL internals it overrides are pinned, RRS masks and parks flagged groups and re-admits them,
ADS hands its weights to the sampler after the warm-up, and every rollout is kept. Tiny VLMs built in the test."""

from __future__ import annotations

import inspect

import pytest
import taco_helpers as H
import torch

from longthink.taco.data import trl_dataset
from longthink.taco.frames import PixelBounds
from longthink.taco.rewards import RewardSettings, reward_functions
from longthink.taco.train import load_processor
from longthink.taco.trainer import PINNED, TacoGRPOTrainer, TacoHooks

BOUNDS = PixelBounds(784, 448 * 448)


def test_the_overridden_trl_internals_keep_their_signatures():
    from trl import GRPOTrainer

    for name, params in PINNED.items():
        method = getattr(GRPOTrainer, name, None)
        assert method is not None, (f"TRL's GRPOTrainer no longer has {name}; longthink.taco.trainer overrides or calls "
                                    "it: port the hook to the installed TRL")
        got = list(inspect.signature(method).parameters)
        assert got == params, (f"TRL changed GRPOTrainer.{name}{tuple(got)} (expected {tuple(params)}); "
                               "longthink.taco.trainer relies on it: re-check the override against the installed TRL")


@pytest.fixture(scope="module")
def vlm(tmp_path_factory):
    return H.vlm_folder(tmp_path_factory.mktemp("taco") / "vlm")


def _varied(prompts=None, completions=None, **kwargs):
    """A reward with spread within each group, so advantages are not zero and the policy moves."""
    return [float(len(str(c)) % 5) / 4 for c in completions]


def _trainer(vlm, tmp_path, *, hooks, steps=6, beta=0.04, lr=5e-2, n=8):
    from trl import GRPOConfig

    torch.manual_seed(0)
    args = GRPOConfig(output_dir=str(tmp_path / "out"), use_cpu=True, bf16=False, activation_checkpointing=False,
                      report_to="none", save_strategy="no", beta=beta, loss_type="grpo", num_generations=4,
                      per_device_train_batch_size=8, max_completion_length=10, max_steps=steps, learning_rate=lr,
                      logging_steps=1, seed=0, reward_weights=[1.0, 1.0, 0.0])
    rows = H.rows(n_rec=n // 2, n_vqa=n // 2)
    funcs = [_varied, *reward_functions(["format", "consistency"], RewardSettings(bounds=BOUNDS))]
    return TacoGRPOTrainer(model=str(vlm), reward_funcs=funcs, args=args, train_dataset=trl_dataset(rows),
                           processing_class=load_processor(str(vlm), bounds=BOUNDS), hooks=hooks)


def test_rrs_flags_masks_parks_and_readmits(vlm, tmp_path):
    hooks = TacoHooks(rrs=True, rrs_tau_mode="fixed", rrs_tau=1e-7, rrs_period=2, ads_reward="total")
    trainer = _trainer(vlm, tmp_path, hooks=hooks, steps=6)
    trainer.train()
    logs = [h for h in trainer.state.log_history if "rrs/flagged_frac" in h]
    assert logs and logs[0]["rrs/flagged_frac"] == 0.0  # step 1: the policy is the reference, KL is 0
    assert max(h["rrs/flagged_frac"] for h in logs) > 0 and max(h["rrs/kl_max"] for h in logs) > 0
    assert trainer.rollback.parked > 0 and trainer.rollback.released > 0
    assert sum(c["reentered"] for c in trainer.curriculum.history) > 0
    flagged = [r for r in trainer.rollouts if r["flagged"]]
    assert flagged and all(r["kl"] is not None for r in trainer.rollouts)
    assert {"step", "index", "completion", "format", "consistency", "_varied"} <= set(trainer.rollouts[0])
    # a flagged group is flagged as a whole (every completion of its G)
    groups = {(r["step"], r["group"]) for r in flagged}
    for step, group in groups:
        assert sum(1 for r in trainer.rollouts if r["step"] == step and r["group"] == group and r["flagged"]) == 4


def test_masking_zeroes_whole_groups_and_recounts_tokens(vlm, tmp_path):
    trainer = _trainer(vlm, tmp_path, hooks=TacoHooks(rrs=True, ads_reward="total"), steps=1)
    output = {"completion_mask": torch.ones(8, 5, dtype=torch.long)}
    trainer._mask_groups(output, [1], n_local=8)
    assert output["completion_mask"][:4].sum() == 20 and output["completion_mask"][4:].sum() == 0
    assert int(output["num_items_in_batch"]) == 20


def test_without_rrs_nothing_is_masked_but_kl_is_logged(vlm, tmp_path):
    hooks = TacoHooks(rrs=False, rrs_tau_mode="fixed", rrs_tau=1e-7, ads_reward="total")
    trainer = _trainer(vlm, tmp_path, hooks=hooks, steps=4)
    trainer.train()
    assert trainer.rollback.parked == 0 and any(r["flagged"] for r in trainer.rollouts)


def test_ads_weights_reach_the_sampler_after_the_warmup(vlm, tmp_path):
    hooks = TacoHooks(ads=True, ads_reward="total", ads_warmup_epochs=1, ads_p_lo=0.3, ads_p_hi=0.7, ads_w_min=0.0)
    trainer = _trainer(vlm, tmp_path, hooks=hooks, steps=8, lr=1e-3)  # 8 prompts, 2 per step: 4 steps per epoch
    trainer.train()
    callback = next(cb for cb in trainer.callback_handler.callbacks if hasattr(cb, "weights_by_epoch"))
    assert callback.weights_by_epoch[0] is None and callback.weights_by_epoch[1] is not None
    weights = callback.weights_by_epoch[1]
    assert len(weights) == 8 and set(weights) <= {0.0, 1.0} and 0.0 in weights
    assert trainer.difficulty.summary()["seen"] == 8  # the uniform warm-up epoch saw every prompt
    second = [i for c in trainer.curriculum.history if c["epoch"] == 1 for i in c["indices"]]
    assert all(weights[i] == 1.0 for i in second)  # w_min 0: only favoured prompts are drawn


def test_no_reference_model_means_no_kl_statistics(vlm, tmp_path):
    trainer = _trainer(vlm, tmp_path, hooks=TacoHooks(rrs=True, ads_reward="total"), steps=2, beta=0.0)
    trainer.train()
    assert not any("rrs/kl_mean" in h for h in trainer.state.log_history)
    assert all(r["kl"] is None for r in trainer.rollouts)


def test_the_index_column_is_required(vlm, tmp_path):
    from trl import GRPOConfig

    rows = [{k: v for k, v in r.items() if k != "index"} for r in H.rows(n_rec=2, n_vqa=2)]
    args = GRPOConfig(output_dir=str(tmp_path), use_cpu=True, bf16=False, report_to="none", num_generations=2,
                      per_device_train_batch_size=4, max_completion_length=4, max_steps=1)
    with pytest.raises(ValueError, match="'index' column"):
        TacoGRPOTrainer(model=str(vlm), reward_funcs=[_varied], args=args, train_dataset=trl_dataset(rows),
                        processing_class=load_processor(str(vlm), bounds=BOUNDS))
