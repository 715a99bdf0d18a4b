"""The tiny Qwen2-VL: built from config, processor built locally, saved/loaded, trained by TRL SFT, DPO and GRPO."""

from __future__ import annotations

import dataclasses

import pytest
import torch

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
    """TRL rows with a structured prompt (question, then an image placeholder that TRL fills with the row's image)."""
    return [{"images": [example_image(ex)], "prompt": user_message(ex["question"], question_first=True), **extra(ex)}
            for ex in examples]


@pytest.mark.parametrize("question_first", [False, True])
def test_user_message_order(vlm_dir, question_first):
    _, processor = load_vlm(vlm_dir)
    text = processor.tokenizer.apply_chat_template(user_message("What colour is the circle?",
                                                                question_first=question_first),
                                                   tokenize=False, add_generation_prompt=True)
    q, image = text.index("What colour is the circle?"), text.index("<|vision_start|><|image_pad|><|vision_end|>")
    assert (q < image) == question_first
    assert text.endswith("<|im_start|>assistant\n")


def test_sft_trainer_runs(vlm_dir, examples, tmp_path):
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    model, processor = load_vlm(vlm_dir)
    rows = _rows(examples, extra=lambda ex: {"completion": [{"role": "assistant", "content": ex["answer"]}]})
    trainer = SFTTrainer(model=model, args=SFTConfig(output_dir=str(tmp_path), max_length=None, **CPU),
                         train_dataset=Dataset.from_list(rows), processing_class=processor)
    trainer.train()
    assert trainer.state.global_step == 2
    assert all(torch.isfinite(torch.tensor(h["loss"])) for h in trainer.state.log_history if "loss" in h)


def test_dpo_trainer_runs(vlm_dir, examples, tmp_path):
    from datasets import Dataset
    from trl import DPOConfig, DPOTrainer

    rows = _rows(examples, extra=lambda ex: {
        "chosen": [{"role": "assistant", "content": ex["answer"]}],
        "rejected": [{"role": "assistant", "content": "blue" if ex["answer"] != "blue" else "red"}],
    })
    _, processor = load_vlm(vlm_dir)
    trainer = DPOTrainer(model=str(vlm_dir), args=DPOConfig(output_dir=str(tmp_path), max_length=None, **CPU),
                         train_dataset=Dataset.from_list(rows), processing_class=processor)
    trainer.train()
    assert trainer.state.global_step == 2


def test_grpo_trainer_runs_with_a_reference_model(vlm_dir, examples, tmp_path):
    from datasets import Dataset
    from trl import GRPOConfig, GRPOTrainer

    from longthink.vision_world.scenes import iou, parse_box

    def box_reward(completions, box=None, **kwargs):
        out = []
        for completion, gold in zip(completions, box):
            pred = parse_box(completion[0]["content"])
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
                  max_steps=3, batch_size=4, warmup_steps=1, eval_per_kind=3, eval_batch_size=8)


def test_pretrain_is_deterministic_cached_and_evaluated(tmp_path):
    from safetensors.torch import load_file

    from longthink.vision_world.schema import VisionWorldStage
    from longthink.vision_world.pretrain import build_cached, evaluate_vlm

    settings = VisionWorldStage(**TINY_STAGE)
    a = build_cached(settings, seed=0, root=tmp_path / "a")
    b = build_cached(settings, seed=0, root=tmp_path / "b")
    wa, wb = load_file(str(a / "model.safetensors")), load_file(str(b / "model.safetensors"))
    assert wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)
    stamp = (a / "model.safetensors").stat().st_mtime
    assert build_cached(settings, seed=0, root=tmp_path / "a") == a  # reused, not rebuilt
    assert (a / "model.safetensors").stat().st_mtime == stamp
    other = build_cached(VisionWorldStage(**TINY_STAGE), seed=1, root=tmp_path / "a")
    assert other != a
    report = evaluate_vlm(a, settings, seed=0, include_multi_step=False)
    assert set(report["metrics"]) >= {"world/vlm_build_seconds", "world/vlm_acc_single_step",
                                      "world/vlm_grounding_acc50", "world/vlm_acc_train_resolution",
                                      "world/vlm_acc_shifted_resolution"}
    assert all(0.0 <= v <= 1.0 for k, v in report["metrics"].items() if k != "world/vlm_build_seconds")
    assert set(report["by_resolution"]) == {112, 168, 84}


