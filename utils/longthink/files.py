"""Files that cannot lie: atomic writes, folder checksums, one lock per cache entry, and temp-folder cleanup.

Every artefact of the kit (a stage's folder under ``runs/``, a world model under ``$LONGTHINK_CACHE``) is built in a
temp folder beside its final place (``.<name>.<random>.tmp``) and renamed into place only when complete, so an
interrupted build never leaves something that looks finished. What was written is listed with a SHA-256 per file
(:func:`manifest`), and :func:`verify` re-reads it before the artefact is used again: a file overwritten in place or
cut short is caught, not loaded. A build holds an exclusive lock on ``.<name>.lock`` beside its folder, so two
processes never build the same entry at once (the second waits, then finds it built). Files and folders get the
permissions the user's umask allows (temp files start owner-only; a cache shared by a class must stay readable).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

TEMP_SUFFIX = ".tmp"
LOCK_SUFFIX = ".lock"
_CHUNK = 1 << 20


def _umask() -> int:
    old = os.umask(0)
    os.umask(old)
    return old


def _honour_umask(path: Path, *, folder: bool) -> None:
    """Give a temp file or folder the permissions a plain ``open``/``mkdir`` would have had."""
    mode = (0o777 if folder else 0o666) & ~_umask()
    os.chmod(path, mode)


def temp_name(final: Path) -> str:
    return f".{final.name}."


# ----------------------------------------------------------------------------------------------- atomic writes
def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to a temp file beside ``path``, then rename: readers never see half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=temp_name(path), suffix=TEMP_SUFFIX, dir=path.parent)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        _honour_umask(Path(tmp), folder=False)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return path


def _json_default(obj: Any) -> Any:
    if hasattr(obj, "item"):  # numpy / torch scalars
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"cannot store a {type(obj).__name__} in JSON")


def atomic_write_json(path: str | os.PathLike, obj: Any) -> Path:
    return atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=_json_default) + "\n")


@contextlib.contextmanager
def atomic_dir(final: str | os.PathLike) -> Iterator[Path]:
    """Yield a temp folder beside ``final``; on success it replaces ``final``, on error it is removed."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=temp_name(final), suffix=TEMP_SUFFIX, dir=final.parent))
    _honour_umask(tmp, folder=True)
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if final.exists():
        trash = final.with_name(f".{final.name}.old-{os.getpid()}{TEMP_SUFFIX}")
        os.replace(final, trash)
        os.replace(tmp, final)
        shutil.rmtree(trash, ignore_errors=True)
    else:
        os.replace(tmp, final)


# ------------------------------------------------------------------------------------------------------ locks
def write_jsonl(path: str | os.PathLike, rows) -> None:
    """One JSON object per line (a stage's rows, written inside the stage's temp folder)."""
    Path(path).write_text("".join(json.dumps(r, default=str) + "\n" for r in rows))  # any other value as its text


def read_jsonl(path: str | os.PathLike) -> list[dict]:
    """The rows of a JSON-lines file (blank lines skipped)."""
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]


def lock_path(final: str | os.PathLike) -> Path:
    final = Path(final)
    return final.with_name(f".{final.name}{LOCK_SUFFIX}")


@contextlib.contextmanager
def entry_lock(final: str | os.PathLike, *, what: str | None = None) -> Iterator[None]:
    """Hold the exclusive lock of the cache entry ``final`` (waiting, with one message, if another process has it).

    ``flock`` locks die with their process, so a killed build never leaves a stale lock behind.
    """
    path = lock_path(final)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"waiting for another process to finish building {what or Path(final).name} ({final})",
                  file=sys.stderr, flush=True)
            fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def is_locked(final: str | os.PathLike) -> bool:
    """True while some process holds the entry's lock (it is building right now)."""
    path = lock_path(final)
    if not path.exists():
        return False
    with open(path, "a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(fh, fcntl.LOCK_UN)
    return False


# -------------------------------------------------------------------------------------------------- checksums
def sha256(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def manifest(folder: str | os.PathLike, *, exclude: tuple[str, ...] = ()) -> dict[str, dict[str, Any]]:
    """``{relative path: {"size", "sha256"}}`` of every file under ``folder`` (sorted, symlinks followed)."""
    folder = Path(folder)
    out = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder).as_posix()
        if rel in exclude:
            continue
        out[rel] = {"size": path.stat().st_size, "sha256": sha256(path)}
    return out


_VERIFIED: dict[tuple[str, int, int], str] = {}  # (path, size, mtime_ns) -> sha256 seen by this process


def verify(folder: str | os.PathLike, expected: dict[str, dict[str, Any]]) -> list[str]:
    """Problems with ``folder`` against its manifest: missing, resized or changed files (empty list: intact).

    Each file is hashed once per process while its size and modification time stay the same, so a stage read by
    several cells is not re-hashed each time; a write to the file changes its mtime and forces a new hash.
    """
    folder = Path(folder)
    problems = []
    for rel, spec in expected.items():
        path = folder / rel
        if not path.is_file():
            problems.append(f"{rel}: missing")
            continue
        st = path.stat()
        if st.st_size != spec["size"]:
            problems.append(f"{rel}: {st.st_size} bytes, {spec['size']} written")
            continue
        memo = (str(path), st.st_size, st.st_mtime_ns)
        digest = _VERIFIED.get(memo) or sha256(path)
        if digest != spec["sha256"]:
            problems.append(f"{rel}: contents changed since it was written (checksum mismatch)")
            continue
        _VERIFIED[memo] = digest
    return problems


# ---------------------------------------------------------------------------------------------------- cleanup
def temp_leftovers(root: str | os.PathLike) -> list[Path]:
    """Temp files and folders under ``root`` that a killed run left behind (none whose build is still running)."""
    root = Path(root)
    if not root.exists():
        return []
    found = []
    for path in root.rglob(f".*{TEMP_SUFFIX}"):
        if any(parent in found for parent in path.parents):
            continue
        base = path.name[1 : -len(TEMP_SUFFIX)].rsplit(".", 1)[0]  # .<name>.<random>.tmp -> <name>
        if is_locked(path.with_name(base)):
            continue
        found.append(path)
    return found


def remove_leftovers(root: str | os.PathLike) -> list[Path]:
    """Delete :func:`temp_leftovers` under ``root``; returns what was removed."""
    removed = []
    for path in temp_leftovers(root):
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        removed.append(path)
    return removed
