"""s1's supervised fine-tuning with TRL's SFTTrainer, in-process or under ``accelerate launch``.

Text (``data/tokenization.py``): user = the raw question; assistant = ``<|im_start|>think`` NL thinking NL
``<|im_start|>answer`` NL attempt (``Answer: `` prefixed if absent), then the end-of-turn token from the chat
template. ``think``/``answer`` are plain words after the special ``<|im_start|>``: no new vocabulary.

Loss (``train/sft.py``): only on the assistant turn, i.e. thinking, answer *and* the final ``<|im_end|>`` (pad is a
different token, so the model learns to stop). TRL ≥ 0.20 removed the completion-only collator; here the data is
conversational prompt/completion (``completion_only_loss``) and the template's ``{% generation %}`` block drives
``assistant_only_loss``; both select the same tokens. No packing. Paper hyperparameters live in recipes/s1.yaml.

Launch on several processes (what the paper did with FSDP on 16 H100s)::

    accelerate launch --config_file recipes/accelerate/fsdp.yaml -m longthink.s1.sft \\
        --recipe recipes/s1.yaml --profile paper --train-data runs/paper/s1/curate/curated_1k.jsonl \\
        --output-dir runs/paper/s1/sft
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Sequence
from pathlib import Path

from longthink.formats import s1_assistant

TCC_TEMPLATE = "\nThink for up to {n} tokens."


def round_up_pow2(n: int) -> int:
    """The token-conditional budget of a trace: its length rounded up to a power of 2 (s1 App. E.1)."""
    return 1 << max(0, math.ceil(math.log2(max(1, n))))


def to_conversation(row: dict, *, thinking_column: str, attempt_column: str, control: str = "none",
                    system_prompt: str | None = None) -> dict:
    """One pool row as conversational prompt/completion; ``control="token"`` adds the TCC budget sentence."""
    thinking = row[thinking_column]
    if isinstance(thinking, list):  # s1K stores thinking_trajectories as a one-item list
        thinking = thinking[0]
    question = row["question"]
    if control == "token":
        question += TCC_TEMPLATE.format(n=round_up_pow2(int(row["trace_length"])))
    elif control != "none":
        raise ValueError(f"control must be 'none' or 'token', got {control!r}")
    prompt = ([{"role": "system", "content": system_prompt}] if system_prompt else []) + [
        {"role": "user", "content": question}
    ]
    return {"prompt": prompt,
            "completion": [{"role": "assistant", "content": s1_assistant(thinking, str(row[attempt_column]))}]}


def to_dataset(rows: Sequence[dict], **kwargs):
    from datasets import Dataset

    return Dataset.from_list([to_conversation(r, **kwargs) for r in rows])


def train_sft(stage, rows: Sequence[dict], output_dir: str | Path, *, profile: str | None, seed: int,
              model_ref: str | None = None, world_seed: int | None = None) -> dict:
    """Fine-tune ``stage.kit.model`` on ``rows`` with SFTTrainer; saves model + tokenizer in ``output_dir``.

    ``model_ref`` overrides the stage's model (a folder, a hub id or a world reference of seed ``world_seed``,
    by default ``seed``)."""
    world_seed = seed if world_seed is None else world_seed
    from trl import SFTTrainer

    from longthink.models import load_tokenizer, resolve_model
    from longthink.runs import set_seed
    from longthink.training import check_trained, trainer_config

    set_seed(seed)
    kit = stage.kit
    path = resolve_model(model_ref or kit.model, profile, world_seed)
    tokenizer = load_tokenizer(path)
    if kit.pad_token:
        tokenizer.pad_token = kit.pad_token
    if tokenizer.pad_token_id is None or tokenizer.pad_token_id == tokenizer.eos_token_id:
        raise ValueError(f"stage {stage.name!r}: the pad token must exist and differ from EOS ({tokenizer.eos_token!r}),"
                         " or the final end-of-turn token is masked and the model never learns to stop; set pad_token")
    dataset = to_dataset(rows, thinking_column=kit.thinking_column, attempt_column=kit.attempt_column,
                         control=kit.control, system_prompt=kit.system_prompt)
    output_dir = Path(output_dir)
    args = trainer_config(stage, output_dir / "trainer", seed=seed)
    trainer = SFTTrainer(model=path, args=args, train_dataset=dataset, processing_class=tokenizer)
    result = trainer.train()
    check_trained(stage.name, steps=result.global_step, loss=result.training_loss)
    trainer.save_model(str(output_dir / "model"))  # main process only; gathers FSDP / ZeRO-3 shards
    if trainer.is_world_process_zero():
        tokenizer.save_pretrained(str(output_dir / "model"))
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    return {"train_loss": float(result.training_loss), "steps": int(result.global_step), "n_examples": len(rows),
            "loss_curve": losses, "world_size": int(args.world_size)}


def read_rows(path: str | Path) -> list[dict]:
    """Training rows from a ``.jsonl`` file or a ``datasets`` folder saved with ``save_to_disk``."""
    path = Path(path)
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    if path.is_dir():
        from datasets import load_from_disk

        return [dict(r) for r in load_from_disk(str(path))]
    raise FileNotFoundError(f"training data not found (a .jsonl file or a saved dataset folder): {path}")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point for ``accelerate launch -m longthink.s1.sft``: train one SFT stage of a recipe."""
    from longthink.config import load_recipe
    from longthink.env import configure

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--recipe", default="recipes/s1.yaml")
    parser.add_argument("--profile", default=None, help="smoke | tiny | paper (default: the base recipe)")
    parser.add_argument("--stage", default="sft", help="the recipe stage to train (default: sft)")
    parser.add_argument("--train-data", required=True, help="a .jsonl of pool rows or a saved dataset folder")
    parser.add_argument("--output-dir", required=True, help="the model is saved in <output-dir>/model")
    parser.add_argument("--model", default=None, help="override the stage's model reference")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="recipe override, e.g. --set stages.sft.max_steps=2")
    args = parser.parse_args(argv)
    configure(args.profile)
    overrides = dict(item.split("=", 1) for item in args.set)
    recipe = load_recipe(args.recipe, profile=args.profile, overrides=overrides)
    result = train_sft(recipe.stage(args.stage), read_rows(args.train_data), args.output_dir, profile=args.profile,
                       seed=recipe.seed, model_ref=args.model)
    from accelerate import PartialState

    state = PartialState()
    if state.is_main_process:
        (Path(args.output_dir) / "train_result.json").write_text(json.dumps(result, indent=2) + "\n")
        print(json.dumps({k: v for k, v in result.items() if k != "loss_curve"}))
    # Close the process group before the interpreter exits: left open, a gloo thread of a rank can still be running at
    # shutdown and abort it ("terminate called without an active exception", exit -6), seen once under load.
    state.wait_for_everyone()
    state.destroy_process_group()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
