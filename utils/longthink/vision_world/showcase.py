"""Tables and run-rendered text for the visual world's section of notebook 00 (the notebook only calls these)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from longthink.vision_world.replies import BASE_STYLE, reply
from longthink.vision_world.scenes import MULTI_STEP_KINDS, QUESTION_KINDS, generate_examples


def gold_replies(*, seed: int = 0, long_for_several: bool = True):
    """One example per question kind with its gold reply as the base VLM is trained on it (and, for several-step
    kinds, the full-length chain the teacher writes)."""
    import pandas as pd

    rows = []
    for ex in generate_examples(len(QUESTION_KINDS), seed=seed):
        rows.append({"kind": ex["kind"], "style": BASE_STYLE[ex["kind"]], "question": ex["question"],
                     "reply": reply(ex)})
        if long_for_several and ex["kind"] in MULTI_STEP_KINDS:
            rows.append({"kind": ex["kind"], "style": "long (teacher)", "question": ex["question"],
                         "reply": reply(ex, style="long")})
    return pd.DataFrame(rows)


def teacher_correctness(*, seed: int = 0, n: int = 440, rates=(0.0, 0.3, 0.6)):
    """Share of teacher chains that reach the gold answer, by kind and error rate."""
    import pandas as pd

    from longthink.vision_world.chains import ChainTeacher

    pool = generate_examples(n, seed=seed + 1)
    rows = [{"error_rate": r, "kind": e["kind"], "correct": ChainTeacher(error_rate=r, seed=seed).chain(e).correct}
            for r in rates for e in pool]
    return pd.DataFrame(rows).pivot_table(index="kind", columns="error_rate", values="correct").round(2)


def build_table(report: Mapping[str, Any]):
    """What the build recorded (seconds, steps, loss) and how long this call took to get the model."""
    import pandas as pd

    build = report["build"]
    keep = ("build_seconds", "train_seconds", "steps", "steps_per_second", "final_loss", "parameters",
            "num_threads", "load_average")
    row = {k: build.get(k) for k in keep}
    row["this call's load seconds"] = report["metrics"].get("world/vlm_load_seconds")
    return pd.Series(row, name="base VLM build")


def resolution_table(report: Mapping[str, Any]):
    import pandas as pd

    res = sorted(report["by_resolution"])
    return pd.DataFrame({
        "visual tokens": [(r // 28) ** 2 for r in res],
        "questions (as given)": [report["by_resolution"][r] for r in res],
        "questions (resized to training pixels)": [report["rescaled_by_resolution"].get(r, report["by_resolution"][r])
                                                   for r in res],
        "look, per cell": [report["describe_by_resolution"][r] for r in res],
    }, index=pd.Index(res, name="resolution (px)")).round(3)


def summary_markdown(report: Mapping[str, Any]) -> str:
    """The run's headline figures as a sentence each (rendered from ``report``, never typed by hand)."""
    m = report["metrics"]
    shifted = report["shifted_resolution"]
    return "\n".join([
        f"* **Look**: {m['world/vlm_describe_cell_acc']:.3f} of cells described right at the training resolution.",
        f"* **Single-step and position questions**: {m['world/vlm_acc_single_step']:.3f}; "
        f"**grounding** Acc@0.5: {m['world/vlm_grounding_acc50']:.3f}.",
        f"* **Several-step questions** through the short chain: {m['world/vlm_acc_multi_step']:.3f}.",
        f"* **Resolution**: {m['world/vlm_acc_train_resolution']:.3f} at the training resolution, "
        f"{m['world/vlm_acc_shifted_resolution']:.3f} at {shifted} px "
        f"({(shifted // 28) ** 2} visual tokens); resized back to the training pixels: "
        f"{m.get('world/vlm_acc_shifted_rescaled', float('nan')):.3f}.",
    ])
