"""Plots for the tiny visual world (matplotlib/seaborn imported inside the functions)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def show_examples(examples: Sequence[dict[str, Any]], *, resolution: int | None = None, columns: int = 4):
    """A grid of rendered scenes titled with their question and gold answer (grounding: the gold box drawn)."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    from longthink.vision_world.scenes import example_image
    import textwrap

    rows = (len(examples) + columns - 1) // columns
    fig, axes = plt.subplots(rows, columns, figsize=(3.2 * columns, 3.6 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, ex in zip(axes.flat, examples):
        ax.imshow(example_image(ex, resolution))
        if "box" in ex:
            x1, y1, x2, y2 = ex["box"]
            ax.add_patch(Rectangle((x1 - 0.5, y1 - 0.5), x2 - x1, y2 - y1, fill=False, ec="black", lw=1.5))
        ax.set_title(textwrap.fill(f"[{ex['kind']}] {ex['question']} → {ex['answer']}", 34), fontsize=8)
    fig.tight_layout()
    return fig


def accuracy_bars(by_kind: Mapping[str, float], *, title: str = "base VLM accuracy by question kind"):
    import matplotlib.pyplot as plt
    import seaborn as sns

    from longthink.vision_world.scenes import MULTI_STEP_KINDS

    kinds = list(by_kind)
    group = ["several steps (direct answer)" if k in MULTI_STEP_KINDS else "single step / dense" for k in kinds]
    fig, ax = plt.subplots(figsize=(8, 3.2))
    sns.barplot(x=kinds, y=[by_kind[k] for k in kinds], hue=group, ax=ax)
    ax.set_ylim(0, 1)
    ax.set_ylabel("accuracy")
    ax.set_title(title)
    ax.tick_params(axis="x", rotation=30)
    fig.tight_layout()
    return fig


def resolution_curve(by_resolution: Mapping[int, float], *, train_resolution: int,
                     describe_by_resolution: Mapping[int, float] | None = None):
    """Accuracy against input resolution (Qwen2-VL: visual tokens = (resolution / 28)^2)."""
    import matplotlib.pyplot as plt

    res = sorted(by_resolution)
    fig, ax = plt.subplots(figsize=(5, 3.2))
    ax.plot(res, [by_resolution[r] for r in res], marker="o", label="single-step + grounding")
    if describe_by_resolution:
        dres = sorted(describe_by_resolution)
        ax.plot(dres, [describe_by_resolution[r] for r in dres], marker="s", label="description, per cell")
    ax.axvline(train_resolution, ls="--", c="grey", label=f"training ({train_resolution} px)")
    ax.set_xticks(res, [f"{r}px\n{(r // 28) ** 2} tok" for r in res])
    ax.set_ylim(0, 1)
    ax.set_ylabel("accuracy")
    ax.legend()
    fig.tight_layout()
    return fig
