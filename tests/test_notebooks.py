"""Every notebook runs end to end with the smoke profile, and its metrics meet expected/smoke/<paper>.json."""

import json
from pathlib import Path

import nbformat
import pytest

from longthink.notebooks import NotebookError, list_notebooks, paper_of, run_notebook
from longthink.report import check, read_expected

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = list_notebooks(ROOT)


@pytest.mark.parametrize("name", list(NOTEBOOKS))
def test_notebook_is_thin_and_clean(name):
    nb = nbformat.read(NOTEBOOKS[name], as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "exactly one cell tagged 'parameters'"
    assert "PROFILE" in tagged[0].source
    for cell in code:
        assert not cell.get("outputs"), "commit notebooks without outputs"
        assert not any(line.lstrip().startswith(("def ", "class ")) for line in cell.source.splitlines()), \
            "notebooks call longthink; they define no functions"
    assert nb.cells[0].cell_type == "markdown"


def _tagged(nb, tag):
    return [c for c in nb.cells if c.cell_type == "code" and tag in c.metadata.get("tags", [])]


@pytest.mark.parametrize("name,paper", [("s1", "s1"), ("thinklogit", "thinklogit"), ("insight_v", "insight_v"),
                                        ("taco", "taco")])
def test_paper_notebooks_have_live_controls_and_checked_exercises(name, paper):
    """Issue 15: at least one widget and two exercises per paper notebook, each exercise cell checking a registered
    exercise of its paper through a stub (the solution stays in the library)."""
    import re

    from longthink import exercises

    nb = nbformat.read(NOTEBOOKS[name], as_version=4)
    assert _tagged(nb, "widget"), f"{name}: no cell tagged 'widget'"
    cells = _tagged(nb, "exercise")
    checked = [re.search(r'exercises\.check\("([\w.]+)"', c.source) for c in cells]
    assert len(cells) >= 2 and all(checked), f"{name}: needs two cells tagged 'exercise' calling exercises.check"
    for cell, match in zip(cells, checked):
        assert match.group(1) in exercises.names(paper), f"{name}: unknown exercise {match.group(1)!r}"
        assert f'exercises.stub("{match.group(1)}")' in cell.source and "solution" not in cell.source


@pytest.fixture(scope="module")
def smoke_env(tmp_path_factory, monkeypatch_module):
    cache = tmp_path_factory.mktemp("cache")
    monkeypatch_module.setenv("LONGTHINK_CACHE", str(cache))
    return tmp_path_factory.mktemp("runs")


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


@pytest.mark.slow
@pytest.mark.parametrize("name", list(NOTEBOOKS))
def test_notebook_runs_with_smoke_profile(name, smoke_env):
    out = run_notebook(name, profile="smoke", output_dir=str(smoke_env), root=ROOT, progress=False)
    assert out.exists()
    executed = nbformat.read(out, as_version=4)
    figures = [o for c in executed.cells if c.cell_type == "code" for o in c.get("outputs", [])
               if "image/png" in o.get("data", {})]
    if any("plot" in c.source for c in executed.cells if c.cell_type == "code"):
        assert figures, f"{name}: the notebook plots, but no figure reached the executed copy"
    for i, cell in enumerate(executed.cells):  # every plot says what to look at, in the markdown right after it
        if cell.cell_type == "code" and any("image/png" in o.get("data", {}) for o in cell.get("outputs", [])):
            assert i + 1 < len(executed.cells) and executed.cells[i + 1].cell_type == "markdown", \
                f"{name}: the plot of cell {i} is not followed by a markdown cell saying what to look at"
    outputs = [o for c in executed.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outputs), \
        f"{name}: a live widget under papermill (its output would be lost): widgets must fall back to static output"
    for cell in _tagged(executed, "widget"):
        assert any("text/html" in o.get("data", {}) for o in cell.outputs), f"{name}: a widget cell showed nothing"
    for cell in _tagged(executed, "exercise"):
        text = "".join(o.get("text", "") + o.get("data", {}).get("text/plain", "") for o in cell.outputs)
        assert "[not attempted yet]" in text, f"{name}: an exercise cell did not report its stub: {text[:200]}"
    paper = paper_of(name)
    metrics = json.loads((smoke_env / "smoke" / paper / "metrics.json").read_text())
    assert metrics["environment"]["profile"] == "smoke"
    expected = read_expected(ROOT / "expected" / "smoke" / f"{paper}.json")["metrics"]
    failures = {k: (metrics["metrics"].get(k), spec) for k, spec in expected.items()
                if check(metrics["metrics"].get(k), spec, k) in ("FAIL", "missing")}
    assert not failures, f"{name}: metrics outside expected/smoke/{paper}.json: {failures}"


def _write_notebook(path, *cells):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    params = nbformat.v4.new_code_cell('PROFILE = "smoke"\nSEED = 0\nOUTPUT_DIR = "runs"\nBOOM = False')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell("# a test notebook"), params,
                *[nbformat.v4.new_code_cell(c) for c in cells]]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


@pytest.mark.slow
def test_an_interrupted_notebook_commits_nothing_and_is_reported(tmp_path):
    """A run that stops half way leaves the last complete metrics.json as it was (no mix of two runs under a new
    environment stamp), records the failure, and the report flags the paper."""
    from longthink.report import write_report
    from longthink.runs import Run

    (tmp_path / "recipes").mkdir()
    _write_notebook(tmp_path / "notebooks" / "99_probe.ipynb",
                    "from longthink.runs import Run\nrun = Run(PROFILE, 'probe', root=OUTPUT_DIR)\nrun.start(seed=SEED)",
                    "run.record_metrics({'probe/first_half': 1.0 if not BOOM else 2.0})",
                    "assert not BOOM, 'stopped half way'",
                    "run.finish({'probe/second_half': 1.0})")
    out = tmp_path / "runs"
    run_notebook("probe", profile="smoke", output_dir=str(out), root=tmp_path, progress=False)
    run = Run("smoke", "probe", root=out)
    committed = run.metrics_path.read_text()
    assert json.loads(committed)["metrics"] == {"probe/first_half": 1.0, "probe/second_half": 1.0}
    with pytest.raises(NotebookError, match="cell .* failed with AssertionError: stopped half way"):
        run_notebook("probe", profile="smoke", output_dir=str(out), root=tmp_path, progress=False,
                     extra_parameters={"BOOM": True})
    assert run.metrics_path.read_text() == committed
    assert run.read_status()["status"] == "failed"
    assert (out / "smoke" / "notebooks" / "99_probe.failed.ipynb").exists()
    (tmp_path / "expected" / "smoke").mkdir(parents=True)
    _, _, states = write_report("smoke", runs_dir=out, expected_dir=tmp_path / "expected")
    assert states["probe"][0] == "failed" and "stopped half way" in states["probe"][1]


@pytest.mark.slow
def test_a_notebook_that_commits_no_metrics_fails(tmp_path):
    (tmp_path / "recipes").mkdir()
    _write_notebook(tmp_path / "notebooks" / "99_silent.ipynb", "x = 1")
    with pytest.raises(NotebookError, match="committed no metrics"):
        run_notebook("silent", profile="smoke", output_dir=str(tmp_path / "runs"), root=tmp_path, progress=False)
