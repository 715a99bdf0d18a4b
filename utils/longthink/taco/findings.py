"""The notebook's closing text and tables, written from the run's own metrics (never typed by hand)."""

from __future__ import annotations

import json
from pathlib import Path


def _f(values: dict, key: str, fmt: str = "{:.3f}") -> str:
    value = values.get(f"taco/{key}")
    return "n/a" if value is None else fmt.format(value)


def findings(values: dict[str, float]) -> str:
    """A paragraph of what this run measured, in the order of the paper's claims."""
    v = values
    lines = [
        f"- **GRPO vs the base VLM**: REC Acc@0.5 {_f(v, 'rec_acc50_base')} → {_f(v, 'rec_acc50_grpo')}, "
        f"VQA accuracy {_f(v, 'vqa_acc_base')} → {_f(v, 'vqa_acc_grpo')}.",
        f"- **TACO vs GRPO**: REC {_f(v, 'rec_acc50_grpo')} → {_f(v, 'rec_acc50_taco')}, VQA {_f(v, 'vqa_acc_grpo')} → "
        f"{_f(v, 'vqa_acc_taco')}; think-answer consistency {_f(v, 'consistency_grpo')} → {_f(v, 'consistency_taco')}.",
        f"- **RRS**: {_f(v, 'rrs_flagged_fraction')} of TACO's groups were over the KL threshold and kept out of the "
        "gradient, then re-admitted.",
        f"- **ADS**: groups whose G completions all earned the same reward (no learning signal) after the warm-up: "
        f"{_f(v, 'zero_std_frac_uniform')} with uniform sampling, {_f(v, 'zero_std_frac_ads')} with ADS.",
        f"- **TTRS**: at the shifted resolutions TACO's accuracy is {_f(v, 'acc_shifted_res')} as given and "
        f"{_f(v, 'acc_shifted_res_ttrs')} with test-time resolution scaling (training resolution: "
        f"{_f(v, 'acc_train_res')}).",
    ]
    return "\n".join(lines)


def paper_comparison(values: dict[str, float], *, expected_dir: str | Path | None = None):
    """The paper's published figures beside this run's (different benchmarks: compare directions, not values)."""
    import pandas as pd

    from longthink.config import repo_root

    path = Path(expected_dir or repo_root() / "expected") / "paper" / "taco.json"
    published = json.loads(path.read_text())["metrics"]
    rows = []
    for key, spec in published.items():
        rows.append({"metric": key, "paper": spec.get("value"), "source": spec.get("source", ""),
                     "this run": values.get(key)})
    return pd.DataFrame(rows).set_index("metric")
