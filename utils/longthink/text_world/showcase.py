"""Tables, metrics and plots for the tiny world's notebook and benchmark (the notebook stays free of logic)."""

from __future__ import annotations

import random

from longthink.text_world.models import BUILD_ORDER
from longthink.text_world.settings import world_settings
from longthink.text_world.tasks import make_problem
from longthink.text_world.teacher import TeacherSettings, long_trace, s1_assistant, short_completion


def sample_table(profile: str = "tiny", *, seed: int = 0):
    """One problem per (domain, difficulty) with its gold answer, the short answer and a long trace."""
    import pandas as pd

    tasks = world_settings(profile).stage("tasks").kit
    rng = random.Random(seed)
    rows = []
    for domain in tasks.domains:
        for k in range(1, tasks.max_difficulty + 1):
            p = make_problem(rng, domain=domain, difficulty=k)
            trace = long_trace(p, rng, TeacherSettings(p_wrong_base=0, p_wrong_per_step=0))
            rows.append({"domain": domain, "difficulty": k, "question": p.question, "answer": p.answer,
                         "short (instruct style)": short_completion(p).replace("\n", " | "),
                         "long (teacher thinking)": trace["thinking"].replace("\n", " | ")})
    return pd.DataFrame(rows)


def pool_summary(pool):
    """Per difficulty: rows, share with a Wait re-check, share ending wrong, share garbled, mean trace chars."""

    df = pool.select_columns(["difficulty", "rechecks", "teacher_correct", "flaw", "thinking_trajectories"]).to_pandas()
    df["trace_chars"] = df["thinking_trajectories"].map(lambda t: len(t[0]))
    return df.groupby("difficulty").agg(
        rows=("difficulty", "size"),
        with_wait=("rechecks", lambda s: round(float((s > 0).mean()), 3)),
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
    """Per model: parameters, steps, seconds, steps/s and final loss as recorded when it was built."""
    import pandas as pd

    return pd.DataFrame(world["stats"]).T[["parameters", "steps", "seconds", "steps_per_second", "final_loss"]]


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


def accuracy_frame(results: dict):
    """Long table: model, difficulty, accuracy."""
    import pandas as pd

    return pd.DataFrame([{"model": name, "difficulty": k, "accuracy": acc}
                         for name, r in results.items() for k, acc in r.by_difficulty.items()])


def world_metrics(world: dict, results: dict) -> dict:
    """``world/build_seconds``, ``world/load_seconds``, ``world/<model>_acc_d<k>`` for every model, and the
    comparisons the bars need as numbers of their own: ``world/instruct_max_rise`` (the largest rise of the instruct
    model's accuracy from one difficulty to the next), ``world/instruct_drop`` (easiest minus hardest) and
    ``world/target_minus_guider_base_min`` (the smallest target - guider-base gap over the difficulties)."""
    metrics = {"world/build_seconds": world["build_seconds"], "world/load_seconds": world["seconds"]}
    for name, r in results.items():
        metrics.update({f"world/{name}_acc_d{k}": acc for k, acc in r.by_difficulty.items()})
        metrics[f"world/{name}_mean_tokens"] = r.mean_tokens
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
