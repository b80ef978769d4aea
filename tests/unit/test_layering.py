"""Imports point downward only: domain imports nothing of ours from a layer above it, nor any I/O library."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "truceline"
LAYERS = {"domain": 0, "adapters": 1, "services": 2, "api": 3, "cli": 3}
# defusedxml: the standard library's XML parser with DTDs and entities refused (parsing bytes, no I/O)
DOMAIN_MAY_IMPORT = {"shapely", "pyproj", "h3", "numpy", "numba", "cryptography", "defusedxml", "truceline"}


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


@pytest.mark.parametrize("layer", sorted(LAYERS))
def test_layers_import_downward_only(layer: str) -> None:
    files = list((SRC / layer).rglob("*.py"))
    assert files
    for f in files:
        for name in _imports(f):
            parts = name.split(".")
            if parts[0] == "truceline" and len(parts) > 1 and parts[1] in LAYERS:
                assert LAYERS[parts[1]] <= LAYERS[layer], f"{f.relative_to(SRC)} imports {name}"


def test_domain_uses_only_pure_libraries() -> None:
    import sys

    for f in (SRC / "domain").rglob("*.py"):
        for name in _imports(f):
            top = name.split(".")[0]
            assert top in DOMAIN_MAY_IMPORT or top in sys.stdlib_module_names or top == "__future__", (
                f"{f.name} imports {name}"
            )
