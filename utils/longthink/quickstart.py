"""The quickstart pipeline: the kit's whole path (recipe, run folders, TRL SFT, model loading, grading) in a minute.

It teaches a tiny Qwen2 model, built from config, to add two single-digit numbers and box the result. Nothing
here belongs to a paper: it exists so that a newcomer (and CI) exercises every piece of shared infrastructure on
a task small enough to finish on any laptop.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from longthink.config import StageSettings, stage_schema
from longthink.runs import Run, set_seed


@stage_schema("quickstart.data")
@dataclass
class DataStage:
    n_train: int = 512
    n_eval: int = 64
    max_operand: int = 9


@stage_schema("quickstart.sft", trainer="sft")
@dataclass
class SFTStage:
    hidden_size: int = 64
    num_hidden_layers: int = 2
    num_attention_heads: int = 4
    vocab_size: int = 320


@stage_schema("quickstart.eval")
@dataclass
class EvalStage:
    max_new_tokens: int = 12


def make_examples(n: int, *, seed: int, max_operand: int) -> list[dict]:
    """Conversational prompt/completion pairs: ``What is a + b?`` -> ``\\boxed{a+b}``."""
    if n < 1 or max_operand < 1:
        raise ValueError(f"need n >= 1 and max_operand >= 1, got n={n}, max_operand={max_operand}")
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        a, b = rng.randint(0, max_operand), rng.randint(0, max_operand)
        rows.append({
            "prompt": [{"role": "user", "content": f"What is {a} + {b}?"}],
            "completion": [{"role": "assistant", "content": f"\\boxed{{{a + b}}}"}],
            "answer": str(a + b),
        })
    return rows


def build_data(stage: StageSettings, *, seed: int) -> dict[str, list[dict]]:
    kit = stage.kit
    return {
        "train": make_examples(kit.n_train, seed=seed, max_operand=kit.max_operand),
        "eval": make_examples(kit.n_eval, seed=seed + 1, max_operand=kit.max_operand),
    }


def build_model(stage: StageSettings, corpus: list[str]):
    """A fresh tiny Qwen2 and the world tokenizer trained on ``corpus``."""
    from transformers import Qwen2Config, Qwen2ForCausalLM

    from longthink.tokenizer import build_tokenizer

    kit = stage.kit
    tokenizer = build_tokenizer(corpus, vocab_size=kit.vocab_size)
    config = Qwen2Config(
        vocab_size=len(tokenizer), hidden_size=kit.hidden_size, intermediate_size=4 * kit.hidden_size,
        num_hidden_layers=kit.num_hidden_layers, num_attention_heads=kit.num_attention_heads,
        num_key_value_heads=kit.num_attention_heads, tie_word_embeddings=True, max_position_embeddings=256,
        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
    )
    return Qwen2ForCausalLM(config), tokenizer


def train(run: Run, stage: StageSettings, data: dict[str, list[dict]], *, seed: int) -> Path:
    """SFT with TRL (loss on the completion only); the stage folder holds the saved model."""
    from datasets import Dataset
    from trl import SFTTrainer

    from longthink.models import save_pretrained
    from longthink.training import trainer_config

    def fit(out: Path) -> dict:
        set_seed(seed)
        corpus = [r["prompt"][0]["content"] + " " + r["completion"][0]["content"] for r in data["train"]]
        model, tokenizer = build_model(stage, corpus)
        train_ds = Dataset.from_list([{k: r[k] for k in ("prompt", "completion")} for r in data["train"]])
        args = trainer_config(stage, out / "trainer", seed=seed)
        trainer = SFTTrainer(model=model, args=args, train_dataset=train_ds, processing_class=tokenizer)
        result = trainer.train()
        save_pretrained(model, tokenizer, out / "model")
        return {"train_loss": result.training_loss, "steps": result.global_step}

    stage_run = run.stage(stage.name, {"settings": stage.as_dict(), "seed": seed, "n_train": len(data["train"])})
    stage_run.run(fit)
    return stage_run.dir / "model"


def evaluate(model_dir: str | Path, rows: list[dict], stage: StageSettings) -> dict:
    """Greedy answers graded by ``longthink.grading.grade``; returns accuracy and a few samples."""
    import torch

    from longthink.grading import grade
    from longthink.models import load_causal_lm

    model, tokenizer = load_causal_lm(str(model_dir))
    prompts = [tokenizer.apply_chat_template(r["prompt"], tokenize=False, add_generation_prompt=True) for r in rows]
    batch = tokenizer(prompts, return_tensors="pt", padding=True)
    with torch.no_grad():
        out = model.generate(**batch, max_new_tokens=stage.kit.max_new_tokens, do_sample=False,
                             pad_token_id=tokenizer.pad_token_id)
    texts = tokenizer.batch_decode(out[:, batch["input_ids"].shape[1]:], skip_special_tokens=True)
    correct = [grade(t, r["answer"]) for t, r in zip(texts, rows)]
    samples = [{"question": r["prompt"][0]["content"], "output": t, "gold": r["answer"], "correct": c}
               for r, t, c in list(zip(rows, texts, correct))[:8]]
    return {"accuracy": sum(correct) / len(correct), "samples": samples}
