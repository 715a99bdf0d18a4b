"""A paper's run: ``runs/<profile>/<paper>/``, its stages, its metrics, its status, and the one seed.

:func:`open_paper` is where every paper notebook starts: it loads the paper's recipe under the profile (with the
run's seed and any ``--set`` overrides, validated), sets the seed, and returns a :class:`PaperRun` whose
``stage(...)`` builds or loads a stage keyed on its settings and declared inputs (``longthink.stages``) and whose
``resolve(...)`` reaches a world model or data set of *the same seed* (``longthink.resolver``).

Metrics are committed when a notebook completes, never cell by cell: ``record_metrics`` collects a run's numbers in
a pending file, ``finish`` writes ``metrics.json`` in one atomic step (numbers, environment, the source fingerprint)
and marks the run complete in ``status.json``. An interrupted run leaves the last complete ``metrics.json`` as it
was; the notebook runner marks the failure in ``status.json``, and the report flags it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import platform
import random
import subprocess
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from longthink.files import atomic_write_json
from longthink.stages import Artefact, Stage, StageError, cache_dir, config_hash  # noqa: F401 (re-exported)

METRICS_FILE = "metrics.json"
PENDING_FILE = ".metrics.pending.json"
STATUS_FILE = "status.json"
KEY_PLOT = "key_plot.png"  # a paper's key plot, shown beside its table in REPORT.md


class RunError(RuntimeError):
    """A run folder is corrupted or a metric cannot be stored; the message names the file."""


# ----------------------------------------------------------------------------------------------------- seeding
def set_seed(seed: int) -> None:
    """One seed for python, numpy, torch and the hash seed of data shuffles."""
    import numpy as np
    import torch

    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TypeError(f"seed must be an int, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)


# ------------------------------------------------------------------------------------------------------- runs
def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise RunError(f"corrupted run file {path}: {exc}; delete it to start over") from exc


class Run:
    """``runs/<profile>/<paper>/``: its stage folders, ``metrics.json`` and ``status.json``."""

    def __init__(self, profile: str, paper: str, root: str | os.PathLike = "runs"):
        self.profile, self.paper = profile, paper
        self.dir = Path(root) / profile / paper

    def stage(self, name: str, settings: Any, inputs: Mapping[str, Artefact | str] | None = None) -> Stage:
        return Stage(self.dir / name, name, settings, inputs)

    @property
    def metrics_path(self) -> Path:
        return self.dir / METRICS_FILE

    @property
    def status_path(self) -> Path:
        return self.dir / STATUS_FILE

    def read_metrics(self) -> dict:
        """The last committed metrics (``{"metrics": {}}`` if none)."""
        return _read_json(self.metrics_path) if self.metrics_path.exists() else {"metrics": {}}

    def read_status(self) -> dict:
        return _read_json(self.status_path) if self.status_path.exists() else {}

    def start(self, *, seed: int | None = None) -> None:
        """A new run of the notebook begins: forget uncommitted numbers, say so in ``status.json``."""
        (self.dir / PENDING_FILE).unlink(missing_ok=True)
        atomic_write_json(self.status_path, {"status": "running", "run_id": uuid.uuid4().hex, "started": _now(),
                                             "seed": seed})

    def record_metrics(self, metrics: Mapping[str, Any], *, seed: int | None = None) -> Path:
        """Add flat ``<paper>/<metric>`` numbers to this run's pending metrics (committed by :meth:`finish`)."""
        clean: dict[str, float] = {}
        for key, value in metrics.items():
            full = key if "/" in key else f"{self.paper}/{key}"
            if hasattr(value, "item"):
                value = value.item()
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise RunError(f"metric {full!r} must be a number, got {value!r}")
            clean[full] = value
        pending = self.dir / PENDING_FILE
        data = _read_json(pending) if pending.exists() else {"metrics": {}}
        data["metrics"].update(clean)
        if seed is not None:
            data["seed"] = seed
        return atomic_write_json(pending, data)

    def finish(self, metrics: Mapping[str, Any] | None = None, *, seed: int | None = None,
               notebook: str | None = None) -> Path:
        """Commit the pending metrics (plus ``metrics``) as ``metrics.json`` in one step; the run is complete."""
        if metrics:
            self.record_metrics(metrics, seed=seed)
        pending = self.dir / PENDING_FILE
        if not pending.exists():
            raise RunError(f"{self.dir}: no metrics were recorded in this run; nothing to commit")
        data = _read_json(pending)
        seed = data.get("seed", seed)
        out = {"metrics": data["metrics"], "environment": environment_snapshot(seed=seed, profile=self.profile),
               "fingerprint": source_fingerprint(notebook), "recorded_at": _now()}
        path = atomic_write_json(self.metrics_path, out)
        pending.unlink(missing_ok=True)
        atomic_write_json(self.status_path, {**self.read_status(), "status": "complete",
                                             "finished": out["recorded_at"], "seed": seed})
        return path

    def mark_failed(self, error: str) -> None:
        """The notebook stopped: keep the last complete metrics, record the failure beside them."""
        (self.dir / PENDING_FILE).unlink(missing_ok=True)
        atomic_write_json(self.status_path, {**self.read_status(), "status": "failed", "finished": _now(),
                                             "error": error})


def _umask() -> int:
    old = os.umask(0)
    os.umask(old)
    return old


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