def test_referent_probe_points_at_the_named_object_and_skips_descriptions():
    from longthink.vision_world.schema import VisionWorldStage
    from longthink.vision_world.pretrain import CellProbe, ReferentProbe, encode_batch, example_losses, sample_tasks

    settings = VisionWorldStage(**TINY_STAGE, task_weights={"describe": 1, "colour_of": 1, "where": 1})
    tok = build_vision_tokenizer(vocab_size=320, corpus_size=60)
    processor = build_processor(tok)
    model = build_vlm(tok, ARCH, seed=0)
    examples = [e for e in sample_tasks(settings, n=12, seed=0) if e["kind"] != "describe"][:3]
    examples.append(next(e for e in sample_tasks(settings, n=12, seed=0) if e["kind"] == "describe"))
    cells = CellProbe(model, grid=4)
    probe = ReferentProbe(model, grid=4, layer=5)
    assert probe.layer == ARCH.num_hidden_layers  # clipped to the model's depth
    batch = encode_batch(processor, examples, question_first=True)
    rows, counts, states = example_losses(model, batch, hidden_layer=probe.layer)
    assert rows.shape == (4,) and states.shape[:2] == batch["input_ids"].shape
    loss, acc = probe.loss(examples, batch["input_ids"], states)
    assert torch.isfinite(loss) and 0.0 <= acc <= 1.0
    (loss + cells.loss(examples) + cells.scale_loss(model)).backward()
    assert probe.head.weight.grad is not None and float(cells.scale_loss(model).detach()) >= 0.0
    assert probe.loss(examples[-1:], batch["input_ids"][-1:], states[-1:]) is None  # a description names no object
    cells.remove()


def test_pretrain_with_the_grounding_devices_saves_a_plain_model(tmp_path):
    from longthink.vision_world.schema import VisionWorldStage
    from longthink.vision_world.pretrain import build_result, pretrain

    settings = VisionWorldStage(**{**TINY_STAGE, "max_steps": 2}, question_first=True, vision_scale_weight=1.0,
                                referent_aux_weight=5.0, readout_aux_weight=1.0, layer_cell_aux_weight=1.0)
    result = pretrain(settings, seed=0, out_dir=tmp_path, progress=False)
    assert result["final_referent_probe_acc"] is not None and result["final_readout_loss"] is not None
    model, _ = load_vlm(tmp_path)
    assert model.config.get_text_config()._attn_implementation != "eager"  # eager only while training
    assert not any("head" in k and "lm_head" not in k for k in model.state_dict())  # probes dropped
    assert build_result(tmp_path) == {}  # result.json is written by build_cached, not by pretrain
    assert read_meta(tmp_path)["question_first"] is True


@pytest.mark.parametrize(
    "change, needle",
    [({"train_resolution": 100}, "train_resolution=100"), ({"task_weights": {"describe": 1, "poems": 1}}, "poems"),
     ({"shifted_resolutions": [112]}, "112"), ({"max_steps": -1}, "max_steps"),
     ({"referent_aux_weight": 1.0}, "question_first"),
     ({"question_first": True, "readout_aux_weight": 1.0}, "referent_aux_weight"),
     ({"vision_aux_weight": 0.0, "vision_scale_weight": 1.0}, "vision_aux_weight")],
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


def test_every_setting_enters_the_key_defaults_included():
    import dataclasses

    from longthink.vision_world.pretrain import hashed_settings
    from longthink.vision_world.schema import VisionWorldStage

    base = hashed_settings(VisionWorldStage(**TINY_STAGE))
    assert set(base) == {f.name for f in dataclasses.fields(VisionWorldStage)}
