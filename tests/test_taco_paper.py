"""The paper recipe: Qwen2.5-VL-3B-Instruct with the paper's GRPO settings where TRL's defaults differ, ZeRO-3 and
vLLM only where installed; its loading and training code run on a tiny Qwen2.5-VL saved in the test."""

from __future__ import annotations

import subprocess
import sys

import pytest
import taco_helpers as H

from longthink.config import RecipeError, load_recipe, recipe_path
from longthink.taco.frames import PixelBounds


def test_paper_recipe_has_the_papers_settings_where_trl_differs():
    from trl import GRPOConfig

    recipe = load_recipe(recipe_path("taco"), profile="paper")
    assert recipe.stage("models").kit.policy == "Qwen/Qwen2.5-VL-3B-Instruct"
    grpo = recipe.stage("grpo")
    defaults = GRPOConfig(output_dir="/tmp/x", use_cpu=True, bf16=False)
    wanted = {"beta": 0.04, "loss_type": "grpo", "num_generations": 8, "temperature": 1.0, "learning_rate": 1e-6,
              "epsilon": 0.2, "max_completion_length": 2048, "scale_rewards": "group"}
    for key, value in wanted.items():
        assert grpo.trainer[key] == value, key
    assert defaults.beta == 0.0 and defaults.loss_type == "dapo" and defaults.max_completion_length == 512
    assert grpo.kit.tac_vqa == "judge" and grpo.kit.tac_rec_mode == "triple" and grpo.kit.rrs_period == 100
    from longthink.training import trainer_config

    args = trainer_config(grpo, "/tmp/taco_cfg", seed=0, reward_weights=[1.0] * 4)
    assert args.beta == 0.04 and args.loss_type == "grpo" and args.num_generations == 8


def test_zero3_config_is_there():
    import yaml

    from longthink.config import repo_root

    cfg = yaml.safe_load((repo_root() / "recipes" / "accelerate" / "zero3.yaml").read_text())
    assert cfg["distributed_type"] == "DEEPSPEED" and cfg["deepspeed_config"]["zero_stage"] == 3


def test_vllm_is_imported_only_when_asked_for():
    code = ("import sys, longthink.taco.pipeline, longthink.taco.train, longthink.taco.inference, "
            "longthink.taco.judge, longthink.taco.evaluate; print('vllm' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"


def test_generation_backend_resolution(monkeypatch):
    from longthink.taco import train

    monkeypatch.setattr(train, "vllm_installed", lambda: False)
    assert train.use_vllm("auto") is False and train.use_vllm("hf") is False
    with pytest.raises(ImportError, match="vLLM is not installed"):
        train.use_vllm("vllm")
    monkeypatch.setattr(train, "vllm_installed", lambda: True)
    assert train.use_vllm("auto") is True


@pytest.fixture(scope="module")
def qwen25(tmp_path_factory):
    return H.vlm_folder(tmp_path_factory.mktemp("paper") / "qwen25vl", family="qwen2_5_vl")


def test_a_saved_qwen25_vl_loads_generates_and_trains(qwen25, tmp_path):
    from transformers import Qwen2_5_VLForConditionalGeneration

    from longthink.taco.arms import ARMS
    from longthink.taco.data import trl_dataset
    from longthink.taco.inference import generate_replies
    from longthink.taco.pipeline import load_model
    from longthink.taco.train import load_processor, train_arm

    bounds = PixelBounds(784, 448 * 448)
    model, processor = load_model(str(qwen25), bounds)
    assert isinstance(model, Qwen2_5_VLForConditionalGeneration)
    rows = H.rows(n_rec=2, n_vqa=2)
    out = generate_replies(model, processor, rows, max_new_tokens=3)
    assert len(out.texts) == 4 and out.visual_tokens == [16] * 4
    assert load_processor(str(qwen25), bounds=bounds).tokenizer.padding_side == "left"

    recipe = load_recipe(recipe_path("taco"), profile="paper", overrides={
        "stages.grpo.num_generations": 2, "stages.grpo.per_device_train_batch_size": 4,
        "stages.grpo.gradient_accumulation_steps": 1, "stages.grpo.max_completion_length": 6,
        "stages.grpo.max_steps": 2, "stages.grpo.model_init_kwargs": None, "stages.grpo.bf16": False,
        "stages.grpo.activation_checkpointing": False, "stages.grpo.tac_vqa": "last_value",
        "stages.grpo.generation_backend": "hf"})
    summary = train_arm(policy=str(qwen25), dataset=trl_dataset(rows), stage=recipe.stage("grpo"), arm=ARMS["taco"],
                        bounds=bounds, out_dir=tmp_path / "arm", seed=0, profile="paper")
    assert summary["steps"] == 2 and (tmp_path / "arm" / "model" / "config.json").is_file()
    assert (tmp_path / "arm" / "rollouts.jsonl").stat().st_size > 0
    reloaded, _ = load_model(str(tmp_path / "arm" / "model"), bounds)
    assert isinstance(reloaded, Qwen2_5_VLForConditionalGeneration)


@pytest.mark.parametrize("override,needle", [
    ({"stages.grpo.tac_rec_mode": "mean"}, "tac_rec_mode"),
    ({"stages.grpo.rewards": ["format", "iou"]}, "unknown reward"),
    ({"stages.grpo.ads_p_lo": 0.9, "stages.grpo.ads_p_hi": 0.1}, "ads_p_lo"),
    ({"stages.grpo.ads_w_min": 1.5}, "ads_w_min"),
    ({"stages.grpo.rrs_period": 0}, "rrs_period"),
    ({"stages.grpo.rrs_tau_mode": "fixed"}, "rrs_tau"),
    ({"stages.ablations.arms": ["grpo", "dapo"]}, "unknown arm"),
    ({"stages.eval.ttrs_scales": [0.5, 2.0]}, "must hold 1.0"),
    ({"stages.eval.ttme_k": 5}, "ttme_k"),
    ({"stages.data.train_objects": [6, 3]}, "train_objects"),
    ({"stages.data.shift_factors": [1.0]}, "shift_factors"),
    ({"stages.models.min_pixels": 10 ** 9}, "min_pixels"),
    ({"stages.grpo.tac_vqa": "vote"}, "tac_vqa"),
])
def test_bad_settings_name_the_key(override, needle):
    with pytest.raises(RecipeError, match=needle):
        load_recipe(recipe_path("taco"), profile="tiny", overrides=override)


@pytest.mark.parametrize("profile", [None, "smoke", "tiny", "paper"])
def test_recipe_loads_for_every_profile(profile):
    recipe = load_recipe(recipe_path("taco"), profile=profile)
    assert list(recipe.stages) == ["models", "data", "grpo", "ablations", "eval"]


def test_reward_weights_in_the_recipe_are_refused(tmp_path):
    from longthink.taco.arms import ARMS
    from longthink.taco.train import train_arm

    recipe = load_recipe(recipe_path("taco"), profile="smoke", overrides={"stages.grpo.reward_weights": [1, 1, 1, 1]})
    with pytest.raises(ValueError, match="set tac_weight, not reward_weights"):
        train_arm(policy="x", dataset=None, stage=recipe.stage("grpo"), arm=ARMS["grpo"],
                  bounds=PixelBounds(784, 784), out_dir=tmp_path, seed=0)
