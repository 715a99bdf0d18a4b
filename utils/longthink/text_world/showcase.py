"""Tables, metrics and plots for the tiny world's notebook and benchmark (the notebook stays free of logic)."""

from __future__ import annotations

import random

from longthink.text_world.models import BUILD_ORDER
from longthink.text_world.settings import world_settings
from longthink.text_world.tasks import make_problem
from longthink.text_world.teacher import TeacherSettings, distill_trace, long_trace, s1_assistant, short_completion


def sample_table(profile: str = "tiny", *, seed: int = 0):
    """One problem per (domain, difficulty): its gold answer, the short answer, s1's teacher taking a cut-short
    chain up to its end, and the guider's teacher (one pass)."""
    import pandas as pd

    tasks = world_settings(profile).stage("tasks").kit
    rng = random.Random(seed)
    rows = []
    for domain in tasks.domains:
        for k in range(1, tasks.max_difficulty + 1):
            p = make_problem(rng, domain=domain, difficulty=k)
            trace = long_trace(p, rng, TeacherSettings(p_rethink=1, p_continue=1, p_verify=0))
            distill = distill_trace(p, rng, TeacherSettings())
            rows.append({"domain": domain, "difficulty": k, "question": p.question, "answer": p.answer,
                         "short (instruct style)": short_completion(p).replace("\n", " | "),
                         "s1's teacher (taken up to the end)": trace["thinking"].replace("\n", " | "),
                         "guider's teacher": distill["thinking"].replace("\n", " | ")})
    return pd.DataFrame(rows)


def pool_summary(pool):
    """Per difficulty: rows, share of s1's traces that take a cut-short chain up again (``Wait``), share that reach
    the end, share ending wrong, share garbled, mean trace characters."""
    import pandas as pd  # noqa: F401  (pandas backs the grouped frame)

    df = pool.select_columns(["difficulty", "steps", "rechecks", "teacher_correct", "flaw",
                              "thinking_trajectories"]).to_pandas()
    df["trace_chars"] = df["thinking_trajectories"].map(lambda t: len(t[0]))
    df["taken_up"] = df["thinking_trajectories"].map(lambda t: "...\nWait" in t[0])
    df["finished"] = df["steps"] == df["difficulty"]
    return df.groupby("difficulty").agg(
        rows=("difficulty", "size"),
        with_wait=("rechecks", lambda s: round(float((s > 0).mean()), 3)),
        taken_up=("taken_up", lambda s: round(float(s.mean()), 3)),
        finished=("finished", lambda s: round(float(s.mean()), 3)),
        teacher_wrong=("teacher_correct", lambda s: round(float((~s).mean()), 3)),
        garbled=("flaw", lambda s: round(float((s != "").mean()), 3)),
        trace_chars=("trace_chars", "mean"),
    )


def example_traces(pool, *, n: int = 3, with_wait: bool = True) -> str:
    """A few correct s1-format assistant turns from the pool, as text (those with a "Wait" re-check by default)."""
    out = []
    for row in pool:
        if row["flaw"] or not row["teacher_correct"] or (with_wait and not row["rechecks"]):
            continue
        out.append(f"Q: {row['question']}  (gold {row['answer']})\n"
                   + s1_assistant(row["thinking_trajectories"][0], row["attempt"]))
        if len(out) == n:
            break
    return "\n\n".join(out)


def build_table(world: dict):
    """Per model, as recorded when it was built: parameters, steps, seconds, steps/s, final loss, and its last
    saturation check (worst chain position read right on dev run drills, dev chat answers right, passed; empty
    for a model built without checks)."""
    import pandas as pd

    rows = {}
    for name, st in world["stats"].items():
        last = (st.get("saturation_checks") or [{}])[-1]
        rows[name] = {**{k: st.get(k) for k in ("parameters", "steps", "seconds", "steps_per_second", "final_loss")},
                      "checks": len(st.get("saturation_checks") or []), "read_min": last.get("read_min"),
                      "chat": last.get("chat"), "saturated": st.get("saturated")}
    return pd.DataFrame(rows).T


def evaluate_world_model(name: str, profile: str = "tiny", seed: int | None = None, *,
                         split: str = "by_difficulty", progress: bool = False):
    """Accuracy of world model ``name`` on the world's ``by_difficulty`` (or ``hard``) evaluation set."""
    from longthink.evaluation import evaluate
    from longthink.text_world.models import load_world_model
    from longthink.text_world.pool import eval_sets

    sets = eval_sets(profile=profile, seed=seed)
    if split not in sets:
        raise ValueError(f"unknown evaluation split {split!r}; known: {sorted(sets)}")
    ev = world_settings(profile, seed).stage("eval").kit
    model, tokenizer = load_world_model(name, profile, seed)
    return evaluate(model, tokenizer, sets[split], max_new_tokens=ev.max_new_tokens, batch_size=ev.batch_size,
                    progress=progress)


