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


def run_notebook(
    name: str,
    *,
    profile: str = "tiny",
    seed: int | None = None,
    output_dir: str = "runs",
    root: Path | None = None,
    progress: bool = True,
    extra_parameters: dict | None = None,
) -> Path:
    """Execute one notebook with the profile injected; return the executed copy's path."""
    import papermill as pm

    if profile not in PROFILES:
        raise NotebookError(f"unknown profile {profile!r}; known profiles: {', '.join(PROFILES)}")
    root = root or repo_root()
    source = find_notebook(name, root)
    parameters = {"PROFILE": profile, "OUTPUT_DIR": output_dir, **(extra_parameters or {})}
    if seed is not None:
        parameters["SEED"] = seed
    out_dir = Path(output_dir) if Path(output_dir).is_absolute() else root / output_dir
    final = out_dir / profile / NOTEBOOK_DIR / source.name
    failed = final.with_suffix(".failed.ipynb")
    _set_kernel_env()
    final.parent.mkdir(parents=True, exist_ok=True)
    saved_backend = os.environ.get("MPLBACKEND")
    os.environ["MPLBACKEND"] = INLINE_BACKEND  # the kernel inherits it: figures land in the executed notebook
    with tempfile.TemporaryDirectory(prefix=f".{final.stem}.", dir=final.parent) as tmp:
        executed = Path(tmp) / source.name
        try:
            pm.execute_notebook(
                str(source), str(executed), parameters=parameters, cwd=str(root),
                kernel_name="python3", progress_bar=progress, log_output=False,
            )
        except pm.PapermillExecutionError as exc:
            if executed.exists():
                os.replace(executed, failed)
            raise NotebookError(
                f"{source.relative_to(root)}: cell {exc.cell_index} (execution count {exc.exec_count}) failed "
                f"with {exc.ename}: {exc.evalue}. Partial output: {failed}"
            ) from exc
        finally:
            _restore("MPLBACKEND", saved_backend)
        os.replace(executed, final)  # only a fully executed notebook gets the final name
    failed.unlink(missing_ok=True)
    return final


def _restore(key: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(key, None)
    else:
        os.environ[key] = value


def _set_kernel_env() -> None:
    """The kernel inherits these: offline hub, quiet tokenizers, the repo on the import path of tools."""
    for key, value in {
        "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false", "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    }.items():
        os.environ.setdefault(key, value)
