"""World models: built on demand from the smoke profile, cached by config hash, clear errors for bad names."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def smoke_world(tmp_path_factory):
    import os

    old = os.environ.get("LONGTHINK_CACHE")
    os.environ["LONGTHINK_CACHE"] = str(tmp_path_factory.mktemp("cache"))
    from longthink.text_world.models import build_world

    yield build_world("smoke", progress=False)
    if old is None:
        os.environ.pop("LONGTHINK_CACHE", None)
    else:
        os.environ["LONGTHINK_CACHE"] = old


def test_build_world_saves_models_and_tokenizer(smoke_world):
    from longthink.tokenizer import load_tokenizer

    paths = smoke_world["paths"]
    assert set(paths) == {"tokenizer", "instruct", "target", "guider_base"}
    for name in ("instruct", "target", "guider_base"):
        assert (paths[name] / "model.safetensors").is_file()
        assert (paths[name] / "tokenizer.json").is_file()
    vocab = {name: load_tokenizer(paths[name]).get_vocab() for name in ("instruct", "target", "guider_base")}
    assert vocab["instruct"] == vocab["target"] == vocab["guider_base"]  # ThinkLogit needs one tokenizer
    stats = smoke_world["stats"]
    assert stats["target"]["parameters"] > stats["guider_base"]["parameters"]


def test_second_call_is_cached(smoke_world):
    import time

    from longthink.text_world.models import build_world, world_model_path

    start = time.perf_counter()
    again = build_world("smoke", progress=False)
    assert time.perf_counter() - start < 5
    assert again["paths"] == smoke_world["paths"]
    assert world_model_path("instruct", "smoke") == smoke_world["paths"]["instruct"]


def test_resolve_world_ref_and_load(smoke_world):
    from longthink.models import load_causal_lm, resolve_model

    assert resolve_model("world:target", "smoke") == str(smoke_world["paths"]["target"])
    model, tok = load_causal_lm("world:guider_base", profile="smoke")
    assert tok.eos_token == "<|im_end|>" and model.config.vocab_size == len(tok)


def test_chat_prompt_matches_template(smoke_world):
    from longthink.text_world.pretrain import prompt_text
    from longthink.tokenizer import load_tokenizer

    tok = load_tokenizer(smoke_world["paths"]["tokenizer"])
    messages = [{"role": "user", "content": "Mix 3:a+4."}]
    assert tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True) == prompt_text("Mix 3:a+4.")


def test_reading_frame_has_every_model_and_position(smoke_world):
    from longthink.text_world import showcase

    reading = showcase.reading_frame("smoke", n=8, progress=False)
    assert list(reading.columns) == ["guider_base", "instruct", "target"]
    assert set(reading.index) <= {1, 2, 3} and ((reading >= 0) & (reading <= 1)).all().all()
    import pandas as pd

    read = pd.DataFrame({"guider_base": [1.0, 0.9], "instruct": [1.0, 1.0], "target": [0.99, 0.97]}, index=[1, 2])
    metrics = showcase.world_metrics({"build_seconds": 1.0, "seconds": 0.1}, {}, read)
    assert metrics["world/target_read_acc_min"] == 0.97 and metrics["world/guider_base_read_acc_min"] == 0.9
    empty = showcase.world_metrics({"build_seconds": 1.0, "seconds": 0.1}, {}, read.iloc[:0])
    assert not any(k.endswith("read_acc_min") for k in empty)  # nothing read: no figure, never a NaN


def test_pretraining_batches_are_short_answers_or_whole_runs():
    import random

    from longthink.text_world.pretrain import training_pairs

    rng = random.Random(0)
    runs = training_pairs(rng, n=12, difficulty=4, domains=["mix"], kind="run")
    assert all(q.endswith(".") and " Run:" in q and c.endswith(f"Answer: {c.split('=')[-1].split(chr(10))[0]}")
               for q, c in runs)
    assert {"Wait" in c for _, c in runs} == {True, False}  # both run surfaces: worked, and stepwise with Wait
    short = training_pairs(rng, n=4, difficulty=4, domains=["mix"], kind="short", exclude=frozenset())
    assert all(c.split("\n")[3] == "..." for _, c in short)
    with pytest.raises(ValueError, match="unknown pretraining batch kind 'drill'; known: \\['short', 'run'\\]"):
        training_pairs(rng, n=1, difficulty=1, domains=["mix"], kind="drill")


def test_unknown_model_name_lists_known_names():
    from longthink.text_world.models import WorldError, world_model_path

    with pytest.raises(WorldError, match=r"unknown world model 'teacher'.*instruct.*target.*guider_base"):
        world_model_path("teacher", "smoke")


def test_unknown_profile_is_clear():
    from longthink.config import RecipeError
    from longthink.text_world.models import world_model_path

    with pytest.raises(RecipeError, match="unknown profile 'huge'"):
        world_model_path("instruct", "huge")


def test_lm_loss_matches_the_model_loss_and_smoothing_flattens_the_tail():
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    from longthink.text_world.pretrain import lm_loss

    torch.manual_seed(0)
    model = Qwen2ForCausalLM(Qwen2Config(vocab_size=11, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                                         num_attention_heads=2, num_key_value_heads=2))
    ids = torch.randint(0, 11, (2, 6))
    labels = ids.clone()
    labels[:, :2] = -100
    out = model(input_ids=ids, labels=labels)
    assert torch.allclose(lm_loss(out.logits, labels), out.loss, atol=1e-5)
    # the smoothed loss is minimised by the smoothed target: the right token log((1-e+e/V)/(e/V)) nats above the rest
    e, v = 0.1, 11
    best = torch.full((1, 2, v), 0.0)
    best[0, 0, 3] = torch.log(torch.tensor((1 - e + e / v) / (e / v)))
    worse = best.clone()
    worse[0, 0, 3] += 2.0
    target = torch.tensor([[-100, 3]])
    assert lm_loss(best, target, label_smoothing=e) < lm_loss(worse, target, label_smoothing=e)


@pytest.fixture(scope="module")
def saturation_run(smoke_world):
    """A smoke-sized model pretrained with checks past its schedule: 20 scheduled steps, a check every 5, cap 30."""
    import dataclasses

    from longthink.text_world.pretrain import build_model, pretrain
    from longthink.text_world.settings import world_settings
    from longthink.tokenizer import load_tokenizer

    s = world_settings("smoke")
    tasks = s.stage("tasks").kit
    stage = dataclasses.replace(s.stage("guider_base").kit, max_steps=20, saturation_max_steps=30,
                                saturation_every=5, saturation_n=8)
    tok = load_tokenizer(smoke_world["paths"]["tokenizer"])
    model = build_model(stage, tok, seed=0)
    stats = pretrain(model, tok, stage, max_difficulty=tasks.max_difficulty, domains=tasks.domains, seed=0,
                     progress=False)
    return {"stats": stats, "model": model, "tokenizer": tok, "stage": stage, "tasks": tasks}


def test_pretraining_trains_to_saturation_and_records_its_checks(saturation_run):
    """Past max_steps the model works dev chains every saturation_every steps and stops when they pass, or at the
    cap; every check is recorded."""
    stats = saturation_run["stats"]
    checks = stats["saturation_checks"]
    assert checks and checks[0]["step"] == 20
    assert [c["step"] for c in checks] == list(range(20, 20 + 5 * len(checks), 5))
    assert all(set(c) >= {"read", "read_min", "run", "chat", "passed", "seconds"} for c in checks)
    assert stats["saturated"] is checks[-1]["passed"]
    assert stats["steps"] == (checks[-1]["step"] if checks[-1]["passed"] else 30)  # stopped when saturated, or capped


def test_a_world_model_built_without_checks_says_so(smoke_world):
    for name in ("instruct", "target", "guider_base"):
        assert smoke_world["stats"][name]["saturation_checks"] == []
        assert smoke_world["stats"][name]["saturated"] is None


def test_saturation_check_reads_every_chain_position(saturation_run):
    import dataclasses

    from longthink.text_world.pretrain import saturation_check

    model, tok, stage, tasks = (saturation_run[k] for k in ("model", "tokenizer", "stage", "tasks"))
    check = saturation_check(model, tok, stage, max_difficulty=tasks.max_difficulty, domains=tasks.domains, seed=0)
    assert check["read_min"] == min(check["read"].get(k, 0.0) for k in range(1, tasks.max_difficulty + 1))
    assert check["passed"] == (min(check["read_min"], check["run"], check["chat"]) >= stage.saturation_target)
    lenient = saturation_check(model, tok, dataclasses.replace(stage, saturation_target=0.0),
                               max_difficulty=tasks.max_difficulty, domains=tasks.domains, seed=0)
    assert lenient["passed"] and lenient["read"] == check["read"]  # the same dev chains, greedy


def test_build_table_shows_each_models_last_saturation_check(smoke_world, saturation_run):
    import pandas as pd

    from longthink.text_world.showcase import build_table

    table = build_table(smoke_world)
    assert set(table.index) == {"instruct", "target", "guider_base"}
    assert {"steps", "checks", "read_min", "chat", "saturated"} <= set(table.columns)
    assert (table["checks"] == 0).all() and table["saturated"].isna().all()  # the smoke world asks for no checks
    checked = build_table({"stats": {"guider_base": saturation_run["stats"]}})
    last = saturation_run["stats"]["saturation_checks"][-1]
    assert checked.loc["guider_base", "read_min"] == last["read_min"] and checked.loc["guider_base", "checks"] >= 1
    assert checked.loc["guider_base", "saturated"] == saturation_run["stats"]["saturated"]
