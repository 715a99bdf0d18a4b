"""One GRPO training arm with TRL's ``GRPOTrainer`` (TACO's subclass), in-process or under ``accelerate launch``.

The paper's settings where TRL's defaults differ (card §6) are the recipe's: ``beta: 0.04`` (TRL: 0, which also
drops the reference model and makes RRS impossible), ``loss_type: grpo`` (TRL: dapo), ``max_completion_length:
2048`` (TRL: 512); G = 8, temperature 1.0, lr 1e-6, ε 0.2 and ``scale_rewards: group`` match. The reference model is
loaded by TRL from the policy folder (``beta > 0``). Rewards are summed with one weight each (``arms.reward_weights``).

Launch at paper scale (8 GPUs, ZeRO-3, as VLM-R1's ``run_grpo_rec.sh``)::

    accelerate launch --config_file recipes/accelerate/zero3.yaml -m longthink.taco.train \\
        --recipe recipes/taco.yaml --profile paper --arm taco \\
        --train-data runs/paper/taco/data/train --output-dir runs/paper/taco/arm_taco

Generation uses vLLM where it is installed (``generation_backend: auto`` sets TRL's ``use_vllm``; TRL imports vLLM
itself, only then), else transformers' ``generate``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from longthink.taco.arms import ARMS, Arm, reward_weights
from longthink.taco.frames import PixelBounds, set_pixel_bounds
from longthink.taco.rewards import RewardSettings, reward_functions


def vllm_installed() -> bool:
    """Whether vLLM can be imported (checked without importing it)."""
    return importlib.util.find_spec("vllm") is not None


def use_vllm(backend: str) -> bool:
    if backend == "vllm" and not vllm_installed():
        raise ImportError("grpo.generation_backend: vllm, but vLLM is not installed (pip install vllm on a GPU "
                          "node), or set generation_backend: auto")
    return backend == "vllm" or (backend == "auto" and vllm_installed())


def load_processor(path: str, *, bounds: PixelBounds):
    """The policy's processor, left-padded (TRL's prompts are left-padded: notes/trl-transformers.md §0.7), with the
    training pixel bounds. The tiny world's image-only processor, or ``AutoProcessor`` for a hub folder."""
    from longthink.processors import is_image_only_folder, load_image_only_processor

    if Path(path).is_dir() and is_image_only_folder(Path(path)):
        processor = load_image_only_processor(path)
    else:
        from transformers import AutoProcessor

        processor = AutoProcessor.from_pretrained(path, trust_remote_code=False)
    processor.tokenizer.padding_side = "left"
    return set_pixel_bounds(processor, bounds)


def build_judge(kit, *, profile: str | None):
    """The VQA consistency judge (``tac_vqa: judge``), or ``None`` when a rule stands in for it."""
    if kit.tac_vqa != "judge":
        return None
    from longthink.taco.judge import LLMJudge

    return LLMJudge(kit.tac_judge_model, backend=kit.tac_judge_backend, profile=profile)


def reward_settings(kit, *, bounds: PixelBounds, judge=None) -> RewardSettings:
    return RewardSettings(bounds=bounds, iou_plus=kit.iou_plus, tac_rec_mode=kit.tac_rec_mode,
                          tac_no_think_value=kit.tac_no_think_value, tac_vqa=kit.tac_vqa, judge=judge)


def hooks_for(kit, arm: Arm):
    from longthink.taco.trainer import TacoHooks

    return TacoHooks(rrs=arm.rrs, rrs_tau_mode=kit.rrs_tau_mode, rrs_k=kit.rrs_k, rrs_tau_min=kit.rrs_tau_min,
                     rrs_tau=kit.rrs_tau, rrs_window=kit.rrs_window, rrs_period=kit.rrs_period,
                     rrs_buffer_size=kit.rrs_buffer_size, ads=arm.ads, ads_reward=kit.ads_reward,
                     ads_p_lo=kit.ads_p_lo, ads_p_hi=kit.ads_p_hi, ads_w_min=kit.ads_w_min,
                     ads_warmup_epochs=kit.ads_warmup_epochs)


