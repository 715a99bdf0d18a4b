import json

import pytest

from longthink.report import ReportError, write_report


def test_report_checks_and_html(tmp_path):
    runs, expected = tmp_path / "runs", tmp_path / "expected"
    (runs / "smoke" / "p").mkdir(parents=True)
    (runs / "smoke" / "p" / "metrics.json").write_text(json.dumps({"metrics": {"p/a": 0.5, "p/b": 3, "p/extra": 1}}))
    (expected / "smoke").mkdir(parents=True)
    (expected / "paper").mkdir()
    (expected / "smoke" / "p.json").write_text(json.dumps({"metrics": {
        "p/a": {"value": 0.45, "abs_tol": 0.1}, "p/b": {"min": 4}, "p/c": {"max": 1}}}))
    (expected / "paper" / "p.json").write_text(json.dumps({"metrics": {"p/aime": {"value": 56.7, "source": "T1"}}}))
    md, rows = write_report("smoke", runs_dir=runs, expected_dir=expected)
    status = {r.key: r.status for r in rows}
    assert status == {"p/a": "pass", "p/b": "FAIL", "p/c": "missing", "p/extra": "info"}
    text = md.read_text()
    assert "56.7" in text and "| `p/b` | 3 | ≥ 4 | FAIL |" in text
    assert "<table>" in (runs / "smoke" / "REPORT.html").read_text()


def test_malformed_expected_names_file(tmp_path):
    (tmp_path / "expected" / "smoke").mkdir(parents=True)
    (tmp_path / "expected" / "smoke" / "p.json").write_text(json.dumps({"metrics": {"p/a": {"approx": 1}}}))
    with pytest.raises(ReportError, match="p.json: key 'p/a'"):
        write_report("smoke", runs_dir=tmp_path / "runs", expected_dir=tmp_path / "expected")
