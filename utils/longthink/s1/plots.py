"""s1's figures: accuracy against average thinking tokens for every method (Fig. 4/5 style), the Wait x k
extrapolation curve (Table 5 / Fig. 4a), training loss, and the Table 2 ablation bars. Seaborn, imported lazily."""

from __future__ import annotations

from collections.abc import Sequence


def _axes(ax, size=(6.5, 4.0)):
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=size)
    return ax


def scaling_plot(runs: Sequence[dict], *, ax=None, title: str = "Test-time scaling on the hard set"):
    """One line per method: accuracy (%) against average thinking tokens on a log2 axis."""
    import pandas as pd
    import seaborn as sns

    ax = _axes(ax)
    df = pd.DataFrame([{"method": r["method"], "tokens": max(r["avg_thinking_tokens"], 1.0),
                        "accuracy (%)": 100 * r["accuracy"]} for r in runs])
    df = df.sort_values(["method", "tokens"])
    sns.lineplot(data=df, x="tokens", y="accuracy (%)", hue="method", style="method", markers=True, dashes=False,
                 sort=False, ax=ax)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("average thinking tokens (log2)")
    ax.set_title(title)
    ax.legend(fontsize=8)
    return ax


def wait_plot(evaluation: dict, *, ax=None):
    """Accuracy and thinking tokens against the number of times the end of thinking was suppressed."""
    import pandas as pd
    import seaborn as sns

    ax = _axes(ax, (5.0, 3.5))
    df = pd.DataFrame([{"Wait x k": r["waits"], "accuracy (%)": 100 * r["accuracy"],
                        "thinking tokens": r["avg_thinking_tokens"]}
                       for r in evaluation["runs"] if r["method"] == "Wait x k"])
    sns.lineplot(data=df, x="Wait x k", y="accuracy (%)", marker="o", ax=ax, color="C0")
    twin = ax.twinx()
    sns.lineplot(data=df, x="Wait x k", y="thinking tokens", marker="s", ax=twin, color="C1")
    twin.set_ylabel("avg thinking tokens", color="C1")
    ax.set_title("Extrapolating with Wait (greedy, auto budget)")
    return ax


def loss_plot(results: dict[str, dict], *, ax=None):
    """Training loss (every ``logging_steps``) of each SFT run."""
    import pandas as pd
    import seaborn as sns

    ax = _axes(ax, (5.5, 3.5))
    rows = [{"run": name, "log point": i, "loss": v} for name, r in results.items()
            for i, v in enumerate(r.get("loss_curve", []))]
    if rows:
        sns.lineplot(data=pd.DataFrame(rows), x="log point", y="loss", hue="run", ax=ax)
    ax.set_title("SFT training loss")
    return ax


def ablation_plot(accuracies: dict[str, dict], *, ax=None):
    """Table 2 as bars: accuracy on the hard set of the model trained on each selection."""
    import pandas as pd
    import seaborn as sns

    ax = _axes(ax, (5.5, 3.5))
    df = pd.DataFrame([{"training set": k, "accuracy (%)": 100 * v["accuracy"]} for k, v in accuracies.items()])
    sns.barplot(data=df, x="training set", y="accuracy (%)", ax=ax, hue="training set", legend=False)
    ax.set_title("Data selection ablations (Table 2 analog)")
    return ax
