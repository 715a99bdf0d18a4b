"""Tables, metrics and plots for the tiny world's notebook and benchmark (the notebook stays free of logic)."""

from __future__ import annotations

import random

from longthink.text_world.models import BUILD_ORDER
from longthink.text_world.tasks import make_problem
from longthink.text_world.teacher import TeacherSettings, distill_trace, long_trace, s1_assistant, short_completion


def sample_table(profile: str = "tiny", *, seed: int = 0):
    """One problem per (domain, difficulty): its gold answer, the short answer, s1's teacher taking a cut-short
    chain up to its end, and the guider's teacher (one pass)."""
    import pandas as pd

    from longthink.text_world.settings import world_settings

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
    """Per model: parameters, steps, seconds, steps/s and final loss as recorded when it was built."""
    import pandas as pd

    return pd.DataFrame(world["stats"]).T[["parameters", "steps", "seconds", "steps_per_second", "final_loss"]]


def evaluate_world(profile: str = "tiny", *, progress: bool = True) -> dict:
    """Each world model's EvalResult on the by-difficulty evaluation set."""
    from tqdm.auto import tqdm

    from longthink.evaluation import evaluate_world_model

    return {name: evaluate_world_model(name, profile) for name in tqdm(BUILD_ORDER, desc="evaluate",
                                                                        disable=not progress)}


def reading_frame(profile: str = "tiny", *, n: int = 200, seed: int = 4242, progress: bool = True):
    """Each base model's input-reading accuracy per chain position on whole run drills (``Q Run:<start>.``) of
    ``n`` held-out chains of the hardest difficulty, greedy: the base skill that must saturate (>= 0.98)."""
    import pandas as pd
    from tqdm.auto import tqdm

    from longthink.generation import generate
    from longthink.text_world import diagnosis
    from longthink.text_world.models import load_world_model
    from longthink.text_world.pool import eval_sets
    from longthink.text_world.settings import world_settings
    from longthink.text_world.tasks import sample_problems
    from longthink.text_world.teacher import run_drill

    k = world_settings(profile).stage("tasks").kit.max_difficulty
    held = {r["question"] for rows in eval_sets(profile=profile, as_rows=True).values() for r in rows}
    problems = sample_problems(n, seed=seed, difficulties=[k], exclude=held)
    rng = random.Random(seed)
    prompts = [run_drill(p, rng, x=p.start)[0] for p in problems]
    columns = {}
    for name in tqdm(BUILD_ORDER, desc="read", disable=not progress):
        model, tok = load_world_model(name, profile)
        texts = generate(model, tok, prompts, max_new_tokens=10 * k + 8, batch_size=100).texts
        columns[name] = diagnosis.read_table(problems, texts)["inputs"]
    return pd.DataFrame(columns).rename_axis("chain position")


def accuracy_frame(results: dict):
    """Long table: model, difficulty, accuracy."""
    import pandas as pd

    return pd.DataFrame([{"model": name, "difficulty": k, "accuracy": acc}
                         for name, r in results.items() for k, acc in r.by_difficulty.items()])


def world_metrics(world: dict, results: dict, reading=None) -> dict:
    """``world/build_seconds``, ``world/load_seconds``, ``world/<model>_acc_d<k>`` for every model and, given the
    ``reading_frame``, ``world/<model>_read_acc_min`` (its worst chain position)."""
    metrics = {"world/build_seconds": world["build_seconds"], "world/load_seconds": world["seconds"]}
    for name, r in results.items():
        metrics.update({f"world/{name}_acc_d{k}": acc for k, acc in r.by_difficulty.items()})
        metrics[f"world/{name}_mean_tokens"] = r.mean_tokens
    if reading is not None:
        metrics.update({f"world/{name}_read_acc_min": float(reading[name].min()) for name in reading.columns})
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


def bar_checks(metrics: dict, *, max_difficulty: int, build_limit: float | None = None) -> dict[str, bool]:
    """Issue 3's and 12's bars on recorded metrics: what holds (True) and what does not (False).

    The build-time bar (a wall-clock figure that depends on the machine's load) is checked only when
    ``build_limit`` is given: the notebook reports it, tests never assert timings.
    """
    acc = {name: [metrics[f"world/{name}_acc_d{k}"] for k in range(1, max_difficulty + 1)] for name in BUILD_ORDER}
    ins = acc["instruct"]
    checks = {}
    if build_limit is not None:
        checks[f"build from nothing <= {build_limit:.0f} s"] = metrics["world/build_seconds"] <= build_limit
    return checks | {
        "instruct >= 0.90 at difficulty 1": ins[0] >= 0.9,
        f"instruct <= 0.50 at difficulty {max_difficulty}": ins[-1] <= 0.5,
        "instruct falls with difficulty (never rises by more than 0.05)": all(b <= a + 0.05 for a, b in zip(ins, ins[1:])),
        "instruct at the hardest below the easiest by >= 0.4": ins[0] - ins[-1] >= 0.4,
        "target >= guider base at every difficulty": all(t >= g for t, g in zip(acc["target"], acc["guider_base"])),
    }
