"""Plots for the TACO notebook (seaborn; matplotlib is imported inside each function)."""

from __future__ import annotations

from collections.abc import Sequence

from longthink.taco.arms import ARMS

CURVES = {  # TRL / TacoGRPOTrainer log key -> panel title
    "reward": "total reward",
    "kl": "KL to the reference (per token)",
    "rewards/consistency/mean": "consistency (TAC) of the samples",
    "frac_reward_zero_std": "groups with zero reward spread",
    "rrs/flagged_frac": "groups over the RRS threshold",
}


def _sns():
    import matplotlib.pyplot as plt
    import seaborn as sns

    sns.set_theme(style="whitegrid", context="notebook")
    return plt, sns


def curves_frame(arms: dict[str, dict]):
    """Long table (arm, step, epoch, metric, value) of every arm's training log."""
    import pandas as pd

    rows = []
    for name, arm in arms.items():
        for h in arm["history"]:
            if "step" not in h or "reward" not in h:
                continue
            for key in CURVES:
                if h.get(key) is not None:
                    rows.append({"arm": ARMS[name].label, "step": h["step"], "epoch": h.get("epoch"),
                                 "metric": CURVES[key], "value": float(h[key])})
    return pd.DataFrame(rows)


def plot_curves(arms: dict[str, dict], *, smooth: int = 3):
    """One panel per training curve, one line per arm (a rolling mean over ``smooth`` logged steps)."""
    plt, sns = _sns()
    frame = curves_frame(arms)
    fig, axes = plt.subplots(1, len(CURVES), figsize=(4.2 * len(CURVES), 3.4))
    if not frame.empty and smooth > 1:
        frame["value"] = frame.groupby(["arm", "metric"])["value"].transform(
            lambda s: s.rolling(smooth, min_periods=1).mean())
    for ax, title in zip(axes, CURVES.values()):
        part = frame[frame["metric"] == title] if not frame.empty else frame
        if not part.empty:
            sns.lineplot(data=part, x="step", y="value", hue="arm", ax=ax, legend=ax is axes[-1])
        ax.set_title(title, fontsize=10)
        ax.set_ylabel("")
    if axes[-1].get_legend() is not None:
        sns.move_legend(axes[-1], "upper left", bbox_to_anchor=(1.02, 1), fontsize=8)
    fig.tight_layout()
    return fig


def plot_ablation(table: Sequence[dict]):
    """REC Acc@0.5, VQA accuracy and the consistency rate per system (the ablation table as bars)."""
    import pandas as pd

    plt, sns = _sns()
    cols = ["REC Acc@0.5", "VQA acc", "consistency", "OOD acc", "shifted-res acc"]
    rows = [{"system": r["system"], "metric": c, "value": r[c]} for r in table for c in cols if r.get(c) is not None]
    fig, ax = plt.subplots(figsize=(12, 3.8))
    sns.barplot(data=pd.DataFrame(rows), x="metric", y="value", hue="system", ax=ax)
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("")
    ax.set_title("ablation: the base VLM, GRPO, then TACO's parts one at a time (evaluation split unless noted)")
    sns.move_legend(ax, "upper left", bbox_to_anchor=(1.01, 1), fontsize=8)
    fig.tight_layout()
    return fig


def plot_kl(rollouts: Sequence[dict], *, title: str = "per-completion KL (k3) to the reference"):
    """Every completion's KL by training step; flagged groups (over τ) in a second colour."""
    import pandas as pd

    plt, sns = _sns()
    frame = pd.DataFrame([{"step": r["step"], "KL": r["kl"], "flagged by RRS": bool(r["flagged"])}
                          for r in rollouts if r.get("kl") is not None])
    fig, ax = plt.subplots(figsize=(7, 3.4))
    if not frame.empty:
        sns.stripplot(data=frame, x="step", y="KL", hue="flagged by RRS", palette={False: "0.55", True: "tab:red"},
                      size=3, jitter=0.25, ax=ax)
        ax.set_yscale("symlog", linthresh=1e-3)
        ax.tick_params(axis="x", labelsize=7, rotation=90)
    ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_ttrs(evaluation: dict, scales: Sequence[float], factors: Sequence[float], *, title: str):
    """Accuracy by TTRS scale at each shifted resolution, with the training-resolution accuracy (dashed) and the
    visual tokens each scale costs."""
    import pandas as pd

    plt, sns = _sns()
    summary = evaluation["summary"]
    rows = []
    for f in factors:
        for s in scales:
            key = f"scale{s:g}_x{f:g}"
            if key in summary:
                rows.append({"shift": f"x{f:g} resolution", "scale": s, "accuracy": summary[key]["acc"],
                             "visual tokens": summary[key]["visual_tokens"]})
    frame = pd.DataFrame(rows)
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.4))
    if not frame.empty:
        sns.lineplot(data=frame, x="scale", y="accuracy", hue="shift", marker="o", ax=axes[0])
        sns.lineplot(data=frame, x="scale", y="visual tokens", hue="shift", marker="o", ax=axes[1], legend=False)
        axes[0].set_xscale("log", base=2)
        axes[1].set_xscale("log", base=2)
    trained = summary["eval"]["acc"]
    axes[0].axhline(trained, ls="--", c="k", lw=1, label="training resolution")
    axes[0].legend(fontsize=8)
    axes[0].set_ylim(0, 1.05)
    axes[0].set_title(f"{title}: accuracy by TTRS scale")
    axes[1].set_title("compute: visual tokens per image")
    fig.tight_layout()
    return fig


def plot_rewards_table(table):
    """The hacked-answer table (replies x rewards) as a heatmap."""
    plt, sns = _sns()
    numeric = table.drop(columns=[c for c in table.columns if table[c].dtype == object]).astype(float)
    fig, ax = plt.subplots(figsize=(7, 0.35 * len(numeric) + 1))
    sns.heatmap(numeric, annot=True, fmt=".2f", cmap="viridis", vmin=0, vmax=1, cbar=False, ax=ax)
    ax.set_title("what each reward pays")
    fig.tight_layout()
    return fig


def plot_chain_lengths(tables: dict[str, list[dict]]):
    """Per VQA kind, the share of sampled chains that were whole (no ``...`` jump) in the first and second half of
    training, one bar per arm (``tables``: arm -> ``showcase.chain_lengths_by_kind`` rows); and the consistency of
    those samples."""
    import pandas as pd

    plt, sns = _sns()
    frame = pd.DataFrame([{**row, "arm": ARMS[name].label} for name, rows in tables.items() for row in rows])
    fig, axes = plt.subplots(1, 2, figsize=(12, 3.4), sharey=True)
    for ax, column in zip(axes, ("whole share", "consistency")):
        if not frame.empty:
            half = frame["part"].map({"1/2": "first half", "2/2": "second half"})
            part = frame.assign(who=frame["arm"] + ", " + half)
            sns.barplot(data=part, x="kind", y=column, hue="who", ax=ax, legend=ax is axes[-1])
        ax.set_title(f"{column} of the sampled VQA chains", fontsize=10)
        ax.set_xlabel("")
        ax.set_ylabel("")
        ax.tick_params(axis="x", labelrotation=20)
    if axes[-1].get_legend() is not None:
        sns.move_legend(axes[-1], "upper left", bbox_to_anchor=(1.02, 1), fontsize=8)
    fig.tight_layout()
    return fig