# ------------------------------------------------------------------------------------------------ paper runs
@dataclasses.dataclass
class PaperRun:
    """One run of a paper's notebook: the validated recipe, profile, seed, the run folder and its stages."""

    paper: str
    recipe: Any  # longthink.config.Recipe
    profile: str
    seed: int
    run: Run

    def settings(self, name: str):
        """The validated settings of recipe stage ``name`` (kit keys and TRL fields)."""
        return self.recipe.stage(name)

    def stage(self, name: str, build, *, inputs: Mapping[str, Artefact] | None = None, settings: Any = None,
              folder: str | None = None) -> Artefact:
        """Build or load stage ``name`` into ``runs/<profile>/<paper>/<folder or name>/``.

        Its key holds ``settings`` (default: the recipe stage's full settings), the run's seed and the keys of
        ``inputs`` (the stages, world models and data sets it reads), nothing else.
        """
        return self._stage(name, inputs, settings, folder).run(build)

    def built(self, name: str, *, inputs: Mapping[str, Artefact] | None = None, settings: Any = None,
              folder: str | None = None) -> bool:
        """Whether :meth:`stage` with these arguments would load a stored build instead of building."""
        return self._stage(name, inputs, settings, folder).complete

    def _stage(self, name: str, inputs, settings, folder) -> Stage:
        if settings is None:
            settings = self.recipe.stage(name).as_dict()
        return self.run.stage(folder or name, {"settings": settings, "seed": self.seed}, inputs)

    def resolve(self, ref: str, *, kind: str = "model"):
        """A world model / data set / tool (``world:instruct``, ``world:hard``, ...) of this run's profile and seed,
        or a hub id or local folder (``longthink.resolver``)."""
        from longthink.resolver import resolve

        return resolve(ref, kind=kind, profile=self.profile, seed=self.seed)

    def record_metrics(self, metrics: Mapping[str, Any]) -> Path:
        return self.run.record_metrics(metrics, seed=self.seed)

    def save_key_plot(self, fig) -> Path:
        """Save ``fig`` as this paper's key plot, shown beside its table in ``REPORT.md``."""
        import tempfile

        self.run.dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{KEY_PLOT}.", suffix=".tmp", dir=self.run.dir)
        os.close(fd)
        try:
            fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
            os.chmod(tmp, 0o666 & ~_umask())
            os.replace(tmp, self.run.dir / KEY_PLOT)
        finally:
            Path(tmp).unlink(missing_ok=True)
        return self.run.dir / KEY_PLOT

    def finish(self, metrics: Mapping[str, Any] | None = None) -> Path:
        """Commit this run's metrics (the last cell of a notebook)."""
        return self.run.finish(metrics, seed=self.seed, notebook=self.paper)


def open_paper(paper: str, profile: str = "tiny", *, seed: int = 0, output_dir: str | os.PathLike = "runs",
               overrides: Mapping[str, Any] | None = None, recipe: str | os.PathLike | None = None) -> PaperRun:
    """Load ``recipes/<paper>.yaml`` under ``profile`` (``--set`` style ``overrides``: ``{"sft.learning_rate": 1e-4}``
    or ``{"stages.sft.learning_rate": ...}``), set the seed and the environment, open the run folder.

    A relative ``output_dir`` is taken from the repository root, as ``longthink run`` takes it: a notebook opened in
    JupyterLab runs in ``notebooks/``, and its runs must land in the same ``runs/`` as the command line's."""
    from longthink.config import load_recipe, recipe_path, repo_root, stage_overrides
    from longthink.env import configure

    configure(profile)
    output_dir = Path(output_dir).expanduser()
    output_dir = output_dir if output_dir.is_absolute() else repo_root() / output_dir
    loaded = load_recipe(recipe_path(recipe or paper), profile=profile,
                         overrides={"seed": seed, **stage_overrides(overrides or {})})
    set_seed(loaded.seed)
    run = Run(profile, paper, root=output_dir)
    run.start(seed=loaded.seed)
    return PaperRun(paper, loaded, profile, loaded.seed, run)


# ------------------------------------------------------------------------------------------------ environment
def environment_snapshot(*, seed: int | None = None, profile: str | None = None) -> dict:
    """Versions, seed, git commit and device: what a reader needs to trust a number."""
    from importlib.metadata import PackageNotFoundError, version

    packages = {}
    for name in ("torch", "transformers", "trl", "datasets", "accelerate", "peft", "math-verify"):
        try:
            packages[name] = version(name)
        except PackageNotFoundError:
            packages[name] = None
    try:
        import torch

        device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else f"cpu ({os.cpu_count()} cores)"
    except Exception:  # pragma: no cover - torch is a hard dependency
        device = "unknown"
    return {
        "python": platform.python_version(),
        "packages": packages,
        "seed": seed,
        "profile": profile,
        "git_commit": git_commit(),
        "device": device,
        "platform": platform.platform(),
    }


def source_fingerprint(notebook: str | None = None) -> str:
    """A hash of what produced a run: the library's source, the recipes and (if known) the paper's notebook.

    The report compares it with today's to tell a current result from a stale one.
    """
    from longthink.config import repo_root

    root = repo_root()
    files = sorted((root / "utils" / "longthink").rglob("*.py")) + sorted((root / "recipes").rglob("*.yaml"))
    if notebook:
        files += sorted((root / "notebooks").glob(f"[0-9][0-9]_*{notebook}*.ipynb"))
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def git_commit() -> str | None:
    from longthink.config import RecipeError, repo_root

    try:
        cwd = repo_root()
    except RecipeError:
        cwd = None
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, check=False,
                             cwd=cwd)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None
