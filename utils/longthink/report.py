"""Compare each paper's ``metrics.json`` with its bars and write REPORT.md and REPORT.html.

``expected/<profile>/<paper>.json`` holds the bars of a profile, in one place: ``{"min": a}``, ``{"max": b}`` or
``{"value": v, "abs_tol": t}`` per metric key, or ``{"record": "why"}`` for a number kept only to be shown.
``expected/paper/<paper>.json`` holds the published numbers (``{"value": v, "source": "..."}``), reported beside
them, never asserted: the tiny world is not expected to reach a 32B model's score, only to show the same effect.

A bound that cannot fail (an accuracy ``>= 0``) is counted as a *record*, not as a passed check: ``metric_domain``
says what range a metric lives in (accuracies and shares in [0, 1], counts and seconds >= 0). The report also reads
each paper's ``status.json``: a paper whose latest run failed is flagged (and fails the report), and one whose
metrics were recorded by other code (``source_fingerprint``) is marked stale. A paper's key plot
(``runs/<profile>/<paper>/key_plot.png``, saved by its notebook) is shown beside its table.
"""

from __future__ import annotations

import html
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

from longthink.files import atomic_write_text
from longthink.runs import KEY_PLOT, source_fingerprint

CHECKS = {
    "min": lambda got, spec: got >= spec["min"],
    "max": lambda got, spec: got <= spec["max"],
    "value": lambda got, spec: abs(got - spec["value"]) <= spec.get("abs_tol", 0.0),
}
# words in a metric's name that say what range its values live in (a bound covering the whole range cannot fail)
DIFFERENCE_WORDS = {"gain", "extra", "minus", "drop", "diff", "delta", "change"}  # can be negative
UNIT_WORDS = {"acc", "accuracy", "share", "frac", "fraction", "rate", "consistency", "control", "performance"}
NONNEGATIVE_WORDS = {"seconds", "tokens", "ratio", "steps", "paths", "count", "second", "parameters"}


class ReportError(ValueError):
    """An expected-results file is malformed; the message names the file and key."""


@dataclass
class Row:
    paper: str
    key: str
    got: float | None
    expected: str
    status: str  # "pass", "FAIL", "missing", "record" (a bound that cannot fail, or a kept number), "info"


def metric_domain(key: str) -> tuple[float, float]:
    """The range a metric's values live in, from the words of its name (unknown names: the whole real line).

    Differences (``bf_gain``, ``extra_tokens_thinklogit``) can be negative; accuracies, shares and rates lie in
    [0, 1] (``acc50`` too); seconds, tokens, ratios and counts are >= 0.
    """
    words = key.split("/", 1)[-1].lower().split("_")
    if any(w in DIFFERENCE_WORDS for w in words):
        return (-math.inf, math.inf)
    if any(w in UNIT_WORDS or re.fullmatch(r"acc\d+", w) for w in words):
        return (0.0, 1.0)
    if any(w in NONNEGATIVE_WORDS for w in words):
        return (0.0, math.inf)
    return (-math.inf, math.inf)


def is_record(key: str, spec: dict) -> bool:
    """True when ``spec`` cannot fail for any value in the metric's domain (or says ``record`` outright)."""
    if "record" in spec:
        return True
    if "value" in spec:
        return False
    lo, hi = metric_domain(key)
    return spec.get("min", -math.inf) <= lo and spec.get("max", math.inf) >= hi


def describe(spec: dict) -> str:
    parts = []
    if "value" in spec:
        parts.append(f"{spec['value']} ± {spec.get('abs_tol', 0)}")
    if "min" in spec:
        parts.append(f"≥ {spec['min']}")
    if "max" in spec:
        parts.append(f"≤ {spec['max']}")
    if "record" in spec and not parts:
        parts.append("recorded")
    return ", ".join(parts)


def check(got: float | None, spec: dict, key: str = "") -> str:
    if got is None or (isinstance(got, float) and math.isnan(got)):
        return "missing"
    if is_record(key, spec):
        return "record"
    return "pass" if all(CHECKS[k](got, spec) for k in CHECKS if k in spec) else "FAIL"


