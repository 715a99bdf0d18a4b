"""Error kinds and read accuracy of recorded s1 / ThinkLogit runs (the diagnosis table of issue 12).

s1: the s1 model of a run folder decodes the hard set again with the run's evaluation settings (greedy, so the
outputs are those of the run) at every Wait x k, and each wrong answer is classified. ThinkLogit: the stored
samples of the eval stage (every system) are classified as they are. Prints the tables and the metrics.

    .venv/bin/python benchmarks/diagnose_runs.py --runs runs --profile tiny [--cache /work/cache-before]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path


def s1_outputs(run_dir: Path, profile: str, waits: list[int]) -> dict:
    from longthink.models import load_causal_lm
    from longthink.s1 import pipeline as s1
    from longthink.s1.budget_forcing import answer_text, chat_prompts, make_backend
    from longthink.grading import grade

    recipe = s1.load(profile)
    kit = recipe.stage("evaluate").kit
    model, tok = load_causal_lm(str(run_dir / "s1" / "sft" / "model"))
    backend = make_backend("hf", model, tok, batch_size=kit.batch_size)
    questions, golds = s1._questions(kit, profile)
    prompts = chat_prompts(tok, questions)
    runs = {}
    for k in waits:
        outs = backend.generate(prompts, s1.forcing_settings(kit, num_ignore=k), seed=recipe.seed)
        texts = [o.text for o in outs]
        runs[f"Wait x {k}"] = (questions, texts, [bool(grade(answer_text(o), g)) for o, g in zip(outs, golds)])
    return runs


def thinklogit_outputs(run_dir: Path) -> dict:
    path = run_dir / "thinklogit" / "eval" / "samples.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    runs = {}
    for system in dict.fromkeys(r["system"] for r in rows):
        rs = [r for r in rows if r["system"] == system]
        questions = [r["prompt"].split("\n")[1] for r in rs]
        runs[system] = (questions, [r["text"] for r in rs], [bool(r["correct"]) for r in rs])
    return runs


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", default="runs", help="the output dir holding <profile>/s1 and <profile>/thinklogit")
    parser.add_argument("--profile", default="tiny")
    parser.add_argument("--cache", default=None, help="LONGTHINK_CACHE of the build the runs used")
    parser.add_argument("--waits", default="0,1,2,4")
    parser.add_argument("--out", default=None, help="write the tables and metrics as JSON here")
    args = parser.parse_args(argv)
    if args.cache:
        os.environ["LONGTHINK_CACHE"] = args.cache
    import pandas as pd
    import torch

    from longthink.text_world import diagnosis as dg

    torch.set_num_threads(1)
    pd.set_option("display.width", 200)
    run_dir = Path(args.runs) / args.profile
    report = {}
    if (run_dir / "s1" / "sft" / "model").is_dir():
        runs = s1_outputs(run_dir, args.profile, [int(k) for k in args.waits.split(",")])
        table = dg.error_table(runs)
        q0, t0, c0 = runs["Wait x 0"]
        read = dg.read_table(q0, t0)
        metrics = dg.error_metrics(q0, t0, c0, prefix="s1/")
        print("## s1 model on the hard set: wrong answers by kind\n", table, "\n")
        print("## s1 model, Wait x 0: read accuracy per chain position\n", read, "\n")
        print(json.dumps(metrics, indent=1))
        for kind in dg.KINDS:
            for e in dg.examples(q0, t0, kind=kind, n=2, correct=c0):
                print(kind, "|", e["question"], "| gold", e["gold"], "|", e["why"], "|", repr(e["output"][:160]))
        report["s1"] = {"table": table.reset_index().to_dict("records"), "read": read.reset_index().to_dict("records"),
                        "metrics": metrics}
    if (run_dir / "thinklogit" / "eval" / "samples.jsonl").is_file():
        runs = thinklogit_outputs(run_dir)
        table = dg.error_table(runs)
        print("\n## ThinkLogit systems on by_difficulty (every sample): wrong answers by kind\n", table, "\n")
        reads = {name: dg.read_table(q, t)["inputs"] for name, (q, t, _) in runs.items()}
        print("## read accuracy (inputs) per chain position\n", pd.DataFrame(reads).round(3), "\n")
        for name, (q, t, c) in runs.items():
            for kind in dg.KINDS:
                for e in dg.examples(q, t, kind=kind, n=1, correct=c):
                    print(name, kind, "|", e["question"], "|", e["why"], "|", repr(e["output"][:140]))
        report["thinklogit"] = {"table": table.reset_index().to_dict("records"),
                                "read": pd.DataFrame(reads).reset_index().to_dict("records")}
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
