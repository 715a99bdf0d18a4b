"""The run's numbers: flat metrics, the findings paragraph (written from the metrics, never by hand), the tables the
notebook shows, and the paper's Tables 1-2 (``expected/paper/insight_v.json``) beside the tiny results.

Metric keys (``insight_v/<key>``): ``acc_<system>`` is accuracy on the reasoning questions (the several-step kinds:
the MMMU / MathVista analog) for ``base``, ``single_model``, ``two_agents`` and ``dpo_round_<r>``;
``acc_perception_<system>`` on the single-step, position and grounding kinds (the Table 2 analog);
``summary_acc_on_flawed`` / ``chain_acc_on_flawed``; ``paths_generated`` / ``paths_kept_reasoning`` /
``paths_kept_summary``; ``generation_chains_per_second``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

PAPER = "insight_v"


def system_accuracies(evaluation: dict, rounds: list[dict]) -> dict[str, dict]:
    """``{system: {"reasoning", "perception", "by_kind"}}`` for the base, single model, two agents, DPO rounds."""
    out = dict(evaluation["systems"])
    for r in rounds:
        out.update(r["eval"]["systems"])
    return out


def metrics(*, generated: dict, assessed: dict, evaluation: dict, rounds: list[dict], flawed: dict) -> dict:
    """The flat metrics of the run."""
    out: dict[str, float] = {}
    for system, s in system_accuracies(evaluation, rounds).items():
        if s.get("reasoning") is not None:
            out[f"acc_{system}"] = s["reasoning"]
        if s.get("perception") is not None:
            out[f"acc_perception_{system}"] = s["perception"]
    if flawed:
        out["summary_acc_on_flawed"] = flawed["summary_acc"]
        out["chain_acc_on_flawed"] = flawed["chain_acc"]
    out["paths_generated"] = len(generated["paths"])
    out["paths_kept_reasoning"] = len(assessed["reasoning"])
    out["paths_kept_summary"] = len(assessed["summary"])
    out["generation_chains_per_second"] = generated["chains_per_second"]
    for r in rounds:
        out[f"dpo_pairs_round_{r['round']}"] = r["train"]["pairs"]
    if rounds:
        last = rounds[-1]["round"]
        out["dpo_gain_over_two_agents"] = out[f"acc_dpo_round_{last}"] - out["acc_two_agents"]
    if "acc_two_agents" in out and "acc_single_model" in out:
        out["two_agents_gain_over_single"] = out["acc_two_agents"] - out["acc_single_model"]
        out["two_agents_gain_over_base"] = out["acc_two_agents"] - out["acc_base"]
    if flawed:
        out["summary_gain_on_flawed"] = out["summary_acc_on_flawed"] - out["chain_acc_on_flawed"]
    if "acc_perception_two_agents" in out and "acc_perception_base" in out:
        out["perception_change_two_agents"] = out["acc_perception_two_agents"] - out["acc_perception_base"]
    return {f"{PAPER}/{k}": float(v) for k, v in out.items()}


def findings(values: dict) -> str:
    """What this run showed, as markdown built from its metrics."""
    m = {k.split("/", 1)[1]: v for k, v in values.items()}
    rounds = sorted(int(k.rsplit("_", 1)[1]) for k in m if k.startswith("acc_dpo_round_"))
    lines = ["**This run.**"]
    if {"acc_base", "acc_single_model", "acc_two_agents"} <= set(m):
        lines.append(f"On the reasoning questions the base model scores {m['acc_base']:.3f}, one model fine-tuned on "
                     f"chain + answer {m['acc_single_model']:.3f}, the reasoning and summary agents together "
                     f"{m['acc_two_agents']:.3f} ({m['acc_two_agents'] - m['acc_single_model']:+.3f} over the single "
                     f"model, {m['acc_two_agents'] - m['acc_base']:+.3f} over the base; the paper, LLaVA-NeXT: 40.2 "
                     "-> 44.5 on its seven-benchmark average).")
    if rounds:
        accs = ", ".join(f"{m[f'acc_dpo_round_{r}']:.3f}" for r in rounds)
        lines.append(f"Iterative DPO on the reasoning agent, rounds {rounds[0]}-{rounds[-1]}: {accs} "
                     f"({m[f'acc_dpo_round_{rounds[-1]}'] - m['acc_two_agents']:+.3f} after the last round; the paper: "
                     "44.5 -> 47.2).")
    if "summary_acc_on_flawed" in m:
        gap = m["summary_acc_on_flawed"] - m["chain_acc_on_flawed"]
        verdict = ("it judges the chain rather than copying it" if gap > 0 else
                   "it does no better than copying the chain")
        lines.append(f"Given chains with one mistake, the summary agent answers {m['summary_acc_on_flawed']:.3f} "
                     f"right where the chains' own answers are right {m['chain_acc_on_flawed']:.3f}: {verdict} "
                     f"({gap:+.3f}; the paper trains it on flawed chains for this).")
    if "acc_perception_base" in m and "acc_perception_two_agents" in m:
        d = m["acc_perception_two_agents"] - m["acc_perception_base"]
        lines.append(f"Perception questions: base {m['acc_perception_base']:.3f}, two agents "
                     f"{m['acc_perception_two_agents']:.3f} ({d:+.3f}; the paper's Table 2: perception holds or improves).")
    if "paths_generated" in m:
        lines.append(f"Data: {m['paths_generated']:.0f} paths generated, {m['paths_kept_reasoning']:.0f} kept for the "
                     f"reasoning agent, {m['paths_kept_summary']:.0f} for the summary agent.")
    return " ".join(lines)


def accuracy_table(evaluation: dict, rounds: list[dict]):
    """Accuracy by question kind (rows) and system (columns), with the two group means."""
    import pandas as pd

    systems = system_accuracies(evaluation, rounds)
    table = pd.DataFrame({name: s["by_kind"] for name, s in systems.items()})
    for group in ("reasoning", "perception"):
        table.loc[f"[{group}]"] = {name: s.get(group) for name, s in systems.items()}
    return table


def long_accuracy(evaluation: dict, rounds: list[dict], groups: dict[str, list[str]]) -> list[dict]:
    """``[{system, kind, group, accuracy}]`` for seaborn."""
    rows = []
    group_of = {k: g for g, ks in groups.items() for k in ks}
    for name, s in system_accuracies(evaluation, rounds).items():
        for kind, acc in s["by_kind"].items():
            rows.append({"system": name, "kind": kind, "group": group_of.get(kind, "other"), "accuracy": acc})
    return rows


def examples(evaluation: dict, rounds: list[dict], questions: dict, *, n: int = 2,
             kinds: list[str] | None = None) -> list[dict]:
    """Side-by-side outputs of every system for ``n`` questions of the given kinds."""
    answers = list(evaluation["answers"]) + [a for r in rounds for a in r["eval"]["answers"]]
    ids = []
    for a in answers:
        q = questions["by_id"][a.question_id]
        if (kinds is None or q["kind"] in kinds) and a.question_id not in ids:
            ids.append(a.question_id)
        if len(ids) >= n:
            break
    rows = []
    for qid in ids:
        q = questions["by_id"][qid]
        for a in (a for a in answers if a.question_id == qid):
            rows.append({"question": q["question"], "gold": q["answer"], "system": a.system,
                         "chain": a.chain or "", "answer": a.answer, "correct": a.correct})
    return rows


def paper_comparison(values: dict, *, expected_dir: str | Path | None = None):
    """The card's Tables 1-2 (expected/paper/insight_v.json) beside this run's numbers where a key matches."""
    import pandas as pd

    from longthink.config import repo_root

    expected_dir = Path(expected_dir) if expected_dir else repo_root() / "expected"
    paper = json.loads((expected_dir / "paper" / f"{PAPER}.json").read_text())["metrics"]
    rows: list[dict[str, Any]] = []
    for key, spec in paper.items():
        rows.append({"metric": key.split("/", 1)[1], "paper": spec.get("value"), "source": spec.get("source", ""),
                     "kit (this run)": values.get(key)})
    return pd.DataFrame(rows).set_index("metric")
