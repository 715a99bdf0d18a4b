"""Every notebook runs end to end with the smoke profile, and its metrics meet expected/smoke/<paper>.json."""

import json
from pathlib import Path

import nbformat
import pytest

from longthink.notebooks import list_notebooks, paper_of, run_notebook
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
    paper = paper_of(name)
    metrics = json.loads((smoke_env / "smoke" / paper / "metrics.json").read_text())
    assert metrics["environment"]["profile"] == "smoke"
    expected = read_expected(ROOT / "expected" / "smoke" / f"{paper}.json")["metrics"]
    failures = {k: (metrics["metrics"].get(k), spec) for k, spec in expected.items()
                if check(metrics["metrics"].get(k), spec) != "pass"}
    assert not failures, f"{name}: metrics outside expected/smoke/{paper}.json: {failures}"
