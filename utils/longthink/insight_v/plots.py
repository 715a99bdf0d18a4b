"""Seaborn figures for the Insight-V notebook; each returns the figure (the notebook shows it and says what to see)."""

from __future__ import annotations

from collections.abc import Sequence


def _sns():
    import matplotlib.pyplot as plt
    import seaborn as sns

    sns.set_theme(style="whitegrid", context="notebook")
    return plt, sns


def plot_filters(filters: Sequence[dict]):
    """Paths kept by each filter of the assessment."""
    import pandas as pd

    plt, sns = _sns()
    fig, ax = plt.subplots(figsize=(7, 3.2))
    sns.barplot(data=pd.DataFrame(filters), y="filter", x="paths", ax=ax, color="#4c72b0")
    ax.set_title("paths kept by each filter")
    fig.tight_layout()
    return fig


def plot_tiers(tiers: Sequence[dict]):
    """Paths by tier (High / Mid / Low) and answer verdict."""
    import pandas as pd

    plt, sns = _sns()
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    sns.barplot(data=pd.DataFrame(tiers), x="tier", y="paths", hue="answer", ax=ax,
                palette={"correct": "#55a868", "wrong": "#c44e52"})
    ax.set_title("path scores: tier by answer verdict")
    fig.tight_layout()
    return fig


def plot_losses(histories: dict[str, Sequence[dict]]):
    """Training loss of each agent (one line per agent)."""
    import pandas as pd

    plt, sns = _sns()
    rows = [{"agent": name, "step": h["step"], "loss": h["loss"]} for name, hist in histories.items() for h in hist]
    fig, ax = plt.subplots(figsize=(6, 3.2))
    if rows:
        sns.lineplot(data=pd.DataFrame(rows), x="step", y="loss", hue="agent", ax=ax)
    ax.set_title("SFT loss (completion tokens only)")
    fig.tight_layout()
    return fig


def plot_accuracy(rows: Sequence[dict]):
    """Accuracy by question kind for every system, reasoning and perception kinds side by side."""
    import pandas as pd

    plt, sns = _sns()
    data = pd.DataFrame(rows)
    groups = [g for g in ("reasoning", "perception", "other") if g in set(data["group"])]
    fig, axes = plt.subplots(1, len(groups), figsize=(6.5 * len(groups), 3.8), squeeze=False)
    for ax, group in zip(axes[0], groups):
        sns.barplot(data=data[data["group"] == group], x="kind", y="accuracy", hue="system", ax=ax)
        ax.set_title(f"{group} questions")
        ax.set_ylim(0, 1)
        ax.tick_params(axis="x", rotation=30)
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_systems(values: dict):
    """The headline: reasoning and perception accuracy of base, single model, two agents and each DPO round."""
    import pandas as pd

    plt, sns = _sns()
    m = {k.split("/", 1)[1]: v for k, v in values.items()}
    order = ["base", "single_model", "two_agents"] + sorted(
        (k[len("acc_"):] for k in m if k.startswith("acc_dpo_round_")), key=lambda s: int(s.rsplit("_", 1)[1]))
    rows = []
    for system in order:
        for group, key in (("reasoning", f"acc_{system}"), ("perception", f"acc_perception_{system}")):
            if key in m:
                rows.append({"system": system, "questions": group, "accuracy": m[key]})
    fig, ax = plt.subplots(figsize=(7.5, 3.6))
    sns.barplot(data=pd.DataFrame(rows), x="system", y="accuracy", hue="questions", ax=ax)
    ax.set_ylim(0, 1)
    ax.set_title("Insight-V in the tiny world")
    ax.tick_params(axis="x", rotation=20)
    fig.tight_layout()
    return fig


def plot_flawed(flawed: dict):
    """On chains with one mistake: how often the chain's own answer and the summary agent's answer are right."""
    import pandas as pd

    plt, sns = _sns()
    rows = [{"error": e, "answer from": who, "accuracy": v[who]}
            for e, v in flawed["by_error"].items() for who in ("chain", "summary")]
    fig, ax = plt.subplots(figsize=(6.5, 3.2))
    sns.barplot(data=pd.DataFrame(rows), x="error", y="accuracy", hue="answer from", ax=ax)
    ax.set_ylim(0, 1)
    ax.set_title("flawed chains: the chain's answer vs the summary agent's")
    fig.tight_layout()
    return fig


def plot_dpo(rounds: Sequence[dict]):
    """Per DPO round: pairs built, accuracy of the sampled chains, DPO loss."""
    import pandas as pd

    plt, sns = _sns()
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
    info = pd.DataFrame([{"round": r["round"], "pairs": r["train"]["pairs"],
                          "sampled accuracy": r["train"]["sampled_accuracy"]} for r in rounds])
    sns.barplot(data=info, x="round", y="pairs", ax=axes[0], color="#4c72b0")
    ax2 = axes[0].twinx()
    ax2.plot(range(len(info)), info["sampled accuracy"], "o-", color="#c44e52")
    ax2.set_ylim(0, 1)
    ax2.set_ylabel("accuracy of sampled chains")
    axes[0].set_title("pairs per round")
    hist = [{"round": r["round"], "step": h["step"], "loss": h["loss"]} for r in rounds for h in r["train"]["history"]]
    if hist:
        sns.lineplot(data=pd.DataFrame(hist), x="step", y="loss", hue="round", ax=axes[1])
    axes[1].set_title("DPO + NLL loss")
    fig.tight_layout()
    return fig
