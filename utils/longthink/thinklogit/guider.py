"""The guider: the small guider base fine-tuned on long reasoning traces with TRL's SFTTrainer.

This is the kit's analog of DeepSeek-R1-Distill-Qwen-1.5B, which is Qwen2.5-Math-1.5B fine-tuned on long
reasoning traces from R1 (rejection-sampled for correctness). At paper scale that guider exists and this stage is
skipped (``stages.models.guider`` names it); in the tiny world the guider base learns the world's long traces
(``<|im_start|>think`` steps with "Wait" re-checks). The prompt is the run's own template, so the guider is
trained on exactly what it reads at decode time; the loss covers the completion only.
"""

from __future__ import annotations

from pathlib import Path


def train_guider(*, base: str, rows: list[dict], stage, profile: str | None, out_dir: Path, seed: int,
                 world_seed: int = 0) -> dict:
    """SFT ``base`` on ``rows`` (``prompt``/``completion`` strings); saves the model to ``out_dir/model``."""
    from datasets import Dataset
    from trl import SFTTrainer

    from longthink.models import load_causal_lm, save_pretrained
    from longthink.runs import set_seed
    from longthink.training import check_trained, trainer_config

    if not rows:
        raise ValueError("the guider SFT got no training rows: check stages.guider.n_traces and the data source")
    set_seed(seed)
    model, tokenizer = load_causal_lm(base, profile=profile, seed=world_seed)
    model.train()
    train = Dataset.from_list([{"prompt": r["prompt"], "completion": r["completion"]} for r in rows])
    args = trainer_config(stage, out_dir / "trainer", seed=seed)
    trainer = SFTTrainer(model=model, args=args, train_dataset=train, processing_class=tokenizer)
    result = trainer.train()
    check_trained(stage.name, steps=result.global_step, loss=result.training_loss)
    model.eval()
    save_pretrained(model, tokenizer, out_dir / "model")
    history = [{"step": h["step"], "loss": h["loss"]} for h in trainer.state.log_history if "loss" in h]
    return {"train_loss": result.training_loss, "steps": result.global_step, "rows": len(rows),
            "seconds": round(result.metrics.get("train_runtime", 0.0), 2), "history": history}
