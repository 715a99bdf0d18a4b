"""Run folders, caching by config hash, atomic writes, metrics and the one seed.

Every stage writes into ``runs/<profile>/<paper>/<stage>/``. A stage folder is complete when it holds
``stage.json`` whose ``hash`` matches the stage's settings; the folder is built in a sibling temp folder and
renamed into place only when the stage function returns, so an interrupted run never leaves a folder that
looks complete. The same mechanism caches the tiny world's models under ``$LONGTHINK_CACHE``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import platform
import random
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

STAGE_FILE = "stage.json"
RESULT_FILE = "result.json"
METRICS_FILE = "metrics.json"


class RunError(RuntimeError):
    """A run folder is corrupted or a stage produced something that cannot be stored."""


# ----------------------------------------------------------------------------------------------------- hashing
def _canonical(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return _canonical(dataclasses.asdict(obj))
    if isinstance(obj, Mapping):
        return {str(k): _canonical(v) for k, v in sorted(obj.items(), key=lambda kv: str(kv[0]))}
    if isinstance(obj, (list, tuple)):
        return [_canonical(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, float) and obj.is_integer():
        return int(obj)  # 1e-5 and 0.00001 hash alike; 2.0 and 2 too
    return obj


def config_hash(obj: Any, length: int = 12) -> str:
    """A short, stable hash of a settings object (dicts, lists, dataclasses, scalars)."""
    text = json.dumps(_canonical(obj), sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:length]


# ----------------------------------------------------------------------------------------------- atomic writes
def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to a temp file beside ``path``, then rename: readers never see half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return path


def atomic_write_json(path: str | os.PathLike, obj: Any) -> Path:
    return atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=_json_default) + "\n")


def _json_default(obj: Any) -> Any:
    if hasattr(obj, "item"):  # numpy / torch scalars
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"cannot store a {type(obj).__name__} in JSON")


@contextlib.contextmanager
def atomic_dir(final: str | os.PathLike) -> Iterator[Path]:
    """Yield a temp folder beside ``final``; on success it replaces ``final``, on error it is removed."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if final.exists():
        trash = final.with_name(f".{final.name}.old-{os.getpid()}")
        os.replace(final, trash)
        os.replace(tmp, final)
        shutil.rmtree(trash, ignore_errors=True)
    else:
        os.replace(tmp, final)


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


# ------------------------------------------------------------------------------------------------------ stages
class Stage:
    """One stage's folder: complete when ``stage.json`` carries the hash of the current settings."""

    def __init__(self, path: Path, name: str, settings: Any):
        self.dir = Path(path)
        self.name = name
        self.settings = _canonical(settings)
        self.hash = config_hash(self.settings)

    def _record(self) -> dict | None:
        marker = self.dir / STAGE_FILE
        if not marker.exists():
            return None
        try:
            return json.loads(marker.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise RunError(
                f"corrupted run folder {self.dir}: {STAGE_FILE} is not valid JSON ({exc}); "
                f"delete the folder to rebuild the stage"
            ) from exc

    @property
    def complete(self) -> bool:
        record = self._record()
        return record is not None and record.get("hash") == self.hash

    def result(self) -> dict:
        """The stored result of a complete stage."""
        if not self.complete:
            raise RunError(f"stage {self.name!r} in {self.dir} is not complete for hash {self.hash}")
        path = self.dir / RESULT_FILE
        try:
            return json.loads(path.read_text()) if path.exists() else {}
        except json.JSONDecodeError as exc:
            raise RunError(f"corrupted run folder {self.dir}: {RESULT_FILE} is not valid JSON ({exc})") from exc

    def run(self, fn: Callable[[Path], dict | None], *, force: bool = False) -> dict:
        """Return the stored result, or call ``fn(tmp_dir)`` and store what it writes and returns, atomically."""
        if self.complete and not force:
            return self.result()
        with atomic_dir(self.dir) as tmp:
            result = fn(tmp) or {}
            if not isinstance(result, dict):
                raise RunError(f"stage {self.name!r} must return a dict, got {type(result).__name__}")
            atomic_write_json(tmp / RESULT_FILE, result)
            atomic_write_json(tmp / STAGE_FILE, {"name": self.name, "hash": self.hash, "settings": self.settings})
        return result


def cached_build(root: str | os.PathLike, name: str, config: Any, build: Callable[[Path], dict | None]) -> Path:
    """Build into ``root/<name>-<hash>`` once; later calls with the same config return the folder."""
    stage = Stage(Path(root) / f"{name}-{config_hash(config)}", name, config)
    stage.run(build)
    return stage.dir


def cache_dir() -> Path:
    """``$LONGTHINK_CACHE``, by default ``~/.cache/longthink``: where the tiny world's models live."""
    return Path(os.environ.get("LONGTHINK_CACHE") or Path.home() / ".cache" / "longthink").expanduser()


# ------------------------------------------------------------------------------------------------------- runs
class Run:
    """``runs/<profile>/<paper>/``: its stages and its ``metrics.json``."""

    def __init__(self, profile: str, paper: str, root: str | os.PathLike = "runs"):
        self.profile, self.paper = profile, paper
        self.dir = Path(root) / profile / paper

    def stage(self, name: str, settings: Any) -> Stage:
        return Stage(self.dir / name, name, settings)

    @property
    def metrics_path(self) -> Path:
        return self.dir / METRICS_FILE

    def read_metrics(self) -> dict:
        if not self.metrics_path.exists():
            return {"metrics": {}}
        try:
            return json.loads(self.metrics_path.read_text())
        except json.JSONDecodeError as exc:
            raise RunError(f"corrupted metrics file {self.metrics_path}: {exc}") from exc

    def record_metrics(self, metrics: Mapping[str, float], *, seed: int | None = None) -> Path:
        """Merge flat ``<paper>/<metric>`` numbers into metrics.json, with an environment snapshot."""
        clean: dict[str, float] = {}
        for key, value in metrics.items():
            full = key if "/" in key else f"{self.paper}/{key}"
            if hasattr(value, "item"):
                value = value.item()
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise RunError(f"metric {full!r} must be a number, got {value!r}")
            clean[full] = value
        data = self.read_metrics()
        data.setdefault("metrics", {}).update(clean)
        data["environment"] = environment_snapshot(seed=seed, profile=self.profile)
        return atomic_write_json(self.metrics_path, data)


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


def git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None
