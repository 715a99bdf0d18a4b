"""Find the kit's notebooks by name and execute them with papermill: the notebook is the pipeline.

``notebooks/NN_<name>.ipynb`` is known as ``<name>`` (plus a few short aliases); files starting with ``_`` are
drafts and ignored. An executed copy goes to ``runs/<profile>/notebooks/`` only when every cell ran: a failed
run keeps its partial copy as ``*.failed.ipynb`` beside it, and the error names the notebook and the cell.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

NOTEBOOK_DIR = "notebooks"
ALIASES = {"world": "tiny_world"}
PAPER_OF = {"tiny_world": "world"}  # notebook name -> the runs/<profile>/<paper>/ folder it writes
PROFILES = ("smoke", "tiny", "paper")
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"  # an inherited MPLBACKEND=Agg would drop every figure
_NAME = re.compile(r"^(\d\d)_(.+)\.ipynb$")


class NotebookError(RuntimeError):
    """An unknown notebook name, or a notebook whose cell failed (the message names both)."""


def repo_root() -> Path:
    """The checkout that holds ``notebooks/`` and ``recipes/`` (see ``longthink.config.repo_root``)."""
    from longthink.config import RecipeError, repo_root as find

    try:
        root = find()
    except RecipeError as exc:
        raise NotebookError(str(exc)) from exc
    if not (root / NOTEBOOK_DIR).is_dir():
        raise NotebookError(f"{root} holds recipes/ but no {NOTEBOOK_DIR}/ folder")
    return root


def list_notebooks(root: Path | None = None) -> dict[str, Path]:
    """Known notebooks in run order: ``{"quickstart": .../00_quickstart.ipynb, ...}``."""
    root = root or repo_root()
    found = {}
    for path in sorted((root / NOTEBOOK_DIR).glob("*.ipynb")):
        match = _NAME.match(path.name)
        if match:
            found[match.group(2)] = path
    return found


def paper_of(name: str) -> str:
    """The paper folder a notebook writes its metrics into."""
    key = ALIASES.get(name, name)
    return PAPER_OF.get(key, key)


def find_notebook(name: str, root: Path | None = None) -> Path:
    known = list_notebooks(root)
    key = ALIASES.get(name, name)
    if key not in known:
        names = sorted(set(known) | {a for a, target in ALIASES.items() if target in known})
        raise NotebookError(f"unknown notebook {name!r}; known names: {', '.join(names)}")
    return known[key]


# the recipes a notebook's --set overrides may touch (paper notebooks: their own recipe)
NO_OVERRIDES = {"world": "the worlds are shared by every paper and keyed by their settings: change "
                         "recipes/world.yaml or recipes/world_vision.yaml (or a profile) instead"}


def validate_overrides(name: str, profile: str, overrides: dict) -> None:
    """Load the notebook's recipe under ``profile`` with ``overrides`` (``--set``): a bad key or value is a
    RecipeError naming it, before any work starts."""
    from longthink.config import load_recipe, recipe_path, stage_overrides

    if not overrides:
        return
    paper = paper_of(name)
    if paper in NO_OVERRIDES:
        raise NotebookError(f"`longthink run {name}` takes no --set: {NO_OVERRIDES[paper]}")
    load_recipe(recipe_path(paper), profile=profile, overrides=stage_overrides(overrides))


def check_output_dir(output_dir: str | os.PathLike, root: Path) -> Path:
    """The absolute runs folder, created if needed; an unwritable one is a one-line NotebookError."""
    out = Path(output_dir).expanduser()
    out = out if out.is_absolute() else root / out
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=out, prefix=".write-test.", suffix=".tmp")
        probe.close()
    except OSError as exc:
        raise NotebookError(f"cannot write to the output folder {out}: {exc.strerror or exc}") from None
    return out


def run_notebook(
    name: str,
    *,
    profile: str = "tiny",
    seed: int | None = None,
    output_dir: str = "runs",
    root: Path | None = None,
    progress: bool = True,
    overrides: dict | None = None,
    extra_parameters: dict | None = None,
) -> Path:
    """Execute one notebook with the profile injected; return the executed copy's path.

    ``overrides`` (``{"sft.learning_rate": 1e-4}``, the CLI's ``--set``) reach the notebook as its ``OVERRIDES``
    parameter; ``extra_parameters`` (the CLI's ``-p KEY VALUE``) set any other parameter. The notebook must commit
    its metrics in its last cell; a failure is recorded in ``runs/<profile>/<paper>/status.json`` (the last
    complete ``metrics.json`` stays as it was) and the partial notebook is kept as ``*.failed.ipynb``.
    """
    import papermill as pm

    from longthink.env import kit_environment
    from longthink.processes import PARENT_ENV
    from longthink.runs import Run
    from longthink.widgets import STATIC_ENV as WIDGETS_ENV

    if profile not in PROFILES:
        raise NotebookError(f"unknown profile {profile!r}; known profiles: {', '.join(PROFILES)}")
    root = root or repo_root()
    source = find_notebook(name, root)
    out_dir = check_output_dir(output_dir, root)
    parameters = {"PROFILE": profile, "OUTPUT_DIR": str(output_dir), **(extra_parameters or {})}
    if overrides:
        parameters["OVERRIDES"] = dict(overrides)
    if seed is not None:
        parameters["SEED"] = seed
    final = out_dir / profile / NOTEBOOK_DIR / source.name
    failed = final.with_suffix(".failed.ipynb")
    run = Run(profile, paper_of(name), root=out_dir)
    before = run.read_status().get("run_id")
    final.parent.mkdir(parents=True, exist_ok=True)
    # the kernel inherits these: the backend keeps figures in the notebook; widgets show static output
    env = {**kit_environment(profile), PARENT_ENV: str(os.getpid()), "MPLBACKEND": INLINE_BACKEND,
           WIDGETS_ENV: "static"}
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update({k: v for k, v in env.items() if k == "MPLBACKEND" or k == PARENT_ENV or k not in os.environ})
    with tempfile.TemporaryDirectory(prefix=f".{final.stem}.", suffix=".tmp", dir=final.parent) as tmp:
        executed = Path(tmp) / source.name
        try:
            pm.execute_notebook(
                str(source), str(executed), parameters=parameters, cwd=str(root),
                kernel_name="python3", progress_bar=progress, log_output=False,
            )
        except BaseException as exc:
            if executed.exists():
                os.replace(executed, failed)
            where = (f"cell {exc.cell_index} (execution count {exc.exec_count}) failed with {exc.ename}: {exc.evalue}"
                     if isinstance(exc, pm.PapermillExecutionError) else f"stopped: {type(exc).__name__}: {exc}")
            run.mark_failed(f"{source.name}: {where}")
            if not isinstance(exc, Exception):
                raise
            raise NotebookError(f"{source.relative_to(root)}: {where}. Partial output: {failed}") from exc
        finally:
            for key, value in saved.items():
                _restore(key, value)
        status = run.read_status()
        if status.get("status") != "complete" or status.get("run_id") in (None, before):
            run.mark_failed(f"{source.name}: ran to the end without committing its metrics")
            raise NotebookError(f"{source.relative_to(root)} ran to the end but committed no metrics "
                                f"(its last cell must call finish); see {run.status_path}")
        os.replace(executed, final)  # only a fully executed notebook gets the final name
    failed.unlink(missing_ok=True)
    return final


def _restore(key: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(key, None)
    else:
        os.environ[key] = value
