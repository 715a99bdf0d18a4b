"""The house's walls: the folder is the import name, the worlds are reached only through the resolver, and the two
worlds share only the tokenizer module."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "utils" / "longthink"
WORLDS = ("longthink.text_world", "longthink.vision_world")


def _module(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
            out |= {f"{node.module}.{a.name}" for a in node.names}
    return out


def _graph() -> dict[str, set[str]]:
    return {_module(p): {i for i in _imports(p) if i.startswith("longthink")} for p in PACKAGE.rglob("*.py")}


def test_the_folder_is_the_import_name():
    out = subprocess.run([sys.executable, "-c", "import longthink.s1.sft, longthink.thinklogit.pipeline, "
                          "longthink.text_world.models, longthink.vision_world.vlm; print(longthink.s1.sft.__file__)"],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip().endswith("utils/longthink/s1/sft.py")
    pyproject = (PACKAGE.parents[1] / "pyproject.toml").read_text()
    assert 'package-dir = { "" = "utils" }' in pyproject


def test_no_module_outside_a_world_imports_it():
    bad = {mod: sorted(i for i in imports if i.startswith(WORLDS))
           for mod, imports in _graph().items() if not mod.startswith(WORLDS)}
    bad = {mod: imports for mod, imports in bad.items() if imports}
    assert not bad, f"reach the worlds through longthink.resolver, not by import: {bad}"


def test_the_worlds_share_only_the_tokenizer():
    for mod, imports in _graph().items():
        for world, other in ((WORLDS[0], WORLDS[1]), (WORLDS[1], WORLDS[0])):
            if mod.startswith(world):
                assert not any(i.startswith(other) for i in imports), f"{mod} imports the other world: {imports}"
