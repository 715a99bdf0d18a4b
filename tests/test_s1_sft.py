"""s1 SFT: the text format, assistant-only labels (thinking, answer, end token), in-process and accelerate runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from longthink.s1.sft import round_up_pow2, s1_assistant, to_conversation

ROW = {"question": "Mix 3: a+4,b*3.", "thinking_trajectories": ["a:3+4=7\nb:7*3=1"], "attempt": "1",
       "trace_length": 12}


def test_text_format_and_tcc_prompt():
    conv = to_conversation(ROW, thinking_column="thinking_trajectories", attempt_column="attempt")
    assert conv["completion"][0]["content"] == "<|im_start|>think\na:3+4=7\nb:7*3=1\n<|im_start|>answer\nAnswer: 1"
    assert s1_assistant("t", "Answer: 2").endswith("\nAnswer: 2")  # no double prefix
    tcc = to_conversation(ROW, thinking_column="thinking_trajectories", attempt_column="attempt", control="token")
    assert tcc["prompt"][-1]["content"].endswith("\nThink for up to 16 tokens.")
    assert [round_up_pow2(n) for n in (1, 2, 3, 16, 17)] == [1, 2, 4, 16, 32]
    with pytest.raises(ValueError, match="control must be"):
        to_conversation(ROW, thinking_column="thinking_trajectories", attempt_column="attempt", control="steps")


def _recipe(tmp_path):
    from longthink.config import load_recipe

    return load_recipe("recipes/s1.yaml", profile="smoke", overrides={"stages.sft.max_steps": 2,
                                                                      "stages.sft.per_device_train_batch_size": 2})


def test_labels_cover_thinking_answer_and_end_token(tiny_model_dir, tiny_tokenizer, tmp_path, repo_root):
    """TRL's tokenised row: loss on the assistant turn incl. <|im_end|>, none on the user turn; pad != EOS."""
    os.chdir(repo_root)
    from trl import SFTTrainer

    from longthink.s1.sft import to_dataset
    from longthink.training import trainer_config

    stage = _recipe(tmp_path).stage("sft")
    ds = to_dataset([ROW], thinking_column="thinking_trajectories", attempt_column="attempt")
    trainer = SFTTrainer(model=str(tiny_model_dir), args=trainer_config(stage, tmp_path / "t"), train_dataset=ds,
                         processing_class=tiny_tokenizer)
    row = trainer.train_dataset[0]
    trained = tiny_tokenizer.decode([i for i in row["labels"] if i != -100], skip_special_tokens=False)
    assert trained.startswith("<|im_start|>think\na:3+4=7")
    assert "Answer: 1<|im_end|>" in trained and "Mix 3" not in trained
    assert tiny_tokenizer.pad_token_id != tiny_tokenizer.eos_token_id


def test_train_in_process_saves_model(tiny_model_dir, tmp_path, repo_root):
    os.chdir(repo_root)
    from longthink.models import load_causal_lm
    from longthink.s1.sft import train_sft

    stage = _recipe(tmp_path).stage("sft")
    result = train_sft(stage, [ROW] * 4, tmp_path / "out", profile="smoke", seed=0, model_ref=str(tiny_model_dir))
    assert result["steps"] == 2 and result["world_size"] == 1
    model, tok = load_causal_lm(str(tmp_path / "out" / "model"))
    assert model.config.vocab_size == len(tok)


@pytest.mark.slow
def test_accelerate_launch_two_cpu_processes(tiny_model_dir, tmp_path, repo_root):
    """`accelerate launch` with 2 CPU processes (recipes/accelerate/cpu2.yaml) trains and saves the SFT stage."""
    data = tmp_path / "train.jsonl"
    data.write_text("".join(json.dumps(ROW) + "\n" for _ in range(8)))
    out = tmp_path / "sft"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "HF_DATASETS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--config_file", "recipes/accelerate/cpu2.yaml",
           "-m", "longthink.s1.sft", "--recipe", "recipes/s1.yaml", "--profile", "smoke", "--train-data", str(data),
           "--output-dir", str(out), "--model", str(tiny_model_dir), "--set", "stages.sft.max_steps=2",
           "--set", "stages.sft.per_device_train_batch_size=2"]
    proc = subprocess.run(cmd, cwd=repo_root, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads((out / "train_result.json").read_text())
    assert result["world_size"] == 2 and result["steps"] == 2
    assert (out / "model" / "model.safetensors").is_file() and (out / "model" / "tokenizer.json").is_file()
