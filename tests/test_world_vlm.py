"""The tiny Qwen2-VL: built from config, processor built locally, saved/loaded, trained by TRL SFT, DPO and GRPO."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from longthink.vision_world.replies import reply
from longthink.vision_world.scenes import example_image, generate_examples
from longthink.vision_world.vlm import (
    VLMArch,
    build_processor,
    build_vision_tokenizer,
    build_vlm,
    load_vlm,
    pixel_bounds,
    read_meta,
    save_vlm,
    set_pixel_bounds,
    user_message,
)

ARCH = VLMArch(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=1,
               intermediate_size=64, vision_depth=1, vision_embed_dim=32, vision_num_heads=2)
CPU = dict(use_cpu=True, bf16=False, activation_checkpointing=False, report_to="none", save_strategy="no",
           max_steps=2, per_device_train_batch_size=2, logging_steps=1, dataloader_num_workers=0)


@pytest.fixture(scope="module")
def vlm_dir(tmp_path_factory):
    tok = build_vision_tokenizer(vocab_size=320, corpus_size=60)
    processor = build_processor(tok)
    model = build_vlm(tok, ARCH, seed=0)
    return save_vlm(model, processor, tmp_path_factory.mktemp("vlm") / "tiny", meta={"train_resolution": 112})


@pytest.fixture(scope="module")
def examples():
    return generate_examples(4, seed=0, kinds=["colour_at", "ground"])


def test_token_count_follows_resolution(vlm_dir):
    _, processor = load_vlm(vlm_dir)
    ex = generate_examples(1, seed=0)[0]
    text = processor.tokenizer.apply_chat_template(user_message(ex["question"]), tokenize=False,
                                                   add_generation_prompt=True)
    counts = {}
    for res in (84, 112, 168):
        batch = processor(text=[text], images=[example_image(ex, res)], return_tensors="pt")
        counts[res] = int((batch["input_ids"] == processor.image_token_id).sum())
    assert counts == {84: 9, 112: 16, 168: 36}
    set_pixel_bounds(processor, min_pixels=28 * 28, max_pixels=112 * 112)  # TTRS: back to the training pixels
    assert pixel_bounds(processor) == (784, 12544)
    batch = processor(text=[text], images=[example_image(ex, 168)], return_tensors="pt")
    assert int((batch["input_ids"] == processor.image_token_id).sum()) == 16


def test_save_load_round_trip_gives_the_same_logits(vlm_dir, tmp_path):
    model, processor = load_vlm(vlm_dir)
    assert read_meta(vlm_dir) == {"train_resolution": 112}
    ex = generate_examples(1, seed=1)[0]
    text = processor.tokenizer.apply_chat_template(user_message(ex["question"]), tokenize=False,
                                                   add_generation_prompt=True)
    batch = processor(text=[text], images=[example_image(ex)], return_tensors="pt")
    with torch.no_grad():
        before = model(**batch).logits
    again = save_vlm(model, processor, tmp_path / "again")
    model2, _ = load_vlm(again)
    with torch.no_grad():
        assert torch.allclose(before, model2(**batch).logits)
    out = model2.generate(**batch, max_new_tokens=3, do_sample=False)
    assert out.shape[1] == batch["input_ids"].shape[1] + 3 or processor.tokenizer.eos_token_id in out[0].tolist()


def test_models_load_vlm_finds_the_image_only_processor(vlm_dir):
    from longthink.models import load_vlm as kit_load_vlm
    from longthink.vision_world.vlm import Qwen2VLImageOnlyProcessor

    model, processor = kit_load_vlm(str(vlm_dir))
    assert isinstance(processor, Qwen2VLImageOnlyProcessor)
    assert model.config.model_type == "qwen2_vl"


def _rows(examples, extra):
    """TRL rows with a structured prompt (an image placeholder that TRL fills with the row's image, then the question)."""
    return [{"images": [example_image(ex)], "prompt": user_message(ex["question"]), **extra(ex)} for ex in examples]


def test_user_message_puts_the_image_first_or_none(vlm_dir):
    _, processor = load_vlm(vlm_dir)
    text = processor.tokenizer.apply_chat_template(user_message("What colour is the circle?"),
                                                   tokenize=False, add_generation_prompt=True)
    q, image = text.index("What colour is the circle?"), text.index("<|vision_start|><|image_pad|><|vision_end|>")
    assert image < q and text.endswith("<|im_start|>assistant\n")
    plain = processor.tokenizer.apply_chat_template(user_message("The scene: a1 . Where?", image=False),
                                                    tokenize=False, add_generation_prompt=True)
    assert "<|vision_start|>" not in plain and "The scene: a1 . Where?" in plain


def test_sft_trainer_runs(vlm_dir, examples, tmp_path):
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    model, processor = load_vlm(vlm_dir)
    rows = _rows(examples, extra=lambda ex: {"completion": [{"role": "assistant", "content": reply(ex)}]})
    trainer = SFTTrainer(model=model, args=SFTConfig(output_dir=str(tmp_path), max_length=None, **CPU),
                         train_dataset=Dataset.from_list(rows), processing_class=processor)
    trainer.train()
    assert trainer.state.global_step == 2
    assert all(torch.isfinite(torch.tensor(h["loss"])) for h in trainer.state.log_history if "loss" in h)


def test_dpo_trainer_runs(vlm_dir, examples, tmp_path):
    from datasets import Dataset
    from trl import DPOConfig, DPOTrainer

    rows = _rows(examples, extra=lambda ex: {
        "chosen": [{"role": "assistant", "content": reply(ex)}],
        "rejected": [{"role": "assistant", "content": reply(ex, style="short")[:-20] + " blue </answer>"}],
    })
    _, processor = load_vlm(vlm_dir)
    trainer = DPOTrainer(model=str(vlm_dir), args=DPOConfig(output_dir=str(tmp_path), max_length=None, **CPU),
                         train_dataset=Dataset.from_list(rows), processing_class=processor)
    trainer.train()
    assert trainer.state.global_step == 2


def test_grpo_trainer_runs_with_a_reference_model(vlm_dir, examples, tmp_path):
    from datasets import Dataset
    from trl import GRPOConfig, GRPOTrainer

    from longthink.vision_world.replies import answer_of
    from longthink.vision_world.scenes import iou, parse_box

    def box_reward(completions, box=None, **kwargs):
        out = []
        for completion, gold in zip(completions, box):
            pred = parse_box(answer_of(completion[0]["content"]) or "")
            out.append(0.0 if pred is None or gold is None else iou(pred, gold))
        return out

    _, processor = load_vlm(vlm_dir)
    processor.tokenizer.padding_side = "left"
    rows = _rows(examples, extra=lambda ex: {"box": ex.get("box")})
    args = GRPOConfig(output_dir=str(tmp_path), num_generations=2, max_completion_length=6, beta=0.04,
                      **{**CPU, "per_device_train_batch_size": 2})
    trainer = GRPOTrainer(model=str(vlm_dir), reward_funcs=[box_reward], args=args,
                          train_dataset=Dataset.from_list(rows), processing_class=processor)
    trainer.train()
    assert trainer.state.global_step == 2


@pytest.mark.parametrize(
    "change, needle",
    [({"hidden_size": 40}, "hidden_size=40"), ({"vision_depth": 0}, "vision_depth"),
     ({"num_key_value_heads": 3}, "num_key_value_heads=3")],
)
def test_bad_arch_names_the_value(change, needle):
    with pytest.raises(ValueError, match=needle):
        dataclasses.replace(ARCH, **change).check()


def test_bad_processor_bounds_and_missing_folder(tmp_path):
    tok = build_vision_tokenizer(vocab_size=320, corpus_size=10)
    with pytest.raises(ValueError, match="max_pixels=10"):
        build_processor(tok, min_pixels=100, max_pixels=10)
    with pytest.raises(FileNotFoundError, match="config.json"):
        load_vlm(tmp_path)


# ------------------------------------------------------------------------------------------ base VLM pretraining
TINY_STAGE = dict(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=1,
                  intermediate_size=64, vision_depth=1, vision_embed_dim=32, vision_num_heads=2, vocab_size=320,
                  tokenizer_corpus_size=40, max_steps=3, batch_size=4, length_groups=2, warmup_steps=1,
                  describe_warmup_steps=1, text_warmup_steps=1, vision_steps=2, vision_batch_size=4, eval_per_kind=2,
                  eval_batch_size=8)


def test_pretrain_is_deterministic_cached_and_evaluated(tmp_path):
    from safetensors.torch import load_file

    from longthink.vision_world.evaluate import evaluate_vlm
    from longthink.vision_world.pretrain import build_cached
    from longthink.vision_world.vlm import build_result
    from longthink.vision_world.schema import VisionWorldStage

    settings = VisionWorldStage(**TINY_STAGE)
    a = build_cached(settings, seed=0, root=tmp_path / "a", progress=False)
    b = build_cached(settings, seed=0, root=tmp_path / "b", progress=False)
    wa, wb = load_file(str(a / "model.safetensors")), load_file(str(b / "model.safetensors"))
    assert wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)
    stamp = (a / "model.safetensors").stat().st_mtime
    assert build_cached(settings, seed=0, root=tmp_path / "a") == a  # reused, not rebuilt
    assert (a / "model.safetensors").stat().st_mtime == stamp
    other = build_cached(VisionWorldStage(**TINY_STAGE), seed=1, root=tmp_path / "a", progress=False)
    assert other != a
    from longthink.vision_world.pretrain import FORMAT_VERSION

    assert read_meta(a)["format_version"] == FORMAT_VERSION == 7
    assert [r["phase"] for r in build_result(a)["log"]] == ["main"]  # one log line at the last step
    report = evaluate_vlm(a, settings, seed=0)
    assert set(report["metrics"]) >= {"world/vlm_build_seconds", "world/vlm_acc_single_step",
                                      "world/vlm_grounding_acc50", "world/vlm_acc_train_resolution",
                                      "world/vlm_acc_shifted_resolution", "world/vlm_describe_cell_acc",
                                      "world/vlm_acc_multi_step", "world/vlm_resolution_drop"}
    assert all(0.0 <= v <= 1.0 for k, v in report["metrics"].items()
               if k not in ("world/vlm_build_seconds", "world/vlm_resolution_drop"))
    assert set(report["by_resolution"]) == {112, 168, 84}
    assert sum(sum(row.values()) for row in report["errors"].values()) == 2 * 11


