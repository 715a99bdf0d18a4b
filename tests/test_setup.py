"""One command to a lab: JupyterLab and ipywidgets are pinned exactly, the same in pyproject.toml and
environment.yml, installed by `make setup`, and `make lab` is listed by `make help`."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from importlib.metadata import version
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
LAB = ("jupyterlab", "ipywidgets")


def _pins(requirements) -> dict[str, str]:
    pins = {}
    for req in requirements:
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?\s*==\s*([^\s;]+)", str(req).strip())
        if match:
            pins[match.group(1).lower()] = match.group(2)
    return pins


def test_the_lab_is_pinned_exactly_in_pyproject_and_environment_yml():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pyproject = _pins(project["dependencies"])
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    conda = _pins(pip_section)
    for name in LAB:
        assert name in pyproject, f"pyproject.toml must pin {name} exactly (==)"
        assert conda.get(name) == pyproject[name], f"environment.yml pins {name}=={conda.get(name)}, pyproject {pyproject[name]}"
        assert version(name) == pyproject[name], f"the installed {name} {version(name)} is not the pinned one"


def test_jupyter_lab_runs_from_the_venv():
    jupyter = Path(sys.executable).parent / "jupyter"
    out = subprocess.run([str(jupyter), "lab", "--version"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == version("jupyterlab")


def test_make_help_lists_lab_and_lab_serves_the_checkout_on_notebooks():
    help_text = subprocess.run(["make", "-s", "help"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    help_text = re.sub(r"\x1b\[[0-9;]*m", "", help_text)
    assert re.search(r"^\s*lab\s+open JupyterLab on notebooks/", help_text, re.M)
    dry = subprocess.run(["make", "-n", "lab"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    line = next(x for x in dry.splitlines() if "jupyter lab" in x)
    assert f'--ServerApp.root_dir="{ROOT}"' in line and "--LabApp.default_url=/lab/tree/notebooks" in line
    assert line.startswith("env -u MPLBACKEND")  # inline figures in the lab's kernels
