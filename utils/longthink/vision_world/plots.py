"""Plots and tables for the tiny visual world (matplotlib/seaborn/pandas imported inside the functions)."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

KIND_GROUPS = {"single step": ("colour_of", "shape_of", "where"), "position": ("colour_at", "shape_at"),
               "grounding": ("ground",), "several steps (short chain)": ("count_cond", "compare_counts", "count_arith",
                                                                         "spatial", "spatial_count")}


def group_of(kind: str) -> str:
    return next((g for g, kinds in KIND_GROUPS.items() if kind in kinds), "look")


def show_examples(examples: Sequence[dict[str, Any]], *, resolution: int | None = None, columns: int = 4):
    """A grid of rendered scenes titled with their question and gold answer (grounding: the gold box drawn)."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    from longthink.vision_world.scenes import example_image

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


def marked_differences(reply: str, gold: str) -> str:
    """The reply with every word that differs from the gold reply's word at the same place in ``«»``."""
    got, want = reply.split(), gold.split()
    return " ".join(w if i < len(want) and want[i] == w else f"«{w}»" for i, w in enumerate(got))


def replies_beside_gold(samples: Mapping[str, Sequence[dict[str, Any]]], *, kinds: Sequence[str] | None = None,
                        width: int = 120):
    """One row per sample: the scene the model saw, then the gold reply and the model's own reply (its words that
    differ from the gold's at the same place marked ``«»``)."""
    import matplotlib.pyplot as plt

    from longthink.vision_world.scenes import Scene, render

    rows = [(k, s) for k in (kinds or list(samples)) for s in samples[k][:1]]
    fig = plt.figure(figsize=(15, 2.6 * len(rows)))
    grid = fig.add_gridspec(len(rows), 2, width_ratios=[1, 6.5])
    for i, (kind, sample) in enumerate(rows):
        ax = fig.add_subplot(grid[i, 0])
        ax.imshow(render(Scene.from_dict(sample["scene"]), 112))
        ax.axis("off")
        ax.set_title(f"{kind}: {'right' if sample['right'] >= 1 else 'wrong' if sample['right'] == 0 else round(sample['right'], 3)}",
                     fontsize=9)
        text = fig.add_subplot(grid[i, 1])
        text.axis("off")
        body = (f"Q: {sample['question']}\n"
                f"gold:  {textwrap.fill(sample['gold'], width, subsequent_indent='       ')}\n"
                f"model: {textwrap.fill(marked_differences(sample['reply'], sample['gold']), width, subsequent_indent='       ')}")
        text.text(0, 1, body, va="top", ha="left", family="monospace", fontsize=7.2)
    fig.tight_layout()
    return fig


def accuracy_by_kind(by_kind: Mapping[str, float], *, title: str = "base VLM accuracy by question kind (training resolution)"):
    """Seaborn bars, one per kind, coloured by group (``describe`` is the look's per-cell accuracy)."""
    import matplotlib.pyplot as plt
    import pandas as pd
    import seaborn as sns

    frame = pd.DataFrame({"kind": list(by_kind), "accuracy": list(by_kind.values())})
    frame["group"] = [group_of(k) if k != "describe" else "look (per cell)" for k in frame["kind"]]
    fig, ax = plt.subplots(figsize=(9, 3.4))
    sns.barplot(frame, x="kind", y="accuracy", hue="group", dodge=False, ax=ax)
    ax.set_ylim(0, 1.05)
    ax.set_title(title)
    ax.tick_params(axis="x", rotation=30)
    ax.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    return fig


def errors_by_kind(errors: Mapping[str, Mapping[str, int]]):
    """Stacked bars: for each kind, where its replies first left the gold reply (``evaluate.first_error``)."""
    import matplotlib.pyplot as plt
    import pandas as pd
    import seaborn as sns

    from longthink.vision_world.evaluate import ERROR_CATEGORIES

    frame = pd.DataFrame(errors).T.reindex(columns=list(ERROR_CATEGORIES)).fillna(0)
    shares = frame.div(frame.sum(axis=1), axis=0)
    fig, ax = plt.subplots(figsize=(9, 3.4))
    colours = dict(zip(ERROR_CATEGORIES, sns.color_palette("tab10", len(ERROR_CATEGORIES))))
    bottom = None
    for cat in ERROR_CATEGORIES:
        ax.bar(shares.index, shares[cat], bottom=bottom, label=cat, color=colours[cat])
        bottom = shares[cat] if bottom is None else bottom + shares[cat]
    ax.set_ylabel("share of replies")
    ax.set_title("where each reply first leaves the gold reply")
    ax.tick_params(axis="x", rotation=30)
    ax.legend(fontsize=7, ncol=4, loc="lower left")
    fig.tight_layout()
    return fig


def accuracy_by_resolution(by_resolution: Mapping[int, float], *, train_resolution: int,
                           rescaled_by_resolution: Mapping[int, float] | None = None,
                           describe_by_resolution: Mapping[int, float] | None = None):
    """Seaborn points: accuracy against input resolution (Qwen2-VL: (resolution / 28)^2 visual tokens), as given
    and resized back to the training pixels (what TACO's test-time resolution scaling does)."""
    import matplotlib.pyplot as plt
    import pandas as pd
    import seaborn as sns

    rows = [{"resolution": r, "accuracy": a, "series": "questions, image as given"} for r, a in by_resolution.items()]
    for r, a in (rescaled_by_resolution or {}).items():
        rows.append({"resolution": r, "accuracy": a, "series": "questions, resized to training pixels"})
    if rescaled_by_resolution and train_resolution in by_resolution:
        rows.append({"resolution": train_resolution, "accuracy": by_resolution[train_resolution],
                     "series": "questions, resized to training pixels"})
    for r, a in (describe_by_resolution or {}).items():
        rows.append({"resolution": r, "accuracy": a, "series": "look, per cell"})
    frame = pd.DataFrame(rows).sort_values("resolution")
    frame["input"] = [f"{r} px\n{(r // 28) ** 2} tokens" for r in frame["resolution"]]
    fig, ax = plt.subplots(figsize=(6.5, 3.4))
    sns.pointplot(frame, x="input", y="accuracy", hue="series", ax=ax, order=list(dict.fromkeys(frame["input"])))
    ax.set_ylim(0, 1.05)
    ax.set_xlabel(f"input resolution (training: {train_resolution} px)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