def test_training_goes_on_until_the_dev_walk_saturates_or_the_cap(tmp_path):
    """Past max_steps the build checks the walk kinds on the dev split every saturation_every steps, at the
    schedule's floor rate, and stops at the target or the cap; every check is recorded with the steps taken."""
    from longthink.vision_world.pretrain import pretrain
    from longthink.vision_world.schema import VisionWorldStage

    capped = VisionWorldStage(**{**TINY_STAGE, "saturation_max_steps": TINY_STAGE["max_steps"] + 3,
                                 "saturation_every": 2, "saturation_per_kind": 2, "saturation_kinds": ["where"]})
    result = pretrain(capped, seed=0, out_dir=tmp_path / "capped", progress=False)
    n = TINY_STAGE["max_steps"]
    assert [c["step"] for c in result["saturation_checks"]] == [n, n + 2, n + 3]
    assert result["steps"] == n + 3 and result["saturated"] is False
    assert set(result["saturation_checks"][0]["dev_acc"]) == {"where"}
    easy = dataclasses.replace(capped, saturation_target=0.0)
    result = pretrain(easy, seed=0, out_dir=tmp_path / "easy", progress=False)
    assert result["steps"] == n and result["saturated"] is True and len(result["saturation_checks"]) == 1
    plain = pretrain(VisionWorldStage(**TINY_STAGE), seed=0, out_dir=tmp_path / "plain", progress=False)
    assert plain["steps"] == n and plain["saturation_checks"] == [] and plain["saturated"] is None


