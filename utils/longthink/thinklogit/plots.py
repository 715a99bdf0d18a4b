"""Plots for the ThinkLogit notebook (seaborn; matplotlib is imported inside each function)."""

from __future__ import annotations

SYSTEM_ORDER = ["target", "guider", "thinklogit", "thinklogit_dpo"]
LABELS = {"target": "target alone", "guider": "guider alone", "thinklogit": "ThinkLogit",
          "thinklogit_dpo": "ThinkLogit-DPO"}


def _sns():
    import matplotlib.pyplot as plt
    import seaborn as sns

    sns.set_theme(style="whitegrid", context="notebook")
    return plt, sns


def plot_loss(history: list[dict], *, title: str, ax=None):
    """Training loss over steps (guider SFT or DPO)."""
    import pandas as pd

    plt, sns = _sns()
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3))
    if history:
        sns.lineplot(data=pd.DataFrame(history), x="step", y="loss", marker="o", ax=ax)
    ax.set_title(title)
    return ax


def plot_pairs(counts: dict, *, ax=None):
    """Preference pairs per (chosen source > rejected source) combination: available vs kept."""
    import pandas as pd

    plt, sns = _sns()
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3))
    rows = [{"combination": c, "pairs": n, "set": kind} for kind in ("available", "kept") for c, n in counts[kind].items()]
    sns.barplot(data=pd.DataFrame(rows), x="combination", y="pairs", hue="set", ax=ax)
    ax.set_title("DPO pairs: chosen (correct) > rejected (incorrect)")
    return ax


def plot_systems(summaries: dict):
    """pass@1 per system, accuracy by difficulty, mean tokens and re-checks per output."""
    import pandas as pd

    plt, sns = _sns()
    names = [n for n in SYSTEM_ORDER if n in summaries] + [n for n in summaries if n not in SYSTEM_ORDER]
    fig, axes = plt.subplots(1, 3, figsize=(15, 3.8))
    acc = pd.DataFrame([{"system": LABELS.get(n, n), "pass@1": summaries[n]["accuracy"]} for n in names])
    sns.barplot(data=acc, x="system", y="pass@1", hue="system", ax=axes[0], legend=False)
    base = summaries.get("target", {}).get("accuracy")
    for i, n in enumerate(names):
        value = summaries[n]["accuracy"]
        label = f"{value:.3f}" + (f"\n{(value - base) / base:+.0%}" if base and n != "target" else "")
        axes[0].text(i, value, label, ha="center", va="bottom", fontsize=9)
    axes[0].set_title("pass@1 (mean over k samples)")
    axes[0].set_ylim(0, 1.15)
    axes[0].tick_params(axis="x", rotation=15)
    rows = [{"system": LABELS.get(n, n), "difficulty": int(d), "pass@1": a}
            for n in names for d, a in summaries[n]["by_difficulty"].items()]
    if rows:
        sns.lineplot(data=pd.DataFrame(rows), x="difficulty", y="pass@1", hue="system", marker="o", ax=axes[1])
    axes[1].set_title("pass@1 by difficulty (chain length)")
    tok = pd.DataFrame([{"system": LABELS.get(n, n), "value": summaries[n][key], "measure": label}
                        for n in names for key, label in (("mean_tokens", "mean tokens"),)]
                       + [{"system": LABELS.get(n, n), "value": 10 * summaries[n]["behaviour"]["recheck"],
                           "measure": "10 x re-checks ('Wait')"} for n in names])
    sns.barplot(data=tok, x="system", y="value", hue="measure", ax=axes[2])
    axes[2].set_title("output length and re-checks per output")
    axes[2].tick_params(axis="x", rotation=15)
    fig.tight_layout()
    return fig


def plot_sweep(points: list[dict]):
    """ThinkLogit accuracy and output length against alpha and against the warm-up length."""
    import pandas as pd

    plt, sns = _sns()
    df = pd.DataFrame(points)
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
    for ax, axis, label in ((axes[0], "alpha", "alpha (warm-up fixed)"), (axes[1], "warmup", "warm-up tokens (alpha fixed)")):
        part = df[df["axis"] == axis]
        sns.lineplot(data=part, x="value", y="accuracy", marker="o", ax=ax, color="C0", label="pass@1")
        twin = ax.twinx()
        sns.lineplot(data=part, x="value", y="mean_tokens", marker="s", ax=twin, color="C3", label="mean tokens")
        twin.grid(False)
        ax.set_xlabel(label)
        ax.legend(loc="upper left")
        twin.legend(loc="lower right")
    fig.tight_layout()
    return fig


def plot_timing(timing: dict, *, ax=None):
    """Milliseconds per generated token: target alone, ThinkLogit (and the naive no-cache loop)."""
    import pandas as pd

    plt, sns = _sns()
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3))
    rows = [{"decoding": k.replace("_s_per_token", ""), "ms per token": 1000 * v} for k, v in timing.items()
            if k.endswith("_s_per_token")]
    sns.barplot(data=pd.DataFrame(rows), x="decoding", y="ms per token", hue="decoding", ax=ax, legend=False)
    ax.set_title(f"overhead ratio {timing['overhead_ratio']:.2f} (batch {timing['batch']})")
    return ax
