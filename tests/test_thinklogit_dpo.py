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


def test_first_step_cut_keeps_only_the_first_differing_line():
    from longthink.thinklogit.dpo import cut_first_step

    good, bad = "h+4:4=8\ni+3:8=1\nj+5:1=6\nAnswer: 6<E>", "h+4:4=8\ni+3:8=1\nj+2:1=3\nAnswer: 3<E>"
    assert cut_first_step("P", good, bad) == ("Ph+4:4=8\ni+3:8=1\n", "j+5:1=6\n", "j+2:1=3\n")
    assert cut_first_step("P", "a+1:1=2\nAnswer: 2<E>", "a+1:1=2\n...\nAnswer: 3<E>") == \
        ("Pa+1:1=2\n", "Answer: 2<E>", "...\n")
    assert cut_first_step("P", "a+1:1=2\n", "b+1:1=2\n") == ("P", "a+1:1=2\n", "b+1:1=2\n")
    pairs, _ = build_pairs(_samples(), combos=COMBOS, max_pairs=100, balance=True, seed=0, eos_token="<E>",
                           cut="first_step")
    assert len(pairs) == 4 and all(p["chosen"] != p["rejected"] for p in pairs)
    with pytest.raises(ValueError, match="unknown pair cut"):
        build_pairs(_samples(), combos=COMBOS, max_pairs=5, balance=True, seed=0, cut="half")


def test_pairs_are_tokenized_as_decoded_without_an_added_eos(tiny_model_dir):
    from longthink.models import load_tokenizer
    from longthink.thinklogit.dpo import tokenize_pairs

    tok = load_tokenizer(tiny_model_dir)
    pair = {"prompt": "Question: a = 3 + 4.\n", "chosen": "a+4:3=7\n", "rejected": "a+4:3=8\n"}
    row = tokenize_pairs([pair], tok)[0]
    assert row["prompt_ids"] == tok(pair["prompt"], add_special_tokens=False)["input_ids"]
    assert tok.decode(row["chosen_ids"]) == pair["chosen"] and tok.decode(row["rejected_ids"]) == pair["rejected"]
    assert tok.eos_token_id not in row["chosen_ids"] + row["rejected_ids"]


def test_pairs_per_question_cap_keeps_distinct_pairs():
    samples = {"guider": [_s("q1", "guider", True, 0), _s("q1", "guider", True, 0), _s("q1", "guider", False, 1),
                          _s("q1", "guider", False, 2), _s("q1", "guider", False, 3)]}
    pairs, counts = build_pairs(samples, combos=["guider>guider"], max_pairs=100, balance=True, seed=0)
    assert counts["available"] == {"guider>guider": 6}  # 2 correct (the same text) x 3 wrong
    pairs, counts = build_pairs(samples, combos=["guider>guider"], max_pairs=100, balance=True, seed=0,
                                per_question=5)
    assert counts["available"] == {"guider>guider": 3}  # distinct only
    assert len({(p["chosen"], p["rejected"]) for p in pairs}) == 3
    pairs, _ = build_pairs(samples, combos=["guider>guider"], max_pairs=100, balance=True, seed=0, per_question=2)
    assert len(pairs) == 2


def test_the_private_trl_method_we_override_keeps_its_signature():
    """``PretokenizedDPOTrainer`` overrides TRL's private ``DPOTrainer._prepare_dataset`` (to skip TRL's
    tokenization, which would append an EOS to every completion). A TRL upgrade that changes it must fail here, with
    the signature to adapt to, instead of silently training on differently prepared data."""
    import inspect

    from trl import DPOTrainer

    from longthink.thinklogit.dpo import _trainer_class

    expected = ["self", "dataset", "processing_class", "args", "dataset_name"]
    got = list(inspect.signature(DPOTrainer._prepare_dataset).parameters)
    assert got == expected, (f"TRL's DPOTrainer._prepare_dataset is now {got} (was {expected}): update "
                             "longthink.thinklogit.dpo._trainer_class to the new signature")
    ours = list(inspect.signature(_trainer_class()._prepare_dataset).parameters)
    assert ours == expected