def test_long_share_writes_several_step_replies_in_the_long_style():
    import random

    from longthink.vision_world.pretrain import draw_example
    from longthink.vision_world.schema import VisionWorldStage

    def styles(share, kind):
        settings = VisionWorldStage(**{**TINY_STAGE, "long_share": share})
        rng = random.Random(0)
        return [" ... so " in draw_example(rng, kind, settings)["reply"] for _ in range(40)]

    assert all(styles(0.0, "count_cond")) and not any(styles(1.0, "count_cond"))
    assert 0 < sum(styles(0.5, "count_cond")) < 40
    assert not any(styles(1.0, "where"))  # single-step replies have one form


def test_every_setting_enters_the_cache_key():
    """No exemptions: changing any one setting changes the build's key."""
    from longthink.runs import config_hash
    from longthink.vision_world.pretrain import build_key
    from longthink.vision_world.schema import VisionWorldStage

    base = VisionWorldStage(**TINY_STAGE)
    key = config_hash(build_key(base, 0))
    assert config_hash(build_key(base, 1)) != key
    for f in dataclasses.fields(VisionWorldStage):
        value = getattr(base, f.name)
        if isinstance(value, bool):
            changed = not value
        elif isinstance(value, int):
            changed = value + 28 if "resolution" in f.name else value + 1
        elif isinstance(value, float):
            changed = value / 2 + 0.01
        elif isinstance(value, list):
            changed = [*value, 224] if f.name == "shifted_resolutions" else value[:1]
        else:
            changed = {**value, next(iter(value)): 0.5}
        assert config_hash(build_key(dataclasses.replace(base, **{f.name: changed}), 0)) != key, f.name


