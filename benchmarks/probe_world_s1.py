"""Probe (issue 12): s1 on a world variant, scored on a dev split of training problems (never the evaluation sets).

Builds the pool with the world's teacher settings (``--pool key=value`` changes them), curates it with the kit's s1
funnel, fine-tunes a given base model (``--instruct``, e.g. a folder saved by probe_world_base.py) with the tiny
profile's SFT settings on the curated and the random 1K, and decodes a dev split with budget forcing at each
Wait x k and the smallest budget. The dev split is 200 pool problems of the hard difficulties that no training set
of the probe holds. Difficulty filter shortcut (a probe only): a base model that answers in the short style solves
a question iff the short style's answer is right (the world's base models do exactly that once their steps
saturate; the notebook runs the real models). Prints the accuracy, the error kinds and read accuracy per position.

    .venv/bin/python benchmarks/probe_world_s1.py --instruct runs/probe/base_instruct --pool p_continue=0.25
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from probe_world_base import _value  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--instruct", required=True)
    ap.add_argument("--pool", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--sft", action="append", default=[], metavar="KEY=VALUE", help="s1 sft stage change")
    ap.add_argument("--eval", action="append", default=[], metavar="KEY=VALUE", help="s1 evaluate stage change")
    ap.add_argument("--sets", default="curated_1k,random_1k")
    ap.add_argument("--waits", default="0,1,2,4")
    ap.add_argument("--seed", type=int, default=0, help="world seed (pool, eval sets)")
    ap.add_argument("--dev-n", type=int, default=200)
    ap.add_argument("--work", default="/tmp/probe_s1")
    ap.add_argument("--log", default=None)
    args = ap.parse_args(argv)

    import pandas as pd
    import torch

    from longthink.grading import grade
    from longthink.models import load_causal_lm, load_tokenizer
    from longthink.s1 import pipeline as s1
    from longthink.s1.backends import make_backend
    from longthink.s1.budget_forcing import answer_text, chat_prompts
    from longthink.s1.curation import curate
    from longthink.s1.sft import train_sft
    from longthink.text_world import diagnosis as dg
    from longthink.text_world.pool import eval_sets, pool_rows
    from longthink.text_world.settings import world_settings
    from longthink.text_world.tasks import parse_question
    from longthink.text_world.teacher import TeacherSettings, short_completion

    torch.set_num_threads(1)
    pd.set_option("display.width", 200)
    t0 = time.perf_counter()
    ws = world_settings("tiny")
    pool_kit = dataclasses.replace(ws.stage("pool").kit, **{k: _value(v) for k, v in
                                                            (x.split("=", 1) for x in args.pool)})
    tasks_kit, ev_kit = ws.stage("tasks").kit, ws.stage("eval").kit
    teacher = TeacherSettings(**{f.name: getattr(pool_kit, f.name) for f in dataclasses.fields(TeacherSettings)})
    held = [r["question"] for rows in eval_sets(profile="tiny", seed=args.seed, as_rows=True).values() for r in rows]
    rows = pool_rows(size=pool_kit.pool_size, seed=args.seed, difficulties=range(1, tasks_kit.max_difficulty + 1),
                     domains=tasks_kit.domains, teacher=teacher, exclude=held)
    tok = load_tokenizer(args.instruct)

    def solves(row):
        try:
            p = parse_question(row["question"])
        except Exception:
            return False
        return grade(short_completion(p, short_steps=teacher.short_steps), row["answer"])

    from longthink.config import load_recipe, recipe_path

    recipe = load_recipe(recipe_path("s1"), profile="tiny", overrides={f"stages.sft.{k}": v for k, v in (x.split("=", 1) for x in args.sft)}
                     | {f"stages.evaluate.{k}": v for k, v in (x.split("=", 1) for x in args.eval)})
    ck = recipe.stage("curate").kit
    # the funnel's difficulty step needs one answer per quality-filtered row: compute them on the same rows
    from longthink.s1.curation import QUALITY_PATTERNS, decontaminate, quality_flags

    keep, _ = decontaminate([r["question"] for r in rows], held, n=ck.ngram)
    kept = [r for r, k in zip(rows, keep) if k]
    quality = [r for r in kept if not quality_flags(r, QUALITY_PATTERNS)]
    solved = [solves(r) for r in quality]
    result = curate(rows, eval_questions=held, difficulty_models=["a", "b"], tokenizer=tok, n_select=ck.n_select,
                    seed=ck.diversity_seed, domain_key=ck.domain_key, solved={"a": solved, "b": solved})
    used = {r["question"] for name in args.sets.split(",") for r in result.sets[name]}
    hard = set(ev_kit.hard_difficulties)
    dev = [r for r in reversed(rows) if r["difficulty"] in hard and not r["flaw"] and r["question"] not in used]
    dev = dev[: args.dev_n]
    questions, golds = [r["question"] for r in dev], [r["answer"] for r in dev]
    report = {"pool": {k: getattr(pool_kit, k) for k in ("p_rethink", "p_continue", "p_verify", "max_verify")},
              "sft": args.sft, "eval": args.eval,
              "instruct": args.instruct, "sets": {}}
    for name in args.sets.split(","):
        train = result.sets[name]
        passes = pd.Series([f"d{r['difficulty']}:{r['steps']}steps" for r in train]).value_counts().to_dict()
        out_dir = Path(args.work) / name
        stats = train_sft(recipe.stage("sft"), train, out_dir, profile="tiny", seed=0, model_ref=args.instruct)
        model, mtok = load_causal_lm(str(out_dir / "model"))
        kit = recipe.stage("evaluate").kit
        backend = make_backend("hf", model, mtok, batch_size=kit.batch_size)
        prompts = chat_prompts(mtok, questions)
        runs, accs = {}, {}
        settings = {f"Wait x {k}": s1.forcing_settings(kit, num_ignore=int(k)) for k in args.waits.split(",")}
        settings[f"budget {min(kit.budgets)}"] = s1.forcing_settings(kit, max_thinking_tokens=min(kit.budgets))
        for label, fs in settings.items():
            outs = backend.generate(prompts, fs, seed=0)
            correct = [bool(grade(answer_text(o), g)) for o, g in zip(outs, golds)]
            runs[label] = (questions, [o.text for o in outs], correct)
            accs[label] = {"acc": sum(correct) / len(correct),
                           "tokens": sum(o.thinking_tokens for o in outs) / len(outs)}
        table = dg.error_table(runs)
        read = dg.read_table(questions, runs["Wait x 0"][1])
        print(f"\n## {name}: passes in the training set {passes}; SFT {stats['steps']} steps, loss {stats['train_loss']:.3f}")
        print(table)
        print(read.T)
        print(repr(runs["Wait x 0"][1][0][:300]))
        print(repr(runs["Wait x 1"][1][0][:300]))
        report["sets"][name] = {"passes": passes, "train_loss": stats["train_loss"], "accs": accs,
                                "table": table.reset_index().to_dict("records"),
                                "read": read["inputs"].to_dict()}
    report["seconds"] = round(time.perf_counter() - t0, 1)
    print(json.dumps({k: v for k, v in report.items() if k != "sets"}))
    if args.log:
        with open(args.log, "a") as fh:
            fh.write(json.dumps(report, default=str) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
