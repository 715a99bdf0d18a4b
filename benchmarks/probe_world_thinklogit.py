"""Probe (issue 12): ThinkLogit and ThinkLogit-DPO on a world variant, scored on the dev split of training problems.

Runs the kit's ThinkLogit stages (data, guider SFT, rollouts, DPO) with the tiny profile and ``--target`` /
``--guider-base`` folders (e.g. saved by probe_world_base.py), into ``--out`` (its own run folder), then samples the
dev split (``data.n_dev_prompts`` training problems at every difficulty, never an evaluation question) with the
target alone, the guider alone, ThinkLogit and ThinkLogit-DPO, and classifies their errors. ``--set`` changes any
thinklogit recipe key (``stages.dpo.learning_rate=1e-3``). Prints accuracies by difficulty and the error table.

    .venv/bin/python benchmarks/probe_world_thinklogit.py --target T --guider-base B --out /tmp/probe_tl
"""

from __future__ import annotations

import argparse
import json
import time


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--target", required=True)
    ap.add_argument("--guider-base", required=True)
    ap.add_argument("--out", default="/tmp/probe_tl")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--log", default=None)
    args = ap.parse_args(argv)

    import pandas as pd

    from longthink.text_world import diagnosis as dg
    from longthink.thinklogit import pipeline
    from longthink.thinklogit.evaluate import summarize
    from longthink.thinklogit.systems import sample_system
    from longthink.training import torch_threads

    pd.set_option("display.width", 200)
    t0 = time.perf_counter()
    overrides = {"stages.models.target": args.target, "stages.models.guider_base": args.guider_base,
                 **dict(item.split("=", 1) for item in args.set)}
    ctx = pipeline.setup("tiny", seed=0, output_dir=args.out, overrides=overrides)
    data = pipeline.prepare_data(ctx)
    guider = pipeline.train_guider(ctx, data)
    models = pipeline.load_models(ctx, guider["path"])
    rollouts = pipeline.make_rollouts(ctx, data, models)
    dpo = pipeline.train_dpo(ctx, guider["path"], rollouts)
    models = pipeline.load_models(ctx, guider["path"], dpo["path"])
    ev = ctx.stage("eval").kit
    runs, summary = {}, {}
    with torch_threads(ctx.stage("models").kit.threads):
        for name in ("target", "guider", "thinklogit", "thinklogit_dpo"):
            samples, _ = sample_system(name, models, data["dev"], k=ev.k, settings=ev, seed=ctx.seed + 777,
                                       progress=False)
            s = summarize(samples)
            summary[name] = {"acc": round(s["accuracy"], 3), "tokens": round(s["mean_tokens"], 1),
                             **{f"d{d}": round(a, 3) for d, a in s["by_difficulty"].items()}}
            runs[name] = ([x.prompt.split("\n")[1] for x in samples], [x.text for x in samples],
                          [x.correct for x in samples])
    table = dg.error_table(runs)
    reads = pd.DataFrame({n: dg.read_table(q, t)["inputs"] for n, (q, t, _) in runs.items()}).round(3)
    print(pd.DataFrame(summary).T)
    print(table)
    print(reads)
    merged = {n: round(sum("," in line.split(":")[0] for t in txt for line in t.split("\n")) / max(1, len(txt)), 3)
              for n, (_, txt, _) in runs.items()}
    print("merged lines per output:", merged)
    print("pairs:", rollouts["pairs"], "dpo:", {k: v for k, v in dpo.items() if k not in ("history",)})
    for n in ("thinklogit", "thinklogit_dpo"):
        q, t, c = runs[n]
        for kind in dg.KINDS:
            for e in dg.examples(q, t, kind=kind, n=1, correct=c):
                print(n, kind, e["question"], e["why"], repr(e["output"][:100]))
    report = {"set": args.set, "summary": summary, "table": table.reset_index().to_dict("records"),
              "merged_per_output": merged, "seconds": round(time.perf_counter() - t0, 1)}
    print(json.dumps({k: report[k] for k in ("set", "seconds")}))
    if args.log:
        with open(args.log, "a") as fh:
            fh.write(json.dumps(report, default=str) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