def test_training_batches_follow_the_curriculum_and_label_only_replies():
    import random

    from longthink.vision_world.batches import encode_batch
    from longthink.vision_world.pretrain import length_groups, phase_of, sample_batch
    from longthink.vision_world.replies import given_look
    from longthink.vision_world.schema import VisionWorldStage

    settings = VisionWorldStage(**{**TINY_STAGE, "batch_size": 16, "text_warmup_steps": 2, "describe_warmup_steps": 3,
                                   "text_share": 0.25})
    assert [phase_of(s, settings) for s in range(6)] == ["text", "text", "describe", "describe", "describe", "main"]
    rng = random.Random(0)
    assert all(ex["text_only"] for ex in sample_batch(rng, 0, settings))
    main = sample_batch(rng, 5, settings)
    assert 0 < sum(ex["text_only"] for ex in main) < 16
    tok = build_vision_tokenizer(vocab_size=320, corpus_size=40)
    processor = build_processor(tok)
    groups = length_groups(main, 2)
    assert sorted(map(id, sum(groups, []))) == sorted(map(id, main)) and len(groups) == 2
    for group in groups:
        batch = encode_batch(processor, group, mark_weight=3.0)
        for ex, labels, weights in zip(group, batch["labels"], batch["weights"]):
            text = tok.decode(labels[labels != -100].tolist())
            if ex["text_only"]:  # the look is given: the loss is on the reasoning over it
                assert text == ex["reply"].split(given_look(ex), 1)[1] + "<|im_end|>"
            else:
                assert text == ex["reply"] + "<|im_end|>"
            marks = torch.isin(labels, torch.tensor(tok.convert_tokens_to_ids([" yes", " no"])))
            assert torch.all(weights[marks] == 3.0) and torch.all(weights[~marks] == 1.0)
    n_images = sum(not ex["text_only"] for ex in groups[1])
    assert int((batch["input_ids"] == processor.image_token_id).sum()) == 16 * n_images
    # the value after "count" (a copy of the last tally) weighs result_weight
    from longthink.vision_world.replies import reply
    from longthink.vision_world.scenes import generate_examples

    (count_ex,) = generate_examples(1, seed=0, kinds=["count_cond"])
    count_ex = dict(count_ex, reply=reply(count_ex, style="long"))
    counted = encode_batch(processor, [count_ex], mark_weight=3.0, result_weight=8.0)
    weights, ids = counted["weights"][0], counted["input_ids"][0]
    after_count = torch.zeros_like(ids, dtype=torch.bool)
    after_count[1:] = ids[:-1] == tok.convert_tokens_to_ids(" count")
    assert int(after_count.sum()) == 1 and torch.all(weights[after_count] == 8.0)
    assert set(weights[~after_count].tolist()) == {1.0, 3.0}
    # a two-count chain (``count 2 1`` then ``2 + 1 = 3`` or ``2 > 1 -> yes``): both counts and the last step's
    # result weigh result_weight
    for kind in ("count_arith", "compare_counts"):
        (two,) = generate_examples(1, seed=0, kinds=[kind])
        encoded = encode_batch(processor, [dict(two, reply=reply(two, style="long"))], mark_weight=3.0,
                               result_weight=8.0)
        tokens = tok.convert_ids_to_tokens(encoded["input_ids"][0])
        heavy = [t for t, w in zip(tokens, encoded["weights"][0].tolist()) if w == 8.0]
        na, nb = two["plan"]["counts"]
        assert heavy == [f" {na}", f" {nb}", f" {two['answer']}"], (kind, heavy)


