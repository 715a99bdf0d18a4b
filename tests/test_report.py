import json

import pytest

from longthink.report import ReportError, bar_table, check, is_record, metric_domain, write_report


def _setup(tmp_path, metrics, expected):
    runs, exp = tmp_path / "runs", tmp_path / "expected"
    (runs / "smoke" / "p").mkdir(parents=True)
    (runs / "smoke" / "p" / "metrics.json").write_text(json.dumps({"metrics": metrics}))
    (exp / "smoke").mkdir(parents=True)
    (exp / "paper").mkdir()
    (exp / "smoke" / "p.json").write_text(json.dumps({"metrics": expected}))
    return runs, exp


def test_report_checks_records_and_html(tmp_path):
    runs, exp = _setup(tmp_path, {"p/a": 0.5, "p/b": 3, "p/extra": 1, "p/acc_x": 0.2, "p/t": 9.0},
                       {"p/a": {"value": 0.45, "abs_tol": 0.1}, "p/b": {"min": 4}, "p/c": {"max": 1},
                        "p/acc_x": {"min": 0.0, "max": 1.0}, "p/t": {"record": "a timing"}})
    (exp / "paper" / "p.json").write_text(json.dumps({"metrics": {"p/aime": {"value": 56.7, "source": "T1"}}}))
    md, rows, states = write_report("smoke", runs_dir=runs, expected_dir=exp)
    status = {r.key: r.status for r in rows}
    assert status == {"p/a": "pass", "p/b": "FAIL", "p/c": "missing", "p/extra": "info", "p/acc_x": "record",
                      "p/t": "record"}
    text = md.read_text()
    assert "56.7" in text and "| `p/b` | 3 | ≥ 4 | FAIL |" in text
    assert "**1 checks pass, 2 fail or are missing; 2 numbers are records" in text
    assert "<table>" in (runs / "smoke" / "REPORT.html").read_text()


def test_bounds_that_cannot_fail_are_records():
    assert metric_domain("s1/acc_wait_0") == (0.0, 1.0)
    assert metric_domain("world/vlm_grounding_acc50") == (0.0, 1.0)
    assert metric_domain("s1/bf_gain")[0] == float("-inf")  # a difference can be negative
    assert metric_domain("thinklogit/extra_tokens_thinklogit")[0] == float("-inf")
    assert is_record("s1/acc_wait_0", {"min": 0.0}) and is_record("t/acc", {"min": 0.0, "max": 1.0})
    assert not is_record("s1/acc_wait_0", {"min": 0.1}) and not is_record("s1/bf_gain", {"min": 0.0})
    assert not is_record("t/mean_tokens", {"min": 1.0}) and is_record("t/mean_tokens", {"min": 0})
    assert check(0.3, {"min": 0.0}, "s1/acc_wait_0") == "record" and check(None, {"min": 0.0}, "s1/acc") == "missing"


def test_failed_and_stale_runs_are_flagged(tmp_path):
    runs, exp = _setup(tmp_path, {"p/a": 0.5}, {"p/a": {"min": 0.4}})
    (runs / "smoke" / "p" / "status.json").write_text(json.dumps({"status": "failed", "error": "cell 3 boom"}))
    md, rows, states = write_report("smoke", runs_dir=runs, expected_dir=exp)
    assert states["p"][0] == "failed" and "cell 3 boom" in md.read_text() and "Run: FAILED" in md.read_text()
    (runs / "smoke" / "p" / "status.json").write_text(json.dumps({"status": "complete"}))
    (runs / "smoke" / "p" / "metrics.json").write_text(json.dumps({"metrics": {"p/a": 0.5}, "fingerprint": "0" * 12}))
    _, _, states = write_report("smoke", runs_dir=runs, expected_dir=exp)
    assert states["p"][0] == "stale"


def test_key_plot_is_shown(tmp_path):
    runs, exp = _setup(tmp_path, {"p/a": 0.5}, {"p/a": {"min": 0.4}})
    (runs / "smoke" / "p" / "key_plot.png").write_bytes(b"\x89PNG")
    md, _, _ = write_report("smoke", runs_dir=runs, expected_dir=exp)
    assert "![p: key plot](p/key_plot.png)" in md.read_text()
    assert "<img alt='p: key plot' src='p/key_plot.png'" in (runs / "smoke" / "REPORT.html").read_text()


def test_bar_table_reads_bars_from_expected(tmp_path):
    _, exp = _setup(tmp_path, {}, {"p/a": {"min": 0.4}, "p/acc": {"min": 0.0}})
    table = bar_table("p", {"p/a": 0.3, "p/acc": 0.9, "p/other": 1}, profile="smoke", expected_dir=exp)
    assert list(table["metric"]) == ["p/a", "p/acc"] and list(table["status"]) == ["FAIL", "record"]


def test_malformed_expected_names_file(tmp_path):
    (tmp_path / "expected" / "smoke").mkdir(parents=True)
    (tmp_path / "expected" / "smoke" / "p.json").write_text(json.dumps({"metrics": {"p/a": {"approx": 1}}}))
    with pytest.raises(ReportError, match="p.json: key 'p/a'"):
        write_report("smoke", runs_dir=tmp_path / "runs", expected_dir=tmp_path / "expected")


def test_no_smoke_bar_is_a_timing(repo_root):
    for path in (repo_root / "expected" / "smoke").glob("*.json"):
        for key, spec in json.loads(path.read_text())["metrics"].items():
            if any(word in key for word in ("seconds", "overhead", "per_second")):
                assert "record" in spec, f"{path.name}: {key} is a timing; speed is a benchmark's business"
