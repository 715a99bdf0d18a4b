"""The quickstart pipeline: the kit's whole path (recipe, run folders, TRL SFT, model loading, grading) in a minute.

It teaches a tiny Qwen2 model, built from config, to add two single-digit numbers and box the result. Nothing
here belongs to a paper: it exists so that a newcomer (and CI) exercises every piece of shared infrastructure on
a task small enough to finish on any laptop.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from longthink.config import Bounds, Positive, StageSettings, stage_schema
from longthink.runs import PaperRun, open_paper, set_seed
from longthink.stages import Artefact


@stage_schema("quickstart.data")
@dataclass
class DataStage:
    n_train: Positive = 512
    n_eval: Positive = 64
    max_operand: Positive = 9


@stage_schema("quickstart.sft", trainer="sft")
@dataclass
class SFTStage:
    hidden_size: Positive = 64
    num_hidden_layers: Positive = 2
    num_attention_heads: Positive = 4
    vocab_size: Annotated[int, Bounds(lo=300)] = 320


@stage_schema("quickstart.eval")
@dataclass
class EvalStage:
    max_new_tokens: Positive = 12


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


def setup(profile: str = "tiny", *, seed: int = 0, output_dir: str = "runs", overrides: dict | None = None) -> PaperRun:
    """Open a quickstart run: ``recipes/quickstart.yaml`` under ``profile``, the seed set, the run folder ready."""
    return open_paper("quickstart", profile, seed=seed, output_dir=output_dir, overrides=overrides)


def build_data(ctx: PaperRun) -> Artefact:
    """The train and eval examples (stage ``data``: ``train.jsonl``, ``eval.jsonl``)."""
    kit = ctx.settings("data").kit

    def build(tmp: Path) -> dict:
        sets = {"train": make_examples(kit.n_train, seed=ctx.seed, max_operand=kit.max_operand),
                "eval": make_examples(kit.n_eval, seed=ctx.seed + 1, max_operand=kit.max_operand)}
        for name, rows in sets.items():
            (tmp / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
        return {name: len(rows) for name, rows in sets.items()}

    return ctx.stage("data", build)


def read_examples(data: Artefact, split: str) -> list[dict]:
    return [json.loads(line) for line in data.path(f"{split}.jsonl").read_text().splitlines() if line.strip()]


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


def train(ctx: PaperRun, data: Artefact) -> Artefact:
    """SFT with TRL (loss on the completion only); the stage folder holds the saved model in ``model/``."""
    from datasets import Dataset
    from trl import SFTTrainer

    from longthink.models import save_pretrained
    from longthink.training import check_trained, trainer_config

    stage = ctx.settings("sft")

    def fit(out: Path) -> dict:
        set_seed(ctx.seed)
        rows = read_examples(data, "train")
        corpus = [r["prompt"][0]["content"] + " " + r["completion"][0]["content"] for r in rows]
        model, tokenizer = build_model(stage, corpus)
        train_ds = Dataset.from_list([{k: r[k] for k in ("prompt", "completion")} for r in rows])
        args = trainer_config(stage, out / "trainer", seed=ctx.seed)
        trainer = SFTTrainer(model=model, args=args, train_dataset=train_ds, processing_class=tokenizer)
        result = trainer.train()
        check_trained(stage.name, steps=result.global_step, loss=result.training_loss)
        save_pretrained(model, tokenizer, out / "model")
        return {"train_loss": result.training_loss, "steps": result.global_step}

    return ctx.stage("sft", fit, inputs={"data": data})


def evaluate(ctx: PaperRun, model: Artefact, data: Artefact) -> dict:
    """Greedy answers graded by ``longthink.grading.grade``; returns accuracy and a few samples."""
    import torch

    from longthink.grading import grade
    from longthink.models import load_causal_lm

    rows = read_examples(data, "eval")
    lm, tokenizer = load_causal_lm(str(model.path("model")))
    prompts = [tokenizer.apply_chat_template(r["prompt"], tokenize=False, add_generation_prompt=True) for r in rows]
    batch = tokenizer(prompts, return_tensors="pt", padding=True)
    with torch.no_grad():
        out = lm.generate(**batch, max_new_tokens=ctx.settings("eval").kit.max_new_tokens, do_sample=False,
                          pad_token_id=tokenizer.pad_token_id)
    texts = tokenizer.batch_decode(out[:, batch["input_ids"].shape[1]:], skip_special_tokens=True)
    correct = [grade(t, r["answer"]) for t, r in zip(texts, rows)]
    samples = [{"question": r["prompt"][0]["content"], "output": t, "gold": r["answer"], "correct": c}
               for r, t, c in list(zip(rows, texts, correct))[:8]]
    return {"accuracy": sum(correct) / len(correct), "samples": samples}