def test_arithmetic_drills_teach_the_last_step_with_nothing_given():
    import random

    from longthink.vision_world.batches import encode_batch
    from longthink.vision_world.drills import arith_drill
    from longthink.vision_world.pretrain import sample_batch
    from longthink.vision_world.schema import VisionWorldStage

    rng = random.Random(0)
    drills = [arith_drill(rng) for _ in range(300)]
    for d in drills:
        step = d["reply"].split("<think> ")[1].split(" </think>")[0]
        a, op, b, _, result = step.split()
        assert result == d["answer"] and d["question"].split()[:3] == [a, op, b]
        assert result == {">": "yes" if int(a) > int(b) else "no", "+": str(int(a) + int(b)),
                          "-": str(int(a) - int(b))}[op]
        assert int(a) + int(b) <= 8 and (op != "-" or int(a) >= int(b))
    assert {d["question"].split()[1] for d in drills} == {">", "+", "-"}
    settings = VisionWorldStage(**{**TINY_STAGE, "batch_size": 6, "drills_per_batch": 5, "describe_warmup_steps": 0})
    drawn = sample_batch(random.Random(1), 0, settings)
    assert len(drawn) == 11 and [ex["kind"] for ex in drawn[6:]] == ["arith"] * 5
    assert "arith" not in {ex["kind"] for ex in drawn[:6]}
    batch_examples = drawn[6:]
    tok = build_vision_tokenizer(vocab_size=320, corpus_size=40)
    batch = encode_batch(build_processor(tok), batch_examples[:4])
    for ex, labels in zip(batch_examples, batch["labels"]):
        assert tok.decode(labels[labels != -100].tolist()) == ex["reply"] + "<|im_end|>"


def test_scoring_maps_boxes_back_to_the_original_frame():
    from longthink.vision_world.evaluate import at_resolution, box_to_original, first_error, input_size, score
    from longthink.vision_world.vlm import set_pixel_bounds

    ex = generate_examples(1, seed=0, kinds=["ground"])[0]
    ex168 = at_resolution(ex, 168)
    gold112 = reply(ex)  # the model's box is in the frame it was given: 112 px
    assert score(ex, gold112, input_side=112) == 1.0
    assert score(ex168, gold112, input_side=112) == 1.0  # TTRS: resized to 112, mapped back to 168
    assert score(ex168, gold112, input_side=168) == 0.0  # read as a 168 px box it is in the wrong place
    assert box_to_original([10, 20, 30, 40], input_side=112, original_side=224) == [20, 40, 60, 80]
    tok = build_vision_tokenizer(vocab_size=320, corpus_size=10)
    processor = build_processor(tok)
    assert input_size(processor, 168) == 168
    set_pixel_bounds(processor, min_pixels=112 * 112, max_pixels=112 * 112)
    assert input_size(processor, 168) == 112 and input_size(processor, 84) == 112
    where = generate_examples(1, seed=0, kinds=["where"])[0]
    good = reply(where)
    assert first_error(where, good, right=True) == "right"
    assert first_error(where, good.replace("<answer> ", "<answer> x"), right=False) == "answer"
    assert first_error(where, good.split("<answer>")[0], right=False) == "no answer"
    look_slip = good.replace(" a1 ", " a1 lrc ", 1) if " a1 . " in good else good.replace(" a1 ", " a1 . ", 1)
    assert first_error(where, look_slip.replace("</answer>", "x</answer>"), right=False) == "look"


@pytest.mark.parametrize(
    "change, needle",
    [({"train_resolution": 100}, "train_resolution=100"), ({"task_weights": {"describe": 1, "poems": 1}}, "poems"),
     ({"text_task_weights": {"describe": 1}}, "describe"), ({"text_task_weights": {"sums": 1}}, "arith"),
     ({"shifted_resolutions": [112]}, "112"),
     ({"max_steps": -1}, "max_steps"), ({"text_share": 1.5}, "text_share"), ({"grid": 9}, "grid"),
     ({"max_objects": 40}, "max_objects"), ({"mark_weight": -1.0}, "mark_weight"),
     ({"saturation_kinds": ["poems"]}, "saturation_kinds"), ({"saturation_target": 1.5}, "saturation_target"),
     ({"long_share": 2.0}, "long_share"),
     ({"saturation_max_steps": 100, "saturation_every": 0}, "saturation_every")],
)
def test_bad_stage_settings_name_the_value(change, needle):
    from longthink.vision_world.schema import VisionWorldStage

    with pytest.raises(ValueError, match=needle):
        VisionWorldStage(**{**TINY_STAGE, **change})


