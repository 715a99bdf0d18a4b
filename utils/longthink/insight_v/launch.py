"""Train one Insight-V agent outside the notebook, e.g. on GPU nodes under ``accelerate launch`` with DeepSpeed ZeRO-3.

The data stages (questions, generation, assessment) are built once, by the notebook or ``longthink run insight_v``;
this entry point reads them from the run folder and runs one SFT stage on every process of the launch (the stage
runner's lock would let only one process train, so, as ``longthink.s1.sft``, it writes into ``--output-dir``)::

    accelerate launch --config_file recipes/accelerate/zero3.yaml -m longthink.insight_v.launch \\
        --profile paper --stage reason_sft --output-dir runs/paper/insight_v/reason_sft_launch

DeepSpeed is imported by accelerate only when its config asks for it; nothing here imports it.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

SFT_STAGES = ("reason_sft", "summary_sft", "single_sft")


def build_rows(ctx, stage: str) -> list[dict]:
    """The stage's SFT rows from the run's (cached) question and assessment stages."""
    from longthink.insight_v import pipeline
    from longthink.insight_v.agents import rows_for

    if stage not in SFT_STAGES:
        raise ValueError(f"--stage must be one of {list(SFT_STAGES)}, got {stage!r}")
    questions = pipeline.prepare_questions(ctx)
    assessed = pipeline.assess(ctx, questions, pipeline.generate(ctx, questions))
    kit = ctx.settings(stage).kit
    general, _ = pipeline._general_rows(ctx, kit)
    paths = assessed["summary"] if kit.role == "summary" else assessed["reasoning"]
    return rows_for(kit.role, paths, questions["by_id"], questions["image_fn"], kit, general=general)


def open_run(profile: str, *, seed: int, runs: str, overrides: dict):
    """The paper's run context *without* starting a run (``open_paper`` would mark the notebook's run as running)."""
    from longthink.config import load_recipe, recipe_path, stage_overrides
    from longthink.env import configure
    from longthink.runs import PaperRun, Run, set_seed

    configure(profile)
    recipe = load_recipe(recipe_path("insight_v"), profile=profile,
                         overrides={"seed": seed, **stage_overrides(overrides)})
    set_seed(recipe.seed)
    return PaperRun("insight_v", recipe, profile, recipe.seed, Run(profile, "insight_v", root=runs))


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point for ``accelerate launch -m longthink.insight_v.launch``: train one agent."""
    from longthink.config import parse_assignments
    from longthink.insight_v import pipeline
    from longthink.insight_v.llava import prepare
    from longthink.insight_v.vlm import train_sft

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profile", default="paper", help="smoke | tiny | paper")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--runs", default="runs", help="the runs folder holding runs/<profile>/insight_v/")
    parser.add_argument("--stage", required=True, choices=SFT_STAGES)
    parser.add_argument("--output-dir", required=True, help="the model is saved in <output-dir>/model")
    parser.add_argument("--set", action="append", default=[], metavar="STAGE.KEY=VALUE",
                        help="recipe override, e.g. --set reason_sft.max_steps=2")
    args = parser.parse_args(argv)
    ctx = open_run(args.profile, seed=args.seed, runs=args.runs, overrides=parse_assignments(args.set))
    rows = build_rows(ctx, args.stage)
    models = ctx.settings("models").kit
    kit = ctx.settings(args.stage).kit
    base = ctx.resolve(models.base)
    out = Path(args.output_dir)
    result = train_sft(base=base.path, rows=rows, stage=ctx.settings(args.stage), out_dir=out, seed=ctx.seed,
                       freeze_vision=models.freeze_vision_tower, dtype=pipeline._dtype(ctx),
                       prepare=(lambda m, p: prepare(m, p, role=kit.role)) if models.add_think_tokens else None)
    from accelerate import PartialState

    if PartialState().is_main_process:
        (out / "train_result.json").write_text(json.dumps(result, indent=2) + "\n")
        print(json.dumps({k: v for k, v in result.items() if k != "history"}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
