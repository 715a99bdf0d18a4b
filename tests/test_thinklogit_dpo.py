"""ThinkLogit-DPO: preference pairs across sources, and DPO + LoRA on a tiny saved guider (merged after)."""

from __future__ import annotations

import pytest

from longthink.thinklogit.dpo import build_pairs, parse_combo, train_dpo
from longthink.thinklogit.systems import Sample

COMBOS = ["guider>guider", "guider>thinklogit", "thinklogit>guider"]


def _s(qid, source, correct, i):
    return Sample(qid, "pool", 3, "1", f"{source}-{qid}-{i}-{'ok' if correct else 'bad'}", 5, "eos",
                  "1" if correct else "2", correct, system=source, prompt=f"P{qid}")


def _samples():
    return {
        "guider": [_s("q1", "guider", True, 0), _s("q1", "guider", False, 1), _s("q2", "guider", False, 0)],
        "thinklogit": [_s("q1", "thinklogit", False, 0), _s("q2", "thinklogit", True, 0),
                       _s("q2", "thinklogit", True, 1)],
    }


def test_pairs_follow_the_combinations():
    pairs, counts = build_pairs(_samples(), combos=COMBOS, max_pairs=100, balance=True, seed=0, eos_token="<E>")
    assert counts["available"] == {"guider>guider": 1, "guider>thinklogit": 1, "thinklogit>guider": 2}
    assert len(pairs) == 4
    for p in pairs:
        good, bad = parse_combo(p["combo"])
        assert p["chosen"].startswith(good) and p["chosen"].endswith("ok<E>")
        assert p["rejected"].startswith(bad) and "bad" in p["rejected"]
        assert p["prompt"] == f"P{p['question_id']}"


def test_pairs_balanced_subsample():
    pairs, counts = build_pairs(_samples(), combos=COMBOS, max_pairs=3, balance=True, seed=0)
    assert counts["kept"] == {"guider>guider": 1, "guider>thinklogit": 1, "thinklogit>guider": 1}
    pairs, counts = build_pairs(_samples(), combos=COMBOS, max_pairs=2, balance=False, seed=0)
    assert len(pairs) == 2


def test_pair_errors():
    with pytest.raises(ValueError, match="chosen_source>rejected_source"):
        parse_combo("guider")
    with pytest.raises(ValueError, match="has no rollouts"):
        build_pairs(_samples(), combos=["target>guider"], max_pairs=5, balance=True, seed=0)


def test_dpo_with_lora_trains_and_merges(tmp_path, tiny_model_dir):
    from longthink.config import load_recipe
    from longthink.models import load_causal_lm

    recipe = load_recipe("recipes/thinklogit.yaml", profile="smoke",
                         overrides={"stages.dpo.max_steps": 2, "stages.dpo.per_device_train_batch_size": 2,
                                    "stages.dpo.lora_r": 4, "stages.dpo.lora_alpha": 8})
    pairs = [{"prompt": "Question: a = 3 + 4.", "chosen": " Answer: \\boxed{7}", "rejected": " Answer: \\boxed{8}"}] * 4
    with pytest.raises(ValueError, match="no preference pairs"):
        train_dpo(guider_path=tiny_model_dir, pairs=[], stage=recipe.stage("dpo"), out_dir=tmp_path, seed=0)
    result = train_dpo(guider_path=tiny_model_dir, pairs=pairs, stage=recipe.stage("dpo"), out_dir=tmp_path, seed=0)
    assert result["steps"] == 2 and result["trainable_parameters"] > 0
    model, _ = load_causal_lm(str(tmp_path / "model"))
    assert not any("lora" in name for name, _ in model.named_parameters())  # merged
