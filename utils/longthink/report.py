"""Compare each paper's ``metrics.json`` with its expected results and write REPORT.md and REPORT.html.

``expected/<profile>/<paper>.json`` holds checks that are asserted: ``{"min": a}``, ``{"max": b}``, or
``{"value": v, "abs_tol": t}`` per metric key. ``expected/paper/<paper>.json`` holds the published numbers
(``{"value": v, "source": "..."}``), which are reported beside them, never asserted: the tiny world is not
expected to reach a 32B model's score, only to show the same effect.
"""

from __future__ import annotations

import html
import json
import math
from dataclasses import dataclass
from pathlib import Path

from longthink.runs import atomic_write_text

CHECKS = {
    "min": lambda got, spec: got >= spec["min"],
    "max": lambda got, spec: got <= spec["max"],
    "value": lambda got, spec: abs(got - spec["value"]) <= spec.get("abs_tol", 0.0),
}


class ReportError(ValueError):
    """An expected-results file is malformed; the message names the file and key."""


@dataclass
class Row:
    paper: str
    key: str
    got: float | None
    expected: str
    status: str  # "pass", "FAIL", "missing"


def describe(spec: dict) -> str:
    parts = []
    if "value" in spec:
        parts.append(f"{spec['value']} ± {spec.get('abs_tol', 0)}")
    if "min" in spec:
        parts.append(f"≥ {spec['min']}")
    if "max" in spec:
        parts.append(f"≤ {spec['max']}")
    return ", ".join(parts)


def check(got: float | None, spec: dict) -> str:
    if got is None or (isinstance(got, float) and math.isnan(got)):
        return "missing"
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
        if not isinstance(spec, dict) or not (set(spec) & {"min", "max", "value"}):
            raise ReportError(f"{path}: key {key!r} needs 'min', 'max' or 'value', got {spec!r}")
    return data


def compare(profile: str, *, runs_dir: Path, expected_dir: Path) -> tuple[list[Row], dict[str, dict]]:
    """Rows for every asserted check of every paper that has expectations or metrics under this profile."""
    rows: list[Row] = []
    published: dict[str, dict] = {}
    papers = sorted({p.stem for p in (expected_dir / profile).glob("*.json")}
                    | {p.parent.name for p in (runs_dir / profile).glob("*/metrics.json")})
    for paper in papers:
        metrics_path = runs_dir / profile / paper / "metrics.json"
        metrics = json.loads(metrics_path.read_text()).get("metrics", {}) if metrics_path.exists() else {}
        exp_path = expected_dir / profile / f"{paper}.json"
        expected = read_expected(exp_path)["metrics"] if exp_path.exists() else {}
        for key in sorted(set(expected) | set(metrics)):
            spec = expected.get(key)
            got = metrics.get(key)
            rows.append(Row(paper, key, got, describe(spec) if spec else "", check(got, spec) if spec else "info"))
        pub_path = expected_dir / "paper" / f"{paper}.json"
        if pub_path.exists():
            published[paper] = read_expected(pub_path)
    return rows, published


def _fmt(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def render_markdown(profile: str, rows: list[Row], published: dict[str, dict]) -> str:
    failed = [r for r in rows if r.status in ("FAIL", "missing")]
    lines = [f"# longthink report: profile `{profile}`", ""]
    lines.append(f"**{len([r for r in rows if r.status == 'pass'])} checks pass, {len(failed)} fail or are missing.**")
    for paper in sorted({r.paper for r in rows} | set(published)):
        lines += ["", f"## {paper}", "", "| metric | measured | expected | status |", "|---|---|---|---|"]
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
    """A self-contained HTML page: the markdown tables as HTML tables, pass/fail coloured."""
    body, in_table = [], False
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
            cls = {"pass": "pass", "FAIL": "fail", "missing": "fail"}.get(cells[-1], "")
            body.append(f"<tr class='{cls}'>" + "".join(f"<td>{html.escape(c.strip('`'))}</td>" for c in cells) + "</tr>")
            continue
        if in_table:
            body.append("</table>")
            in_table = False
        if line.startswith("## "):
            body.append(f"<h2>{html.escape(line[3:])}</h2>")
        elif line.startswith("# "):
            body.append(f"<h1>{html.escape(line[2:])}</h1>")
        elif line.strip():
            body.append(f"<p>{html.escape(line.replace('**', ''))}</p>")
    if in_table:
        body.append("</table>")
    style = ("body{font-family:sans-serif;max-width:960px;margin:2em auto}table{border-collapse:collapse}"
             "td,th{border:1px solid #ccc;padding:4px 8px}.pass{background:#e8f5e9}.fail{background:#ffebee}")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>longthink report: {profile}</title>"
            f"<style>{style}</style></head><body>{''.join(body)}</body></html>\n")


def write_report(profile: str, *, runs_dir: str | Path = "runs", expected_dir: str | Path = "expected") -> tuple[Path, list[Row]]:
    """Write ``runs/<profile>/REPORT.md`` and ``REPORT.html``; return the markdown path and the rows."""
    runs_dir, expected_dir = Path(runs_dir), Path(expected_dir)
    rows, published = compare(profile, runs_dir=runs_dir, expected_dir=expected_dir)
    text = render_markdown(profile, rows, published)
    md = atomic_write_text(runs_dir / profile / "REPORT.md", text)
    atomic_write_text(runs_dir / profile / "REPORT.html", render_html(text, profile))
    return md, rows
