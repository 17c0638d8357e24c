"""Data flows one way: no geoapp module imports a module of a higher level.

Levels as in docs/architecture.md: utilities → sources (and the catalog loader) →
layers/network/population/zones → coverage/gaps/heritage → maps/export/charts →
workflow/CLI.
"""

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parent.parent / "geoapp"
LEVEL = {
    "errors": 0, "_atomic": 0, "_cache": 0, "crs": 0, "i18n": 0, "styles": 0, "__init__": 0,
    "region": 1, "sources": 1, "catalog": 1,
    "layers": 2, "network": 2, "population": 2, "zones": 2,
    "coverage": 3, "gaps": 3, "heritage": 3,
    "maps": 4, "export": 4, "charts": 4,
    "workflow": 5, "cli": 5,
}  # fmt: skip


def _module(path: Path) -> str:
    return "sources" if "sources" in path.parts else path.stem


def _imported(tree: ast.AST) -> set[str]:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("geoapp"):
            parts = node.module.split(".")
            if len(parts) > 1:
                out.add(parts[1])
            else:
                out.update(a.name for a in node.names)
        elif isinstance(node, ast.Import):
            for a in node.names:
                parts = a.name.split(".")
                if parts[0] == "geoapp" and len(parts) > 1:
                    out.add(parts[1])
    return out


FILES = sorted(PKG.rglob("*.py"))


def test_every_module_has_a_level():
    assert {_module(p) for p in FILES} <= set(LEVEL)


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(PKG)))
def test_no_upward_import(path):
    own = LEVEL[_module(path)]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    upward = {m for m in _imported(tree) if m in LEVEL and LEVEL[m] > own}
    assert not upward, f"{path.name} (level {own}) imports {sorted(upward)}"