def evaluate_world(profile: str = "tiny", seed: int | None = None, *, progress: bool = True) -> dict:
    """Each world model's EvalResult on the by-difficulty evaluation set."""
    from tqdm.auto import tqdm

    return {name: evaluate_world_model(name, profile, seed) for name in tqdm(BUILD_ORDER, desc="evaluate",
                                                                              disable=not progress)}


def reading_frame(profile: str = "tiny", seed: int | None = None, *, n: int = 200, sample_seed: int = 4242,
                  progress: bool = True):
    """Each base model's input-reading accuracy per chain position on whole run drills (``Q Run:<start>.``) of
    ``n`` held-out chains of the hardest difficulty, greedy: the base skill that must saturate (>= 0.98)."""
    import pandas as pd
    from tqdm.auto import tqdm

    from longthink.generation import generate
    from longthink.text_world import diagnosis
    from longthink.text_world.models import load_world_model
    from longthink.text_world.pool import eval_sets
    from longthink.text_world.pretrain import run_tokens
    from longthink.text_world.settings import world_settings
    from longthink.text_world.tasks import sample_problems
    from longthink.text_world.teacher import run_drill

    k = world_settings(profile, seed).stage("tasks").kit.max_difficulty
    held = {r["question"] for rows in eval_sets(profile=profile, seed=seed, as_rows=True).values() for r in rows}
    problems = sample_problems(n, seed=sample_seed, difficulties=[k], exclude=held)
    rng = random.Random(sample_seed)
    prompts = [run_drill(p, rng, x=p.start)[0] for p in problems]
    columns = {}
    for name in tqdm(BUILD_ORDER, desc="read", disable=not progress):
        model, tok = load_world_model(name, profile, seed)
        texts = generate(model, tok, prompts, max_new_tokens=run_tokens(k), batch_size=100).texts
        columns[name] = diagnosis.read_table(problems, texts)["inputs"]
    return pd.DataFrame(columns).rename_axis("chain position")


def accuracy_frame(results: dict):
    """Long table: model, difficulty, accuracy."""
    import pandas as pd

    return pd.DataFrame([{"model": name, "difficulty": k, "accuracy": acc}
                         for name, r in results.items() for k, acc in r.by_difficulty.items()])


def world_metrics(world: dict, results: dict, reading=None) -> dict:
    """``world/build_seconds``, ``world/load_seconds``, ``world/<model>_acc_d<k>`` for every model, the
    comparisons the bars need as numbers of their own: ``world/instruct_max_rise`` (the largest rise of the instruct
    model's accuracy from one difficulty to the next), ``world/instruct_drop`` (easiest minus hardest) and
    ``world/target_minus_guider_base_min`` (the smallest target - guider-base gap over the difficulties), and, given
    the ``reading_frame``, ``world/<model>_read_acc_min`` (its worst chain position)."""
    metrics = {"world/build_seconds": world["build_seconds"], "world/load_seconds": world["seconds"]}
    for name, r in results.items():
        metrics.update({f"world/{name}_acc_d{k}": acc for k, acc in r.by_difficulty.items()})
        metrics[f"world/{name}_mean_tokens"] = r.mean_tokens
    if reading is not None:
        metrics.update({f"world/{name}_read_acc_min": float(reading[name].min()) for name in reading.columns
                        if reading[name].notna().any()})
    if "instruct" in results:
        ins = [acc for _, acc in sorted(results["instruct"].by_difficulty.items())]
        metrics["world/instruct_max_rise"] = max((b - a for a, b in zip(ins, ins[1:])), default=0.0)
        metrics["world/instruct_drop"] = ins[0] - ins[-1]
    if "target" in results and "guider_base" in results:
        gaps = [acc - results["guider_base"].by_difficulty[k] for k, acc in results["target"].by_difficulty.items()]
        metrics["world/target_minus_guider_base_min"] = min(gaps)
    return metrics


def plot_accuracy(frame, *, title: str = "Accuracy by difficulty (greedy, short reasoning)"):
    """Seaborn line plot of accuracy against difficulty, one line per model."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    fig, ax = plt.subplots(figsize=(6, 3.5))
    sns.lineplot(data=frame, x="difficulty", y="accuracy", hue="model", marker="o", ax=ax)
    ax.axhline(0.1, ls=":", c="grey", label="chance")
    ax.set(ylim=(0, 1.02), title=title, xlabel="difficulty (operations in the chain)")
    ax.legend()
    fig.tight_layout()
    return fig