@pytest.mark.parametrize("profile", [None, "tiny", "smoke"])
def test_recipe_loads(profile):
    from longthink.vision_world.pretrain import load_settings

    settings, seed = load_settings(profile)
    assert settings.train_resolution % 28 == 0 and isinstance(seed, int)


def test_walk_diagnostics_check_each_step_against_the_models_own_words():
    from longthink.vision_world.evaluate import walk_diagnostics

    exs = generate_examples(30, seed=4, kinds=["where", "colour_of", "count_cond"])
    assert set(walk_diagnostics([reply(e, style="long") for e in exs]).values()) == {1.0}
    # a two-count walk's lines (``: red yes blue no -> 1 0``) are read too: their marks, no combined mark
    two = [reply(e, style="long") for e in generate_examples(10, seed=4, kinds=["compare_counts"])]
    diag = walk_diagnostics(two)
    assert set(diag.values()) == {1.0} and "combined_is_and" not in diag and any(k.startswith("mark_") for k in diag)
    where = next(e for e in exs if e["kind"] == "where")
    good = reply(where)
    import re

    # the walk's first occupied cell: "<label> <code> <size> <colour> <shape> :" (empty cells are "<label> .")
    walk = good.split(" find ")[1]
    label, code, size, colour, shape = re.search(r" ([a-h][1-8]) ([a-z]{3}) (\S+) (\S+) (\S+) :", walk).groups()
    wrong_shape = next(s for s in ("circle", "square", "triangle") if s != shape)
    slipped = good.replace(f"{label} {code} {size} {colour} {shape} :", f"{label} {code} {size} {colour} {wrong_shape} :", 1)
    assert slipped != good
    diag = walk_diagnostics([slipped])
    assert diag["expand_shape"] < 1.0 and diag["expand_size"] == 1.0


def test_vision_tower_pretraining_learns_cell_targets_and_leaves_a_plain_model(tmp_path):
    """The ViT stand-in: per-cell targets in reading order, a loss that falls, no extra weights saved."""
    import random

    from longthink.vision_world.scenes import make_scene
    from longthink.vision_world.vision_encoder import cell_targets, pretrain_vision_tower

    scene = make_scene(random.Random(2))
    targets = cell_targets(scene)
    assert targets.shape == (16, 5)
    for obj in scene.objects:
        row = targets[obj.row * 4 + obj.col].tolist()
        assert row[3:] == [obj.row, obj.col] and all(v > 0 for v in row[:3])
    assert int((targets[:, 0] == 0).sum()) == 16 - len(scene.objects)
    tok = build_vision_tokenizer(vocab_size=320, corpus_size=10)
    processor = build_processor(tok)
    model = build_vlm(tok, ARCH, seed=0)
    before = {k: v.clone() for k, v in model.model.visual.state_dict().items()}
    first = pretrain_vision_tower(model, processor, grid=4, resolution=112, min_objects=3, max_objects=8, steps=1,
                                  batch_size=8, learning_rate=3e-3, seed=0)
    later = pretrain_vision_tower(model, processor, grid=4, resolution=112, min_objects=3, max_objects=8, steps=30,
                                  batch_size=8, learning_rate=3e-3, seed=1)
    assert later["vision_final_loss"] < first["vision_final_loss"]
    assert any(not torch.equal(before[k], v) for k, v in model.model.visual.state_dict().items())
    save_vlm(model, processor, tmp_path / "m")
    assert set(load_vlm(tmp_path / "m")[0].state_dict()) == set(model.state_dict())
    with pytest.raises(ValueError, match="one visual token per cell"):
        pretrain_vision_tower(model, processor, grid=4, resolution=168, min_objects=3, max_objects=8, steps=1,
                              batch_size=2, learning_rate=1e-3, seed=0)


def test_every_setting_enters_the_key_defaults_included():
    import dataclasses

    from longthink.vision_world.pretrain import hashed_settings
    from longthink.vision_world.schema import VisionWorldStage

    base = hashed_settings(VisionWorldStage(**TINY_STAGE))
    assert set(base) == {f.name for f in dataclasses.fields(VisionWorldStage)}
