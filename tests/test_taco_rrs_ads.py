"""RRS (KL, adaptive threshold, flags, buffer), ADS (ECDF, band weights, tracker) and the sampler they feed."""

from __future__ import annotations

import math

import pytest
import torch

from longthink.taco.ads import DifficultyTracker, band_weights, ecdf_midrank
from longthink.taco.rrs import KLThreshold, RollbackBuffer, completion_kl, flag_groups
from longthink.taco.sampler import CurriculumSampler


# ---------------------------------------------------------------------------------------------------- RRS
def test_completion_kl_is_the_masked_k3_mean():
    pol = torch.log(torch.tensor([[0.5, 0.5, 0.9], [0.2, 0.2, 0.2]]))
    ref = torch.log(torch.tensor([[0.5, 0.25, 0.1], [0.2, 0.2, 0.2]]))
    mask = torch.tensor([[1, 1, 0], [1, 1, 1]])
    kl = completion_kl(pol, ref, mask)
    d = math.log(0.25 / 0.5)
    assert kl[0].item() == pytest.approx((0 + (math.exp(d) - d - 1)) / 2)
    assert kl[1].item() == pytest.approx(0.0)
    assert completion_kl(pol, ref, torch.zeros_like(mask)).tolist() == [0.0, 0.0]
    huge = completion_kl(torch.tensor([[-1e4]]), torch.tensor([[0.0]]), torch.tensor([[1]]))
    assert math.isfinite(huge.item())  # Δ is clamped: k3 cannot overflow


def test_adaptive_threshold_follows_the_window():
    t = KLThreshold(mode="adaptive", k=3.0, tau_min=0.05, window=2)
    assert t.value() == 0.05  # no history yet
    t.update([0.01, 0.02, 0.01, 0.02])
    assert t.value() == 0.05  # mean + 3 sd is below tau_min
    t.update([1.0, 1.2, 0.8, 1.0])
    assert t.value() > 0.05
    t.update([0.0] * 4)
    t.update([0.0] * 4)  # the window forgot the spike
    assert t.value() == 0.05
    assert KLThreshold(mode="fixed", tau=0.3).value() == 0.3
    with pytest.raises(ValueError, match="rrs_tau"):
        KLThreshold(mode="fixed")
    with pytest.raises(ValueError, match="rrs_tau_mode"):
        KLThreshold(mode="median")


def test_groups_are_flagged_whole():
    assert flag_groups([0.0, 0.1, 0.0, 0.0, 0.0, 0.0], group_size=2, tau=0.05) == [True, False, False]
    assert flag_groups([0.0, float("nan")], group_size=2, tau=1.0) == [True]
    with pytest.raises(ValueError, match="groups of 4"):
        flag_groups([0.0] * 6, group_size=4, tau=1.0)


def test_buffer_is_a_capped_fifo():
    b = RollbackBuffer(3)
    b.push([1, 2, 3, 4])
    assert len(b) == 3 and b.release() == [2, 3, 4] and len(b) == 0
    assert b.parked == 4 and b.released == 3
    with pytest.raises(ValueError):
        RollbackBuffer(0)


# ---------------------------------------------------------------------------------------------------- ADS
def test_ecdf_midrank_and_band():
    assert ecdf_midrank([0.0, 1.0, 0.5]) == [pytest.approx(1 / 6), pytest.approx(5 / 6), pytest.approx(0.5)]
    assert ecdf_midrank([1.0, 1.0]) == [0.5, 0.5]
    assert ecdf_midrank([]) == []
    assert band_weights([0.1, 0.5, 0.9], p_lo=0.2, p_hi=0.8, w_min=0.1) == [0.1, 1.0, 0.1]


def test_tracker_weights_moderate_samples_and_unseen_ones_at_one():
    t = DifficultyTracker(6, p_lo=0.2, p_hi=0.8, w_min=0.1)
    for i, r in enumerate([0.0, 0.25, 0.5, 0.75, 1.0]):
        t.record(i, r)
    t.record(0, float("nan"))  # an unscored group changes nothing
    w = t.weights()
    assert w[5] == 1.0  # unseen
    assert w[0] == 0.1 and w[4] == 0.1 and w[1] == w[2] == w[3] == 1.0
    with pytest.raises(ValueError):
        DifficultyTracker(3, p_lo=0.9, p_hi=0.1)


# ------------------------------------------------------------------------------------------------ sampler
def _chunks(sampler, G):
    out = list(sampler)
    assert len(out) == len(sampler)
    assert all(len(set(out[i: i + G])) == 1 for i in range(0, len(out), G)), "each index G times in a row"
    return [out[i] for i in range(0, len(out), G)]


def test_sampler_keeps_trls_repeat_order():
    from trl.trainer.utils import RepeatSampler

    s = CurriculumSampler(6, group_size=4, prompts_per_chunk=2, repeat_count=2, seed=0)
    ours = list(s)
    theirs = list(RepeatSampler(list(range(6)), mini_repeat_count=4, batch_size=2, repeat_count=2, shuffle=True,
                                seed=0))
    assert len(ours) == len(theirs) == len(s)
    # the same structure: chunks of 2 prompts x 4 copies, each chunk twice
    for seq in (ours, theirs):
        blocks = [seq[i: i + 8] for i in range(0, len(seq), 8)]
        assert all(blocks[i] == blocks[i + 1] for i in range(0, len(blocks), 2))
    prompts = _chunks(s, 4)
    assert sorted(set(prompts)) == list(range(6))  # a uniform epoch draws every index


def test_weights_shift_the_draws_and_reentries_come_first():
    s = CurriculumSampler(10, group_size=2, prompts_per_chunk=5, seed=0)
    s.set_weights([1.0] + [0.0] * 9)
    assert set(_chunks(s, 2)) == {0}
    s.set_weights(None)
    s.reenter([7, 7, 3])
    first = _chunks(s, 2)[:5]
    assert first[:3] == [7, 7, 3] and s.history[-2]["reentered"] == 3
    with pytest.raises(ValueError, match="outside the training set"):
        s.reenter([10])
    with pytest.raises(ValueError, match="one weight per sample"):
        s.set_weights([1.0])


def test_epochs_reshuffle():
    s = CurriculumSampler(8, group_size=1, prompts_per_chunk=4, seed=3)
    a = _chunks(s, 1)
    s.set_epoch(1)
    assert _chunks(s, 1) != a