def train_arm(*, policy: str, dataset, stage, arm: Arm, bounds: PixelBounds, out_dir: str | Path, seed: int,
              profile: str | None = None, judge=None) -> dict[str, Any]:
    """Train one arm on ``dataset`` (a ``datasets.Dataset`` of ``longthink.taco.data`` rows) from the ``policy``
    folder; save the model and processor in ``out_dir/model``, TRL's log and every rollout beside it."""
    from longthink.runs import set_seed
    from longthink.taco.trainer import TacoGRPOTrainer
    from longthink.training import check_trained, trainer_config

    if "reward_weights" in stage.trainer:
        raise ValueError(f"stage {stage.name!r}: set tac_weight, not reward_weights (each arm builds its weights: "
                         "longthink.taco.arms.reward_weights)")
    set_seed(seed)
    kit = stage.kit
    out_dir = Path(out_dir)
    processor = load_processor(policy, bounds=bounds)
    settings = reward_settings(kit, bounds=bounds, judge=judge if judge is not None else build_judge(kit, profile=profile))
    args = trainer_config(stage, out_dir / "trainer", seed=seed,
                          reward_weights=reward_weights(list(kit.rewards), arm=arm, tac_weight=kit.tac_weight),
                          use_vllm=use_vllm(kit.generation_backend))
    trainer = TacoGRPOTrainer(model=policy, reward_funcs=reward_functions(list(kit.rewards), settings), args=args,
                              train_dataset=dataset, processing_class=processor, hooks=hooks_for(kit, arm))
    start = time.time()
    result = trainer.train()
    seconds = time.time() - start
    check_trained(stage.name, steps=result.global_step, loss=result.training_loss)
    trainer.save_model(str(out_dir / "model"))  # gathers ZeRO-3 shards on the main process
    summary: dict[str, Any] = {}
    if trainer.is_world_process_zero():
        processor.save_pretrained(str(out_dir / "model"))
        history = trainer.state.log_history
        (out_dir / "log_history.json").write_text(json.dumps(history, indent=1, default=float) + "\n")
        (out_dir / "rollouts.jsonl").write_text("".join(json.dumps(r) + "\n" for r in trainer.rollouts))
        releases = next((cb.releases for cb in trainer.callback_handler.callbacks if hasattr(cb, "releases")), [])
        summary = {"arm": arm.name, "steps": int(result.global_step), "train_loss": float(result.training_loss),
                   "seconds": round(seconds, 1), "n_prompts": len(dataset),
                   "rrs_parked": trainer.rollback.parked, "rrs_released": trainer.rollback.released,
                   "rrs_releases": releases,
                   "reentered": sum(c["reentered"] for c in trainer.curriculum.history) if trainer.curriculum else 0,
                   **training_figures(history, warmup_epochs=kit.ads_warmup_epochs)}
    return summary


def _mean(values: Sequence[float]) -> float | None:
    values = [float(v) for v in values if v is not None]
    return sum(values) / len(values) if values else None


def training_figures(history: Sequence[dict], *, warmup_epochs: int) -> dict[str, float | None]:
    """Means over the run of what the ablation compares; ``zero_std_frac_after_warmup`` covers the steps after the
    ADS warm-up (the same steps in every arm, so arms with and without ADS compare like for like)."""
    steps = [h for h in history if "reward" in h]
    after = [h for h in steps if h.get("epoch", 0) > warmup_epochs] or steps
    return {
        "reward_mean": _mean([h.get("reward") for h in steps]),
        "kl_mean": _mean([h.get("kl") for h in steps]),
        "zero_std_frac": _mean([h.get("frac_reward_zero_std") for h in steps]),
        "zero_std_frac_after_warmup": _mean([h.get("frac_reward_zero_std") for h in after]),
        "flagged_frac": _mean([h.get("rrs/flagged_frac") for h in steps]),
        "consistency_reward": _mean([h.get("rewards/consistency/mean") for h in steps]),
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point for ``accelerate launch -m longthink.taco.train``: one arm of a recipe's GRPO stage."""
    from datasets import load_from_disk

    from longthink.config import load_recipe, parse_assignments, stage_overrides
    from longthink.env import configure

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--recipe", default="recipes/taco.yaml")
    parser.add_argument("--profile", default=None, help="smoke | tiny | paper (default: the base recipe)")
    parser.add_argument("--arm", default="taco", choices=sorted(ARMS))
    parser.add_argument("--train-data", required=True, help="a datasets folder written by the data stage")
    parser.add_argument("--policy", default=None, help="the starting model (default: the recipe's models.policy)")
    parser.add_argument("--output-dir", required=True, help="the model is saved in <output-dir>/model")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--set", action="append", default=[], metavar="STAGE.KEY=VALUE")
    args = parser.parse_args(argv)
    configure(args.profile)
    overrides = stage_overrides(parse_assignments(args.set))
    if args.seed is not None:
        overrides["seed"] = args.seed
    recipe = load_recipe(args.recipe, profile=args.profile, overrides=overrides)
    models = recipe.stage("models").kit
    policy = args.policy or models.policy
    if policy.startswith("world"):
        from longthink.resolver import resolve_path

        policy = resolve_path(policy, profile=args.profile, seed=recipe.seed)
    summary = train_arm(policy=policy, dataset=load_from_disk(args.train_data), stage=recipe.stage("grpo"),
                        arm=ARMS[args.arm], bounds=PixelBounds(models.min_pixels, models.max_pixels),
                        out_dir=args.output_dir, seed=recipe.seed, profile=args.profile)
    if summary:
        (Path(args.output_dir) / "train_result.json").write_text(json.dumps(summary, indent=2) + "\n")
        print(json.dumps({k: v for k, v in summary.items() if not isinstance(v, list)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