def read_expected(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ReportError(f"{path}: not valid JSON ({exc})") from exc
    metrics = data.get("metrics")
    if not isinstance(metrics, dict):
        raise ReportError(f"{path}: expected a 'metrics' mapping")
    for key, spec in metrics.items():
        if not isinstance(spec, dict) or not (set(spec) & {"min", "max", "value", "record"}):
            raise ReportError(f"{path}: key {key!r} needs 'min', 'max', 'value' or 'record', got {spec!r}")
    return data


def bar_rows(paper: str, metrics: dict, expected: dict) -> list[Row]:
    """One row per metric with a bar or a value: measured, bar, status (checks first, records after)."""
    rows = []
    for key in sorted(set(expected) | set(metrics)):
        spec = expected.get(key)
        got = metrics.get(key)
        rows.append(Row(paper, key, got, describe(spec) if spec else "", check(got, spec, key) if spec else "info"))
    order = {"FAIL": 0, "missing": 1, "pass": 2, "record": 3, "info": 4}
    return sorted(rows, key=lambda r: (order[r.status], r.key))


def bar_table(paper: str, metrics: dict, *, profile: str, expected_dir: str | Path | None = None):
    """The bars of ``paper`` under ``profile`` checked on ``metrics`` (a notebook's table; bars live only in
    ``expected/<profile>/``)."""
    import pandas as pd

    from longthink.config import repo_root

    expected_dir = Path(expected_dir) if expected_dir else repo_root() / "expected"
    path = expected_dir / profile / f"{paper}.json"
    expected = read_expected(path)["metrics"] if path.exists() else {}
    rows = [r for r in bar_rows(paper, metrics, expected) if r.status != "info"]
    return pd.DataFrame([{"metric": r.key, "measured": r.got, "bar": r.expected, "status": r.status} for r in rows])


def run_state(run_dir: Path, notebook: str) -> tuple[str, str]:
    """``(state, note)`` of a paper's latest run: "current", "stale", "failed", "running" or "none"."""
    status_path, metrics_path = run_dir / "status.json", run_dir / "metrics.json"
    status = json.loads(status_path.read_text()) if status_path.exists() else {}
    if status.get("status") == "failed":
        return "failed", f"the latest run failed ({status.get('finished', '?')}): {status.get('error', '')}"
    if status.get("status") == "running":
        return "running", f"a run started {status.get('started', '?')} has not finished (running, or interrupted)"
    if not metrics_path.exists():
        return "none", "no complete run recorded"
    recorded = json.loads(metrics_path.read_text()).get("fingerprint")
    if recorded and recorded != source_fingerprint(notebook):
        return "stale", (f"recorded {json.loads(metrics_path.read_text()).get('recorded_at', '?')} with other code "
                         "or recipes than today's: re-run to refresh")
    return "current", ""


def compare(profile: str, *, runs_dir: Path, expected_dir: Path) -> tuple[list[Row], dict[str, dict], dict]:
    """Rows for every paper that has bars or metrics under this profile, the published numbers, run states."""
    rows: list[Row] = []
    published: dict[str, dict] = {}
    states: dict[str, tuple[str, str]] = {}
    papers = sorted({p.stem for p in (expected_dir / profile).glob("*.json")}
                    | {p.parent.name for p in (runs_dir / profile).glob("*/metrics.json")}
                    | {p.parent.name for p in (runs_dir / profile).glob("*/status.json")})
    for paper in papers:
        run_dir = runs_dir / profile / paper
        metrics_path = run_dir / "metrics.json"
        metrics = json.loads(metrics_path.read_text()).get("metrics", {}) if metrics_path.exists() else {}
        exp_path = expected_dir / profile / f"{paper}.json"
        expected = read_expected(exp_path)["metrics"] if exp_path.exists() else {}
        rows += bar_rows(paper, metrics, expected)
        states[paper] = run_state(run_dir, paper)
        pub_path = expected_dir / "paper" / f"{paper}.json"
        if pub_path.exists():
            published[paper] = read_expected(pub_path)
    return rows, published, states


def _fmt(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def render_markdown(profile: str, rows: list[Row], published: dict[str, dict], states: dict | None = None,
                    runs_dir: Path | None = None) -> str:
    states = states or {}
    count = {s: len([r for r in rows if r.status == s]) for s in ("pass", "FAIL", "missing", "record")}
    failed_runs = [p for p, (state, _) in states.items() if state == "failed"]
    lines = [f"# longthink report: profile `{profile}`", ""]
    lines.append(f"**{count['pass']} checks pass, {count['FAIL'] + count['missing']} fail or are missing; "
                 f"{count['record']} numbers are records (bounds that cannot fail, or values kept to be shown); "
                 f"{len(failed_runs)} paper(s) whose latest run failed.**")
    for paper in sorted({r.paper for r in rows} | set(published) | set(states)):
        lines += ["", f"## {paper}", ""]
        state, note = states.get(paper, ("none", ""))
        if state != "current":
            lines += [f"**Run: {state.upper()}**: {note}", ""]
        if runs_dir is not None and (runs_dir / profile / paper / KEY_PLOT).exists():
            lines += [f"![{paper}: key plot]({paper}/{KEY_PLOT})", ""]
        lines += ["| metric | measured | bar | status |", "|---|---|---|---|"]
        lines += [f"| `{r.key}` | {_fmt(r.got)} | {r.expected} | {r.status} |" for r in rows if r.paper == paper]
        if paper in published:
            lines += ["", "Published numbers (reported, not asserted):", "", "| metric | value | source |",
                      "|---|---|---|"]
            for key, spec in published[paper]["metrics"].items():
                lines.append(f"| `{key}` | {_fmt(spec.get('value'))} | {spec.get('source', '')} |")
            if published[paper].get("notes"):
                lines += ["", published[paper]["notes"]]
    return "\n".join(lines) + "\n"


def render_html(markdown_text: str, profile: str) -> str:
    """A self-contained HTML page: the markdown tables as HTML tables, pass/fail coloured, key plots inline."""
    body, in_table = [], False
    image = re.compile(r"^!\[(.*?)\]\((.*?)\)$")
    for line in markdown_text.splitlines():
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if set("".join(cells)) <= set("-"):
                continue
            if not in_table:
                body.append("<table>")
                in_table = True
                body.append("<tr>" + "".join(f"<th>{html.escape(c)}</th>" for c in cells) + "</tr>")
                continue
            cls = {"pass": "pass", "FAIL": "fail", "missing": "fail", "record": "record"}.get(cells[-1], "")
            body.append(f"<tr class='{cls}'>" + "".join(f"<td>{html.escape(c.strip('`'))}</td>" for c in cells) + "</tr>")
            continue
        if in_table:
            body.append("</table>")
            in_table = False
        match = image.match(line)
        if match:
            body.append(f"<img alt='{html.escape(match[1])}' src='{html.escape(match[2])}' style='max-width:640px'>")
        elif line.startswith("## "):
            body.append(f"<h2>{html.escape(line[3:])}</h2>")
        elif line.startswith("# "):
            body.append(f"<h1>{html.escape(line[2:])}</h1>")
        elif line.strip():
            body.append(f"<p>{html.escape(line.replace('**', ''))}</p>")
    if in_table:
        body.append("</table>")
    style = ("body{font-family:sans-serif;max-width:960px;margin:2em auto}table{border-collapse:collapse}"
             "td,th{border:1px solid #ccc;padding:4px 8px}.pass{background:#e8f5e9}.fail{background:#ffebee}"
             ".record{color:#666}")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>longthink report: {profile}</title>"
            f"<style>{style}</style></head><body>{''.join(body)}</body></html>\n")


def write_report(profile: str, *, runs_dir: str | Path = "runs",
                 expected_dir: str | Path = "expected") -> tuple[Path, list[Row], dict]:
    """Write ``runs/<profile>/REPORT.md`` and ``REPORT.html``; return the markdown path, the rows and run states."""
    runs_dir, expected_dir = Path(runs_dir), Path(expected_dir)
    rows, published, states = compare(profile, runs_dir=runs_dir, expected_dir=expected_dir)
    text = render_markdown(profile, rows, published, states, runs_dir)
    md = atomic_write_text(runs_dir / profile / "REPORT.md", text)
    atomic_write_text(runs_dir / profile / "REPORT.html", render_html(text, profile))
    return md, rows, states
